package routes

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/heraldproject/herald/sinks"
)

// Check validates snap as Apply does (validate, strict), without a pipeline: each Receiver is
// resolved and its sink built (env.CheckOnly: nothing is sent) and closed, each Route compiled
// and its Receivers looked up. With objs nil (no cluster), ${KEY}s are filled with a
// placeholder, so the URI's shape is checked but not the Secret. It returns each object's
// status in snap's order, Receivers first, for herald check, and the sinks' warnings.
func Check(snap Snapshot, objs Objects, env sinks.Env, heraldNS, prefix string, labelsOf LabelsFunc) (statuses []Status, warnings []string) {
	v := validator{objs: objs, prefix: prefix, heraldNS: heraldNS, labels: labelsOf, env: env, strict: true}
	if objs == nil {
		v.objs = standIn(snap)
	}
	if labelsOf == nil { // the selector's syntax is checked; no object is read
		v.labels = func(corev1.ObjectReference) (map[string]string, error) { return nil, nil }
	}
	recvs, routes := v.validate(snap)
	for _, c := range recvs {
		if c.status != nil {
			statuses = append(statuses, *c.status)
			continue
		}
		b := c.fresh.b
		_ = b.Sink.Close()
		c.fresh.cancel()
		warnings = append(warnings, b.Warnings...)
		r := c.r
		st := Status{Kind: "Receiver", Namespace: r.Namespace, Name: r.Name, Generation: r.Generation,
			Ready: true, Reason: "Ready", Message: "delivers to " + b.Redacted, SinkID: b.ID}
		if objs == nil && r.Spec.SecretRef != nil {
			st.Message += fmt.Sprintf(" (Secret %s/%s not read: no cluster; ${KEY}s were filled with a stand-in value)", r.Namespace, r.Spec.SecretRef.Name)
		}
		statuses = append(statuses, st)
	}
	for _, c := range routes {
		statuses = append(statuses, c.status)
	}
	return statuses, warnings
}

// standIn answers every Secret with a stand-in value for each ${KEY} of snap's Receivers, for
// a check without a cluster.
func standIn(snap Snapshot) fixedSecret {
	data := fixedSecret{}
	for _, r := range snap.Receivers {
		for _, m := range placeholder.FindAllStringSubmatch(r.Spec.Sink, -1) {
			data[m[1]] = []byte("herald-check-stand-in")
		}
	}
	return data
}

// fixedSecret answers every Secret with the same data.
type fixedSecret map[string][]byte

func (f fixedSecret) Secret(string, string) (map[string][]byte, error) { return f, nil }
