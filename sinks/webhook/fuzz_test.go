package webhook_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/heraldproject/herald/sinks"
)

// FuzzSinkURI feeds arbitrary query strings to the webhook's URI parsing: it must answer with a
// sink or an error naming the sink, never panic, and never quote a header value in an error.
func FuzzSinkURI(f *testing.F) {
	for _, seed := range []string{
		"level=Normal&method=POST&header=Content-Type=application/json",
		"header=A=b=c&header=X-Token=SECRETVALUE&token=abc",
		"header==&header=%00=1&method=&levl=x",
		"body_template=%7B%7B%20.Nope%20%7D%7D&timeout=-1s",
		"custom_body_configmap=x&header=Host=example",
	} {
		f.Add(seed)
	}
	env := sinks.Env{Ctx: context.Background(), Location: time.UTC}
	f.Fuzz(func(t *testing.T, query string) {
		b, err := sinks.Build(1, "webhook:http://127.0.0.1:9/x?"+query+"&header=X-Fuzz=SECRETVALUE", env)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "--sink #1 (webhook)") && !strings.HasPrefix(err.Error(), "--sink=webhook:") {
				t.Fatalf("error does not name the sink: %v", err)
			}
			if strings.Contains(err.Error(), "SECRETVALUE") && !strings.Contains(query, "SECRETVALUE") {
				t.Fatalf("error quotes a header value: %v", err)
			}
			return
		}
		_ = b.Sink.Close()
	})
}
