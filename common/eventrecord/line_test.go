package eventrecord_test

import (
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/common/eventrecord"
	"github.com/heraldproject/herald/core"
)

// Line is the Event's JSON without managedFields, plus cluster and restart, on one line; the
// shared event is not changed.
func TestLine(t *testing.T) {
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "web-1.1", Namespace: "shop", ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubelet"}}},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web-1", Namespace: "shop"},
		Reason:         "BackOff", Message: "a <b> & c\nd", Type: corev1.EventTypeWarning, Count: 3,
	}
	e := &core.Event{Event: ev, Cluster: "prod-eu", Restart: &core.PodRestart{Pod: "web-1", Container: "app", RestartCount: 4}}
	b, err := eventrecord.Line(e)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsRune(string(b), '\n') {
		t.Errorf("line %q holds a newline", b)
	}
	if !strings.Contains(string(b), `"message":"a <b> & c\nd"`) {
		t.Errorf("line %s: want the message with < > & unescaped", b)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	meta, _ := got["metadata"].(map[string]any)
	restart, _ := got["restart"].(map[string]any)
	switch {
	case got["cluster"] != "prod-eu", got["reason"] != "BackOff", got["count"] != 3.0:
		t.Errorf("line %s: want cluster, reason and count", b)
	case meta == nil || meta["name"] != "web-1.1" || meta["managedFields"] != nil:
		t.Errorf("line %s: want metadata without managedFields", b)
	case restart == nil || restart["Container"] != "app":
		t.Errorf("line %s: want the restart", b)
	case got["schema"] != nil:
		t.Errorf("line %s names a schema; that is Record's", b)
	}
	if len(ev.ManagedFields) != 1 {
		t.Error("Line changed the shared event's managedFields")
	}
	e.Cluster, e.Restart = "", nil
	if b, _ = eventrecord.Line(e); strings.Contains(string(b), `"cluster"`) || strings.Contains(string(b), `"restart"`) {
		t.Errorf("line %s: want no cluster or restart when there are none", b)
	}
}
