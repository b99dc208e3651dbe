package sls_test

import (
	"context"
	"strings"
	"testing"

	"github.com/heraldproject/herald/sinks"
)

// FuzzSinkValue builds the sink from arbitrary parameters: it never panics, and an error never
// shows the AccessKey.
func FuzzSinkValue(f *testing.F) {
	for _, s := range []string{
		"project=k8s-log&logStore=k8s-event&regionId=cn-hangzhou&label=ClusterId,c1",
		"project=k8s-log&logStore=k8s-event&endpoint=cn-hangzhou.log.aliyuncs.com&internal=false",
		"project=A&logStore=&endpoint=ftp://x&label=a,b,c",
		"project=k8s-log&logStore=k8s-event&endpoint=http://127.0.0.1:1/x?y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		const id, secret = "AKID-FUZZ-123456", "SECRET-FUZZ-123456"
		b, err := sinks.Build(1, "sls:x?accessKeyId="+id+"&accessKeySecret="+secret+"&"+query, sinks.Env{Ctx: context.Background(), CheckOnly: true})
		if err != nil {
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), id) {
				t.Fatalf("error shows the AccessKey: %v", err)
			}
			return
		}
		_ = b.Sink.Close()
	})
}
