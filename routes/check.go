package routes

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/heraldproject/herald/sinks"
)

// Check validates snap as Apply would, without a pipeline: each Receiver is resolved and its
// sink built (env.CheckOnly: nothing is sent) and closed, each Route compiled and its
// Receivers looked up. With objs nil (no cluster), ${KEY}s are filled with a placeholder, so
// the URI's shape is checked but not the Secret. It returns each object's status, for herald
// check, and the sinks' warnings.
func Check(snap Snapshot, objs Objects, env sinks.Env, heraldNS, prefix string, labelsOf LabelsFunc) (statuses []Status, warnings []string) {
	ready := map[string]bool{}
	for i := range snap.Receivers {
		r := &snap.Receivers[i]
		st := Status{Kind: "Receiver", Namespace: r.Namespace, Name: r.Name, Generation: r.Generation}
		o := objs
		if o == nil {
			data := map[string][]byte{}
			for _, m := range placeholder.FindAllStringSubmatch(r.Spec.Sink, -1) {
				data[m[1]] = []byte("herald-check-stand-in")
			}
			o = fixedSecret(data)
		}
		res, err := resolveReceiver(r, o, prefix)
		if err != nil {
			st.Reason, st.Message = "InvalidSpec", err.Error()
			statuses = append(statuses, st)
			continue
		}
		b, err := sinks.BuildAs(res.origin, res.raw, env)
		if err != nil {
			st.Reason, st.Message = "SinkInvalid", err.Error()
			statuses = append(statuses, st)
			continue
		}
		_ = b.Sink.Close()
		warnings = append(warnings, b.Warnings...)
		st.Ready, st.Reason, st.Message, st.SinkID = true, "Ready", "delivers to "+b.Redacted, b.ID
		if objs == nil && r.Spec.SecretRef != nil {
			st.Message += fmt.Sprintf(" (Secret %s/%s not read: no cluster; ${KEY}s were filled with a stand-in value)", r.Namespace, r.Spec.SecretRef.Name)
		}
		ready[r.Namespace+"/"+r.Name] = true
		statuses = append(statuses, st)
	}
	for i := range snap.Routes {
		r := &snap.Routes[i]
		st := Status{Kind: "Route", Namespace: r.Namespace, Name: r.Name, Generation: r.Generation}
		if labelsOf == nil { // the selector's syntax is checked; no object is read
			labelsOf = func(corev1.ObjectReference) (map[string]string, error) { return nil, nil }
		}
		if _, err := compileRoute(r, heraldNS, labelsOf); err != nil {
			st.Reason, st.Message = "InvalidSpec", err.Error()
			statuses = append(statuses, st)
			continue
		}
		var missing []string
		for _, name := range r.Spec.Receivers {
			if !ready[r.Namespace+"/"+name] {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			st.Reason, st.Message = "ReceiverNotFound", fmt.Sprintf("spec.receivers: no working Receiver %v in namespace %s", missing, r.Namespace)
		} else {
			st.Ready, st.Reason, st.Message = true, "Ready", fmt.Sprintf("selects events for %v", r.Spec.Receivers)
		}
		statuses = append(statuses, st)
	}
	return statuses, warnings
}

// fixedSecret answers every Secret with the same data, for a check without a cluster.
type fixedSecret map[string][]byte

func (f fixedSecret) Secret(string, string) (map[string][]byte, error) { return f, nil }
