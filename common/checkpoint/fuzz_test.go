package checkpoint

import (
	"testing"
	"time"
)

// FuzzDecode: any bytes in the checkpoint file or ConfigMap (a truncated write, a hand edit,
// another program's data) decode to a checkpoint or a *DecodeError, never a panic; what decodes
// encodes and decodes again to the same positions.
func FuzzDecode(f *testing.F) {
	f.Add(Encode(Checkpoint{ResourceVersion: 42, Sinks: map[string]uint64{"name=a": 40, "webhook:0123456789abcdef": 41},
		Scopes: map[string]uint64{"": 42}, Time: time.Unix(1700000000, 0), Restarts: map[string]int32{"ns/p/c": 3}, RestartsTracked: true}))
	f.Add([]byte(`{"version":1,"resourceVersion":"7"}`))
	f.Add([]byte(`{"version":3,"resourceVersion":"-1","sinks":{"a":"x"}}`))
	f.Add([]byte(`{`))
	f.Add([]byte{0xff, 0xfe, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Decode(b)
		if err != nil {
			if _, ok := err.(*DecodeError); !ok {
				t.Fatalf("error %T, want *DecodeError", err)
			}
			return
		}
		again, err := Decode(Encode(c))
		if err != nil {
			t.Fatalf("a decoded checkpoint does not decode after Encode: %v", err)
		}
		if again.ResourceVersion != c.ResourceVersion || len(again.Sinks) != len(c.Sinks) {
			t.Fatalf("round trip changed the positions: %+v -> %+v", c, again)
		}
	})
}
