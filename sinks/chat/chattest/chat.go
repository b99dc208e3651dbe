package chattest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/common/httpx/httpxtest"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

// Chat is a chat sink with a fake of the service it posts to, for the tests that Discord,
// Slack and Teams share.
type Chat[S Sink, M any] struct {
	Kind[S]
	// Fake starts a fake service and returns it and the --sink value that posts to it, with
	// params (a query without '?', "" for none) added.
	Fake func(t testing.TB, params string) (*Receiver[M], string)
	// Account reads a message back: the pods it names, and how many more events it only counts.
	Account func(t testing.TB, m M) (named []string, counted int)
}

// WithParams adds params (a query without '?', "" for none) to the URL u, which may have a
// query already.
func WithParams(u, params string) string {
	switch {
	case params == "":
		return u
	case strings.Contains(u, "?"):
		return u + "&" + params
	}
	return u + "?" + params
}

// Send starts a fake service, builds the sink through the registry with params and env to
// post to it, exports events as one batch and fails t unless that succeeds and the service
// refused nothing. It returns the fake and the messages it accepted.
func (c Chat[S, M]) Send(t testing.TB, params string, env sinks.Env, events ...*core.Event) (*Receiver[M], []Received[M]) {
	t.Helper()
	f, value := c.Fake(t, params)
	s := Build(t, value, env)
	if err := s.Export(context.Background(), events); err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	f.NoProblems(t)
	got := f.Messages()
	if len(got) == 0 {
		t.Fatalf("the %s receiver got no message", c.Name)
	}
	return f, got
}

// TestPacedStorm sends 1,000 Warning events through the sink as core's pipeline would (Storm,
// on a fake clock), one every 120 ms and one every 5 ms. The service must see at most 20
// messages in any 60 seconds, each within its limits (the fake checks them), and every event
// must be named or counted exactly once. params are the sink's parameters.
func (c Chat[S, M]) TestPacedStorm(t *testing.T, params string) {
	for _, spacing := range []time.Duration{120 * time.Millisecond, 5 * time.Millisecond} {
		t.Run("one event every "+spacing.String(), func(t *testing.T) { c.pacedStorm(t, params, spacing) })
	}
}

func (c Chat[S, M]) pacedStorm(t *testing.T, params string, spacing time.Duration) {
	clk := clocktesting.NewFakeClock(Start)
	f, value := c.Fake(t, params)
	f.Now = clk.Now
	s := c.Build(t, value, sinks.Env{Cluster: "prod"}, clk)

	const n = 1000
	events := StormEvents(n, Start, spacing)
	res := Storm(t, clk, s, events, 500, 30*time.Minute)
	if len(res.Errors) > 0 || res.Delivered != n {
		t.Fatalf("%s: delivered %d of %d, errors %v", c.Name, res.Delivered, n, res.Errors)
	}

	f.NoProblems(t)
	msgs := f.Messages()
	sent := make([]Sent, len(msgs))
	for i, m := range msgs {
		named, more := c.Account(t, m.Message)
		sent[i] = Sent{Named: named, More: more, At: m.At}
	}
	named, counted, worst := CheckAccounted(t, n, 20, sent)
	t.Logf("%s: %d events over %s became %d messages in %d exports (at most %d in any minute), %d named, %d counted",
		c.Name, n, events[n-1].Observed.Sub(Start), len(msgs), res.Exports, worst, named, counted)
}

// DigestAccounts sends a batch of 500 events (LongStorm) through the registry with params to a
// fake service, and fails t unless it becomes one digest that names at least minNamed of them
// and names or counts every one. It returns the digest for the sink's own checks.
func (c Chat[S, M]) DigestAccounts(t *testing.T, params string, minNamed int) Received[M] {
	t.Helper()
	events := LongStorm(500)
	_, got := c.Send(t, params, sinks.Env{Cluster: "prod"}, events...)
	if len(got) != 1 {
		t.Fatalf("%s: a batch of 500 became %d messages, want one digest", c.Name, len(got))
	}
	named, counted := c.Account(t, got[0].Message)
	if len(named)+counted != len(events) {
		t.Errorf("%s: the digest names %d events and counts %d more: %d, want %d", c.Name, len(named), counted, len(named)+counted, len(events))
	}
	if len(named) < minNamed {
		t.Errorf("%s: the digest names only %d events, want at least %d", c.Name, len(named), minNamed)
	}
	return got[0]
}

