package grafana_test

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
		"tags=k8s,herald&dashboard_uid=k8s&panel_id=4&org_id=2",
		"panel_id=4",
		"tags=&panel_id=-1&org_id=x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		const secret = "tok-FUZZSECRET-1"
		b, err := sinks.Build(1, "grafana:http://127.0.0.1:9/?token="+secret+"&"+query, sinks.Env{Ctx: context.Background(), CheckOnly: true})
		if err != nil {
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error shows the token: %v", err)
			}
			return
		}
		_ = b.Sink.Close()
	})
}
