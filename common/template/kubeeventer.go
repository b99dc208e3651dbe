package template

// KubeEventerDefault is kube-eventer's default webhook body (sinks/webhook/webhook.go,
// docs/en/webhook-sink.md), byte for byte. herald's webhook sink uses it when no template is
// given, so receivers built for kube-eventer keep working. In JSON mode every value is escaped,
// so unlike kube-eventer (which deletes the quotes from .Message) the message arrives whole.
const KubeEventerDefault = `
{
	"EventType": "{{ .Type }}",
	"EventKind": "{{ .InvolvedObject.Kind }}",
	"EventReason": "{{ .Reason }}",
	"EventTime": "{{ .LastTimestamp }}",
	"EventMessage": "{{ .Message }}"
}`
