package chat

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/core"
)

// ev builds a Warning event about a pod at t0+sec seconds.
func ev(ns, name, reason, msg string, sec int) *core.Event {
	return &core.Event{Event: &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: ns, Name: name + ".1"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: name},
		Reason:         reason,
		Message:        msg,
		Type:           "Warning",
		Count:          1,
		LastTimestamp:  metav1.NewTime(t0.Add(time.Duration(sec) * time.Second)),
	}}
}

// textLayout is a digest layout as a sink writes one: text lines, sent as {"text":"..."}; the
// limit applies to the text's bytes.
func textLayout(v *View) ([]byte, int, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %d events in %d groups\n", v.Cluster, v.Events, len(v.Digest.Groups))
	for _, g := range v.Groups {
		fmt.Fprintf(&b, "%s in %s ×%d\n", g.Reason, g.Namespace, len(g.Events))
		for _, f := range g.Shown {
			fmt.Fprintf(&b, "- %s: %s\n", f.Object(), f.Message)
		}
		if g.More > 0 {
			fmt.Fprintf(&b, "  … and %d more\n", g.More)
		}
	}
	if v.HiddenGroups > 0 {
		fmt.Fprintf(&b, "… and %d more in %d other groups\n", v.HiddenEvents, v.HiddenGroups)
	}
	text := b.String()
	body, err := json.Marshal(map[string]string{"text": text})
	return body, len(text), err
}

func singleLayout(f Fields) ([]byte, int, error) {
	text := fmt.Sprintf("[%s] %s %s\n%s\n%s", f.Cluster, f.Reason, f.Object(), f.When(), f.Message)
	body, err := json.Marshal(map[string]string{"text": text})
	return body, len(text), err
}