// TestPreviewIsTheBodySent fails t unless the sink's preview of e is, as JSON, the body it
// posts for e.
func (c Chat[S, M]) TestPreviewIsTheBodySent(t *testing.T, e *core.Event) {
	t.Helper()
	f, value := c.Fake(t, "")
	s := Build(t, value, sinks.Env{})
	preview, err := s.(sinks.Previewer).Preview(e)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Export(context.Background(), []*core.Event{e}); err != nil {
		t.Fatal(err)
	}
	f.NoProblems(t)
	var a, b any
	if err := json.Unmarshal([]byte(preview), &a); err != nil {
		t.Fatalf("%s: preview is not JSON: %v", c.Name, err)
	}
	if err := json.Unmarshal(f.Messages()[0].Body, &b); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("%s: preview\n%s\ndiffers from the body sent\n%s", c.Name, preview, f.Messages()[0].Body)
	}
}

// TestConfigErrors fails t unless building each case's value (its first string) through the
// registry fails with an error that holds its second string, names the sink (--sink #1
// (scheme)) and shows none of secrets.
func (k Kind[S]) TestConfigErrors(t *testing.T, cases [][2]string, secrets ...string) {
	t.Helper()
	for _, c := range cases {
		value, want := c[0], c[1]
		_, err := sinks.Build(1, value, sinks.Env{Ctx: context.Background()})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", value, err, want)
			continue
		}
		if !strings.Contains(err.Error(), "--sink #1 ("+k.Scheme+")") {
			t.Errorf("%s: the error does not name the sink: %v", value, err)
		}
		httpxtest.AssertNoSecret(t, err, secrets...)
	}
}

// TestParseErrors fails t unless parsing and building each case's value (its first string)
// without the registry (TryBuild, with env) fails with an error that holds its second string.
func (k Kind[S]) TestParseErrors(t *testing.T, env sinks.Env, cases [][2]string) {
	t.Helper()
	for _, c := range cases {
		_, err := k.TryBuild(c[0], env, clocktesting.NewFakeClock(Start))
		if err == nil || !strings.Contains(err.Error(), c[1]) {
			t.Errorf("%s:\n got %v\nwant %q", c[0], err, c[1])
		}
	}
}

// BenchmarkDigestWorstCase merges a full batch (500 events in 50 namespaces) whose messages
// are at chat's 64 KiB cap into one digest, in the sink built from value.
func (k Kind[S]) BenchmarkDigestWorstCase(b *testing.B, value string) {
	s := k.Build(b, value, sinks.Env{Cluster: "prod"}, nil)
	events := make([]*core.Event, 500)
	for i := range events {
		events[i] = Event(fmt.Sprintf("ns-%d", i%50), fmt.Sprintf("pod-%d", i), fmt.Sprint("Reason", i%3), strings.Repeat("容器😀<&>", 8000))
	}
	b.ResetTimer()
	for range b.N {
		if _, err := s.PreviewDigest(events); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzLayouts renders arbitrary event text (the fuzz arguments message, reason, namespace
// string and n, groups uint16; f's seeds are the caller's) through the sink built from value: a single event,
// a restart (FuzzRestart) and a digest of up to 600 events in up to 50 namespaces. check
// checks a body the way the service does and decodes it; the digest must name or count each
// event once (Account). digest, when not nil, checks what else the sink's digest must hold.
func (c Chat[S, M]) FuzzLayouts(f *testing.F, value string, check func(t *testing.T, body []byte) M, digest func(t *testing.T, m M)) {
	f.Fuzz(func(t *testing.T, message, reason, namespace string, n, groups uint16) {
		s := c.Build(t, value, sinks.Env{Cluster: "prod"}, nil)

		single, err := s.Preview(Event(namespace, "web-1", reason, message))
		if err != nil {
			t.Fatalf("preview: %v", err)
		}
		check(t, []byte(single))
		restart, err := s.Preview(FuzzRestart(message, reason))
		if err != nil {
			t.Fatalf("restart preview: %v", err)
		}
		check(t, []byte(restart))

		count := int(n%600) + 1
		events := make([]*core.Event, count)
		for i := range events {
			events[i] = Event(fmt.Sprintf("%s-%d", namespace, i%(int(groups%50)+1)), fmt.Sprintf("pod-%d", i), reason+fmt.Sprint(i%3), message)
			events[i].LastTimestamp = metav1.NewTime(LastSeen.Add(time.Duration(i) * time.Second))
		}
		d, err := s.PreviewDigest(events)
		if err != nil {
			t.Fatalf("digest: %v", err)
		}
		m := check(t, []byte(d))
		if digest != nil {
			digest(t, m)
		}
		named, counted := c.Account(t, m)
		if len(named)+counted != count {
			t.Errorf("%s: the digest names %d and counts %d events, want %d in all", c.Name, len(named), counted, count)
		}
	})
}
