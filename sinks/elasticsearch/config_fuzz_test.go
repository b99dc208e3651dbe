package elasticsearch

import (
	"strings"
	"testing"

	"github.com/heraldproject/herald/sinks"
)

// FuzzBuild feeds arbitrary queries to the sink's parameter parsing: it must not panic, and a
// password given in esUserSecret must never appear in an error or in the redacted value.
func FuzzBuild(f *testing.F) {
	for _, q := range []string{
		"index=kube-%25Y.%25m.%25d&template=true",
		"nodes=http://a:9200&nodes=https://b:9200&use_namespace=true",
		"index=logs&data_stream=true&pipeline=p",
		"ver=6&maxRetries=99&timeout=0",
		"index=%25Q&cacert=/nope",
	} {
		f.Add(q)
	}
	const secret = "Zz9-secret-Zz9"
	f.Fuzz(func(t *testing.T, q string) {
		raw := "elasticsearch:http://127.0.0.1:9200?" + q + "&esUserName=u&esUserSecret=" + secret
		b, err := sinks.Build(1, raw, sinks.Env{CheckOnly: true})
		if err != nil {
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error leaks the password: %v", err)
			}
			return
		}
		defer b.Sink.Close()
		if strings.Contains(b.Redacted, secret) {
			t.Fatalf("redacted value leaks the password: %s", b.Redacted)
		}
		s := b.Sink.(*Sink)
		name := expandIndex(s.cfg.Index, "", t0)
		if !s.cfg.DataStream && (name == "" || strings.ContainsAny(name, `\/*?"<>| ,#:`) || name != strings.ToLower(name)) {
			t.Fatalf("accepted index pattern %q yields %q", s.cfg.Index, name)
		}
	})
}
