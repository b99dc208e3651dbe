package elasticsearch

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/core"
)

var zeroTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// expandIndex replaces %Y %m %d %H (and %%) in pattern with t in UTC; a non-empty namespace is
// inserted before the date part, as kube-eventer's use_namespace did (INDEX-NAMESPACE-DATE).
func expandIndex(pattern, namespace string, t time.Time) string {
	if namespace != "" {
		if i := strings.IndexByte(pattern, '%'); i >= 0 {
			prefix := strings.TrimRight(pattern[:i], "-_.")
			pattern = prefix + "-" + namespace + pattern[len(prefix):]
		} else {
			pattern += "-" + namespace
		}
	}
	if !strings.Contains(pattern, "%") {
		return pattern
	}
	t = t.UTC()
	var b strings.Builder
	b.Grow(len(pattern) + 8)
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c != '%' || i+1 >= len(pattern) {
			b.WriteByte(c)
			continue
		}
		i++
		switch pattern[i] {
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(pattern[i])
		}
	}
	return b.String()
}

// count is the event's occurrence count (the series count for events.k8s.io-style events).
func count(e *core.Event) int32 {
	if e.Series != nil && e.Series.Count > e.Count {
		return e.Series.Count
	}
	return e.Count
}

// docID is the document _id: the event's uid and count, so a retried or replayed batch
// overwrites the same documents instead of adding new ones. An event without a uid (not from
// the API server) gets a hash of what identifies it.
func docID(e *core.Event) string {
	uid := string(e.UID)
	if uid == "" {
		h := sha256.Sum256([]byte(e.Namespace + "/" + e.Name + "/" + e.Key() + "/" + e.Reason + "/" + e.LastSeen(e.CreationTimestamp.Time).UTC().Format(time.RFC3339Nano)))
		uid = hex.EncodeToString(h[:12])
	}
	if e.Restart != nil {
		// One report per restart count of one container.
		return uid + "-r" + strconv.Itoa(int(e.Restart.RestartCount))
	}
	return uid + "-" + strconv.Itoa(int(count(e)))
}

// eventDoc is kube-eventer's document (its EsSinkPoint), so existing dashboards and queries keep
// working, plus @timestamp for Kibana and data streams.
type eventDoc struct {
	Timestamp                time.Time              `json:"@timestamp"`
	Count                    int32                  `json:"Count"`
	Metadata                 metav1.ObjectMeta      `json:"Metadata"`
	InvolvedObject           corev1.ObjectReference `json:"InvolvedObject"`
	Source                   corev1.EventSource     `json:"Source"`
	FirstOccurrenceTimestamp time.Time              `json:"FirstOccurrenceTimestamp"`
	LastOccurrenceTimestamp  time.Time              `json:"LastOccurrenceTimestamp"`
	Message                  string                 `json:"Message"`
	Reason                   string                 `json:"Reason"`
	Type                     string                 `json:"Type"`
	EventTags                map[string]string      `json:"EventTags"`
}

// restartDoc is a pod restart in the crash-monitor's field names (created_at in epoch ms).
type restartDoc struct {
	Timestamp        time.Time `json:"@timestamp"`
	Namespace        string    `json:"namespace"`
	PodName          string    `json:"pod_name"`
	ContainerName    string    `json:"container_name"`
	CreatedAt        int64     `json:"created_at"`
	ClusterName      string    `json:"cluster_name"`
	Logs             string    `json:"logs"`
	RestartCount     int32     `json:"restart_count"`
	TerminationState string    `json:"termination_state"`
	ExitCode         *int32    `json:"exit_code,omitempty"`
	Node             string    `json:"node,omitempty"`
	OwnerKind        string    `json:"owner_kind,omitempty"`
	OwnerName        string    `json:"owner_name,omitempty"`
	Reason           string    `json:"reason"`
	Message          string    `json:"message"`
}

// document is what herald indexes for e.
func document(e *core.Event, cluster string) any {
	last := e.LastSeen(e.CreationTimestamp.Time).UTC()
	if r := e.Restart; r != nil {
		d := restartDoc{
			Timestamp:     last,
			Namespace:     r.Namespace,
			PodName:       r.Pod,
			ContainerName: r.Container,
			CreatedAt:     last.UnixMilli(),
			ClusterName:   cluster,
			Logs:          r.PreviousLog,
			RestartCount:  r.RestartCount,
			Node:          r.Node,
			OwnerKind:     r.OwnerKind,
			OwnerName:     r.OwnerName,
			Reason:        e.Reason,
			Message:       e.Message,
		}
		if d.Logs == "" && r.LogNote != "" {
			d.Logs = r.LogNote
		}
		if ls := r.LastState; ls != nil {
			d.TerminationState = ls.Reason
			code := ls.ExitCode
			d.ExitCode = &code
			if d.TerminationState == "" {
				d.TerminationState = "Error"
			}
		}
		return d
	}
	meta := e.ObjectMeta // a copy: the shared event is not touched
	meta.ManagedFields = nil
	tags := map[string]string{
		"eventID":      string(e.UID),
		"cluster_name": cluster,
		"hostname":     e.Source.Host,
	}
	if e.InvolvedObject.Kind == "Pod" {
		tags["pod_id"] = string(e.InvolvedObject.UID)
		tags["pod_name"] = e.InvolvedObject.Name
	}
	first := e.FirstTimestamp.Time.UTC()
	if first.IsZero() {
		first = last
	}
	return eventDoc{
		Timestamp:                last,
		Count:                    count(e),
		Metadata:                 meta,
		InvolvedObject:           e.InvolvedObject,
		Source:                   e.Source,
		FirstOccurrenceTimestamp: first,
		LastOccurrenceTimestamp:  last,
		Message:                  e.Message,
		Reason:                   e.Reason,
		Type:                     e.Type,
		EventTags:                tags,
	}
}
