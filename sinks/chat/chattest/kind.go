package chattest

import (
	"context"
	"flag"
	"os"
	"testing"
	"time"

	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

// Main is every chat sink test package's TestMain: it sends glog to stderr (by default it
// writes log files into the temp directory) and runs the tests.
func Main(m *testing.M) {
	_ = flag.Set("logtostderr", "true")
	os.Exit(m.Run())
}

// Sink is a chat sink that shows what it would post.
type Sink interface {
	core.Sink
	Preview(e *core.Event) (string, error)
	PreviewDigest(events []*core.Event) (string, error)
}

// Kind is one chat sink as the shared tests see it: its scheme, its parameters, and how to
// build it from a parsed --sink value without the registry, so that a test can set its clock
// and call its own methods (Preview, PreviewDigest).
type Kind[S Sink] struct {
	// Scheme is the sink's --sink scheme ("discord"); Name is the service it posts to
	// ("Discord"), for failure messages.
	Scheme, Name string
	// Params are the sink's own parameters (discord.Params).
	Params []uri.Param
	// New parses target and builds the sink, pacing and signing on clk when clk is not nil.
	New func(target sinks.Target, env sinks.Env, clk clock.Clock) (S, error)
}

// Builder makes a Kind's New from a sink's ParseConfig and New, and setClock, which sets
// the clock in the parsed config.
func Builder[C, S any](parse func(sinks.Target, sinks.Env) (C, error), newSink func(C, sinks.Env) (S, error), setClock func(C, clock.Clock)) func(sinks.Target, sinks.Env, clock.Clock) (S, error) {
	return func(target sinks.Target, env sinks.Env, clk clock.Clock) (S, error) {
		cfg, err := parse(target, env)
		if err != nil {
			var none S
			return none, err
		}
		if clk != nil {
			setClock(cfg, clk)
		}
		return newSink(cfg, env)
	}
}

// ParseTarget parses a --sink value the way sinks.Build does, for a sink's ParseConfig: the
// common parameters (level, namespaces, ...) are read, as the registry reads them.
func (k Kind[S]) ParseTarget(value string) (sinks.Target, error) {
	u, err := uri.Parse("sink", value)
	if err != nil {
		return sinks.Target{}, err
	}
	spec := append(append([]uri.Param{}, sinks.CommonParams...), k.Params...)
	p := uri.NewParams("--sink #1 ("+k.Scheme+")", u.Target.Query(), spec)
	for _, c := range sinks.CommonParams {
		p.Has(c.Name)
	}
	return sinks.Target{ID: k.Scheme + "#1", URL: u.Target, Params: p}, nil
}

// Target is ParseTarget that fails t on an error.
func (k Kind[S]) Target(t testing.TB, value string) sinks.Target {
	t.Helper()
	target, err := k.ParseTarget(value)
	if err != nil {
		t.Fatal(err)
	}
	return target
}

// TryBuild parses value and builds the sink with env (its context and location filled in as
// Build does) on clk, which may be nil for the real clock.
func (k Kind[S]) TryBuild(value string, env sinks.Env, clk *clocktesting.FakeClock) (S, error) {
	target, err := k.ParseTarget(value)
	if err != nil {
		var none S
		return none, err
	}
	if env.Ctx == nil {
		env.Ctx = context.Background()
	}
	if env.Location == nil {
		env.Location = time.UTC
	}
	var c clock.Clock
	if clk != nil {
		c = clk
	}
	return k.New(target, env, c)
}

// Build is TryBuild that fails t on an error and closes the sink at cleanup.
func (k Kind[S]) Build(t testing.TB, value string, env sinks.Env, clk *clocktesting.FakeClock) S {
	t.Helper()
	s, err := k.TryBuild(value, env, clk)
	if err != nil {
		t.Fatalf("building %s: %v", value, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
