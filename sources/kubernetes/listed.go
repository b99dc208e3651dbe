package kubernetes

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// listedEvent is what herald keeps, while the initial list streams in, of an event it will
// only record and never deliver: every event listed at start-up, or, when resuming from a
// checkpoint, every event written at or below it. client-go's reflector collects a streamed list
// (WatchList) whole in a temporary store before it calls Replace, so the store's transformer
// turns such events into this as they arrive: about 150 bytes each in place of the decoded
// event (a kilobyte or more), which is garbage at once. The pod history takes its copy of a
// Pod's event in the transformer, where Replace would have.
type listedEvent struct {
	namespace, name string // the reflector's temporary store keys objects by namespace/name
	key             uidKey
	state           state
	created         int64 // creationTimestamp in Unix nanoseconds, 0 if unset (checkSince reads it)
}

// GetObjectMeta makes a listedEvent a metav1.ObjectMetaAccessor, which is what the reflector's
// temporary store needs to key it.
func (l *listedEvent) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{Namespace: l.namespace, Name: l.name}
}

// transform is the store's cache.TransformFunc. Every event loses its managedFields; during the
// initial list, an event that will only be recorded becomes a listedEvent. A relist (after a
// 410 Gone) keeps whole events: what is new in it is delivered.
func (s *store) transform(obj any) (any, error) {
	ev, ok := obj.(*corev1.Event)
	if !ok || ev == nil {
		return obj, nil
	}
	trimEvent(ev)
	if ev.UID == "" {
		return ev, nil // Replace skips it, and says why
	}
	s.mu.RLock()
	synced, since := s.synced, s.since
	s.mu.RUnlock()
	if synced || (since != nil && resourceVersion(ev) > since.ResourceVersion) {
		return ev, nil
	}
	s.remember(ev)
	l := &listedEvent{namespace: ev.Namespace, name: ev.Name, key: keyOf(ev.UID), state: stateOf(ev)}
	if t := ev.CreationTimestamp.Time; !t.IsZero() {
		l.created = t.UnixNano()
	}
	return l, nil
}
