package alertmanager_test

import (
	"context"
	"strings"
	"testing"

	"github.com/heraldproject/herald/sinks"
)

// FuzzSinkValue builds the sink from arbitrary parameters: it never panics, and an error never
// shows the token.
func FuzzSinkValue(f *testing.F) {
	for _, s := range []string{
		"severity=BackOff:critical,*:warning&resolve_timeout=10m",
		"label=team=shop&label=a-b=c&generator_url=http://x",
		"severity=:&resolve_timeout=-1s&label==",
		"severity=a:b:c&severity=*:&levl=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		const secret = "tok-FUZZSECRET-1"
		b, err := sinks.Build(1, "alertmanager:http://127.0.0.1:9/?token="+secret+"&"+query, sinks.Env{Ctx: context.Background(), CheckOnly: true})
		if err != nil {
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error shows the token: %v", err)
			}
			return
		}
		_ = b.Sink.Close()
	})
}
