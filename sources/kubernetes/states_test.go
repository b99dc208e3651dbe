package kubernetes

import "k8s.io/apimachinery/pkg/types"

// counts returns the count the store remembers for every tracked event, by UID.
func (s *store) counts() map[types.UID]int32 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[types.UID]int32, s.states.len())
	for k, v := range s.states.uuids {
		out[types.UID(k.String())] = v.count
	}
	for k, v := range s.states.others {
		out[types.UID(k)] = v.count
	}
	return out
}

// tracks reports whether any of the source's watches remembers uid.
func (s *Source) tracks(uid types.UID) bool {
	for _, w := range s.watches {
		if _, ok := w.store.counts()[uid]; ok {
			return true
		}
	}
	return false
}
