package kubernetes

import (
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
)

func TestUIDKeysRoundTrip(t *testing.T) {
	for range 100 {
		uid := uuid.NewUUID() // what the API server assigns
		k := keyOf(uid)
		if k.other != "" {
			t.Fatalf("%s not stored compactly", uid)
		}
		if k.UID() != uid {
			t.Fatalf("round trip %s -> %s", uid, k.UID())
		}
	}
	for _, uid := range []types.UID{
		"custom", "AAAAAAAA-0000-4000-8000-000000000001", "{00000000-0000-4000-8000-000000000001}",
		"00000000-0000-4000-8000-00000000000g", "00000000x0000-4000-8000-000000000001", "00000000-0000-4000-8000-0000000000011",
	} {
		k := keyOf(uid)
		if k.other != string(uid) || k.UID() != uid {
			t.Errorf("%q: key %+v, back %q; want it kept as text", uid, k, k.UID())
		}
	}
}

func FuzzUIDKey(f *testing.F) {
	f.Add("00000000-0000-4000-8000-000000000001")
	f.Add("custom")
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" {
			return
		}
		if got := keyOf(types.UID(s)).UID(); got != types.UID(s) {
			t.Fatalf("%q came back as %q", s, got)
		}
	})
}
