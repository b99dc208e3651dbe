package all_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/chat/chattest"
	"github.com/heraldproject/herald/sinks/sinktest"
)

// fuzzSecret is the secret FuzzSinkValue puts in a sink's secret place.
const fuzzSecret = "FuzzSecret-Qq7Zz9"

// digester is what the chat sinks add to sinks.Previewer: the digest a batch is merged into.
type digester interface {
	PreviewDigest(events []*core.Event) (string, error)
}

// FuzzSinkValue builds any --sink value through sinks.Build, the entry point herald, herald
// check and herald migrate use, for every sink type at once, and renders fuzzed events through
// what it built. With place < len(sinktest.Places()), the value is that secret place of its sink
// holding fuzzSecret, followed by "&" and the fuzzed parameters; otherwise it is the fuzzed value
// alone. Always: no panic, an error names the --sink, and the secret appears in no error,
// warning, printed value, checkpoint key or preview.
//
// This one target stands in, in make test, for the per-sink targets (sinks/*/fuzz_test.go, which
// make fuzz runs): one instrumented test binary instead of thirteen.
func FuzzSinkValue(f *testing.F) {
	places := sinktest.Places()
	free := uint8(255) // any value: not a place
	for _, d := range sinks.All() {
		f.Add(free, d.Example, "Back-off restarting failed container")
	}
	for _, v := range []string{
		"webhook:http://127.0.0.1:9/x?header==&header=%00=1&method=&levl=x",
		"webhook:http://127.0.0.1:9/x?body_template=%7B%7B%20.Nope%20%7D%7D&timeout=-1s",
		"mysql:?u:p@tcp(127.0.0.1:1)/db?table=db.t&level=Normal&parseTime=true",
		"kubernetes:https://h",
		"slack:%zz",
		"wechat:?corp_id=&agent_id=x",
	} {
		f.Add(free, v, "x")
	}
	// Per sink type, the parameters its own fuzz target starts from.
	queries := map[string][]string{
		"alertmanager":  {"severity=BackOff:critical,*:warning&resolve_timeout=10m", "label=team=shop&label=a-b=c&generator_url=http://x", "severity=:&resolve_timeout=-1s&label==", "severity=a:b:c&severity=*:&levl=1"},
		"grafana":       {"tags=k8s,herald&dashboard_uid=k8s&panel_id=4&org_id=2", "tags=&panel_id=-1&org_id=x"},
		"sls":           {"label=ClusterId,c1", "endpoint=cn-hangzhou.log.aliyuncs.com&internal=false", "logStore=&endpoint=ftp://x&label=a,b,c"},
		"influxdb":      {"db=k8s&user=u&retention=autogen", "bucket=db/rp&withfields=false&measurement=events", "db=a&bucket=b&timeout=0"},
		"elasticsearch": {"index=kube-%25Y.%25m.%25d&template=true", "nodes=http://a:9200&nodes=https://b:9200&use_namespace=true", "index=logs&data_stream=true&pipeline=p", "ver=6&maxRetries=99&timeout=0", "index=%25Q&cacert=/nope"},
		"mysql":         {"table=db.t&parseTime=true", "tabel=x&levl=Warning", "table="},
		"webhook":       {"header=A=b=c&header=X-Token=SECRETVALUE&token=abc", "body_template=%7B%7B%20.Nope%20%7D%7D&timeout=-1s", "custom_body_configmap=x&header=Host=example"},
		"slack":         {"mentions=here,S0123ABC", "body_template=%7B%22text%22%3A%22%7B%7B%20.Message%20%7D%7D%22%7D"},
		"teams":         {"mentions=a@b.c"},
		"discord":       {"mentions=here,role:234567890123456789"},
		"dingtalk":      {"msg_type=markdown&at_mobiles=138&cluster_id=c&region=r"},
		"feishu":        {"msg_type=text&at_all=true&label=L"},
		"wechat":        {"msg_type=markdown&mentioned_list=a,@all"},
		"kafka":         {"sasl_mechanism=PLAIN&tls=false", "compression=zstd&brokers=127.0.0.1:2"},
		"honeycomb":     {"dataset=&writekey="},
	}
	// Each baseline input costs the fuzzer tens of milliseconds in a binary this large (it moves
	// the whole coverage map), so a scheme's queries go with its first place only.
	seen := map[string]bool{}
	for i, p := range places {
		f.Add(uint8(i), "level=Warning", "message \"quoted\"\nline 2 中文")
		if seen[p.Scheme] {
			continue
		}
		seen[p.Scheme] = true
		for _, q := range queries[p.Scheme] {
			f.Add(uint8(i), q, "x")
		}
	}
	if len(places) >= int(free) {
		f.Fatalf("%d places: the free-form index %d is one of them", len(places), free)
	}
	env := sinks.Env{Ctx: context.Background(), Location: time.UTC, CheckOnly: true}
	f.Fuzz(func(t *testing.T, place uint8, value, message string) {
		raw, secret := value, ""
		if int(place) < len(places) {
			raw, secret = places[place].Sink("127.0.0.1:9", fuzzSecret)+"&"+value, fuzzSecret
		}
		if strings.Contains(value, fuzzSecret) {
			secret = "" // the fuzzed part holds it too: it may be shown as any other value
		}
		leaks := func(what, text string) {
			if secret != "" && strings.Contains(text, secret) {
				t.Fatalf("%s shows the secret of %s:\n%s", what, places[place], text)
			}
		}
		b, err := sinks.Build(1, raw, env)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "--sink") {
				t.Fatalf("the error does not name the --sink: %v", err)
			}
			leaks("the error", err.Error())
			return
		}
		defer b.Sink.Close()
		leaks("the printed value", b.Redacted)
		// Not LegacyKey: only looked up in the checkpoints of earlier versions, never written.
		leaks("the checkpoint key", b.Key+" "+b.ID)
		leaks("a warning", strings.Join(b.Warnings, "\n"))

		if p, ok := b.Sink.(sinks.Previewer); ok {
			e := template.SampleEvent()
			e.Message = message
			for _, ev := range []*core.Event{e, chattest.FuzzRestart(message, "BackOff")} {
				out, err := p.Preview(ev)
				if err != nil {
					out += "\n" + err.Error()
				}
				leaks("the preview", out)
			}
		}
		if d, ok := b.Sink.(digester); ok {
			out, err := d.PreviewDigest(chattest.FuzzEvents(message, "BackOff", "web", 3))
			if err != nil {
				out += "\n" + err.Error()
			}
			leaks("the digest preview", out)
		}
	})
}
