package influxdb

import (
	"strings"
	"testing"

	"github.com/heraldproject/herald/sinks"
)

// FuzzBuild feeds arbitrary queries to the sink's parameter parsing: it must not panic, and a
// password or token must never appear in an error or in the redacted value.
func FuzzBuild(f *testing.F) {
	for _, q := range []string{
		"db=k8s&user=u&retention=autogen",
		"org=o&bucket=b",
		"bucket=db/rp&withfields=false&measurement=events",
		"db=a&bucket=b&timeout=0",
	} {
		f.Add(q)
	}
	const secret = "Qq7-secret-Qq7"
	f.Fuzz(func(t *testing.T, q string) {
		for _, raw := range []string{
			"influxdb:http://127.0.0.1:8086?" + q + "&pw=" + secret,
			"influxdb:http://127.0.0.1:8086?" + q + "&token=" + secret,
		} {
			b, err := sinks.Build(1, raw, sinks.Env{CheckOnly: true})
			if err != nil {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error leaks the secret: %v", err)
				}
				continue
			}
			if strings.Contains(b.Redacted, secret) {
				t.Fatalf("redacted value leaks the secret: %s", b.Redacted)
			}
			_ = b.Sink.Close()
		}
	})
}
