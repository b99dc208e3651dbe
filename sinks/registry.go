// Package sinks is the registry of sink types. Each sink package registers a Definition in its
// init; cmd/herald builds sinks from --sink values through Build and never names a sink type.
package sinks

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/textproto"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/heraldproject/herald/common/redact"
	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks/filter"
)

// Env is what a sink factory gets besides its URI.
type Env struct {
	// Ctx lives as long as the process; watches (ConfigMap templates) stop when it is done.
	Ctx context.Context
	// Kube is the cluster client; nil when no cluster is configured (herald check offline).
	Kube kubernetes.Interface
	// Cluster is --cluster-name.
	Cluster string
	// Location is --timezone, for rendering times.
	Location *time.Location
	// TemplateMetrics counts template reloads; nil counts nothing.
	TemplateMetrics *template.Metrics
	// CheckOnly is set by herald check: validate and prepare, but connect to nothing and write
	// nothing (no table creation, no producer).
	CheckOnly bool
	// Now is the clock a sink reads (events without a time, pacing, credential renewal); nil
	// is time.Now. Tests inject theirs here rather than through a constructor argument.
	Now func() time.Time
}

// Clock returns the clock a sink reads: env.Now, or time.Now when none is set.
func (e Env) Clock() func() time.Time {
	if e.Now != nil {
		return e.Now
	}
	return time.Now
}

// Target is one --sink value, parsed.
type Target struct {
	// ID names this sink in logs and metrics: the name= parameter, or "scheme#N" for the Nth --sink.
	ID string
	// URL is the part after "scheme:", ${ENV} expanded. Its query holds the parameters; a sink
	// that sends to URL must strip them (see StripParams).
	URL *url.URL
	// Params reads and validates the sink's own parameters.
	Params *uri.Params
}

// Constructor is a Definition's New for a sink package of the common shape: parse reads the
// --sink value into the sink's Config (every bad parameter reported at once), build makes the
// sink from it.
func Constructor[C any, S core.Sink](parse func(Target, Env) (C, error), build func(C, Env) (S, error)) func(Target, Env) (core.Sink, error) {
	return func(t Target, env Env) (core.Sink, error) {
		cfg, err := parse(t, env)
		if err != nil {
			return nil, err
		}
		s, err := build(cfg, env)
		if err != nil {
			return nil, err // not s: a nil *Sink in a core.Sink is not nil
		}
		return s, nil
	}
}

// Definition describes a sink type: how to build it, and every parameter it accepts (the same
// list drives validation, suggestions, redaction and the generated reference).
type Definition struct {
	Scheme  string
	Summary string
	// Example is a whole --sink value.
	Example string
	Params  []uri.Param
	// New builds the sink from its --sink value: Constructor(ParseConfig, New) of its package.
	New func(t Target, env Env) (core.Sink, error)
	// KubeEventer marks a scheme kube-eventer has: its parameters are read as kube-eventer's code
	// reads them, and what kube-eventer ignored (an unknown parameter) is a warning, not an error.
	// herald's own sinks stay strict.
	KubeEventer bool
	// DSN marks a sink whose query is a MySQL DSN (USER:PASSWORD@tcp(HOST)/DB?...), so its
	// password is redacted however it is written.
	DSN bool
	// SecretPathAfter lists URL path segments after which the path is a token (Slack's
	// "services", Discord's "webhooks", Feishu's "hook"): redacted in every log line.
	SecretPathAfter []string
	// Filter is how the sink reads the filter parameters (level, namespaces, kinds, reason) and
	// which level it delivers by default. Zero means herald's reading for herald's own sinks,
	// and for a KubeEventer sink that of kube-eventer's store sinks, which had no filter at all
	// (every type by default).
	Filter filter.Dialect
	// Concurrency is the default of the sink's concurrency= parameter: how many deliveries may
	// be in flight at once, events about one object kept in order (core.SinkOptions). Zero: the
	// sink's Export is not safe to call concurrently (or gains nothing from it), and the
	// parameter is not offered.
	Concurrency int
}

// Dialect is how this sink reads the filter parameters.
func (d Definition) Dialect() filter.Dialect {
	if d.KubeEventer && d.Filter == filter.Herald {
		return filter.KubeEventerStore
	}
	return d.Filter
}

// DefaultLevel is what the sink delivers without level=: "Warning", or "every type".
func (d Definition) DefaultLevel() string {
	if l := d.Dialect().DefaultLevel(); l != "" {
		return l
	}
	return "every type"
}

var (
	mu       sync.Mutex
	registry = map[string]Definition{}
)

// Register adds a sink type. It panics on a duplicate scheme: that is a programming error.
func Register(d Definition) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[d.Scheme]; dup {
		panic("sinks: scheme registered twice: " + d.Scheme)
	}
	registry[d.Scheme] = d
}

// Lookup returns the definition for a scheme.
func Lookup(scheme string) (Definition, bool) {
	mu.Lock()
	defer mu.Unlock()
	d, ok := registry[scheme]
	return d, ok
}

// All returns every registered definition, sorted by scheme.
func All() []Definition {
	mu.Lock()
	defer mu.Unlock()
	out := make([]Definition, 0, len(registry))
	for _, d := range registry {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Scheme < out[j].Scheme })
	return out
}

// CommonParams are accepted by every sink: the filter, the sink's name and the pipeline's
// per-sink queue and batch settings.
var CommonParams = append([]uri.Param{
	{Name: "name", Example: "team-a-wechat",
		Help: `a stable name for this sink in logs, metrics and checkpoints (default "SCHEME#N" for the Nth --sink)`},
	{Name: "queue_size", Default: "20000",
		Help: "events this sink may hold while it is slow or down; beyond it new events are dropped and counted (herald_sink_events_total{outcome=\"dropped\"})"},
	{Name: "batch_size", Default: "500",
		Help: "most events handed to the sink in one delivery"},
	{Name: "flush_interval", Default: "200ms",
		Help: "with flush=interval, the longest time an event waits for its batch to fill before delivery"},
	{Name: "group_by", Repeatable: true, Example: "namespace,reason",
		Help: "noise control: group events by these fields (namespace, kind, name, reason, type, source); a group sends one message, its latest event with how many others it stands for (.Folded), at most every group_interval. Off by default: every event is its own message"},
	{Name: "group_wait", Example: "30s",
		Help: "noise control: how long a new group's first event waits for others to join it (default 0: sent at once)"},
	{Name: "group_interval", Example: "5m",
		Help: "noise control: the shortest time between two messages of one group; events meanwhile are folded into the next (default 0)"},
	{Name: "repeat_interval", Example: "4h",
		Help: "noise control: an event that repeats (its count rises) is sent again at most this often, with the repeats folded (default 0: every repeat)"},
	{Name: "min_count", Example: "3",
		Help: "noise control: send an event only once its count (occurrences) reaches this (default 1)"},
	{Name: "flush", Default: "adaptive",
		Help: "adaptive: an idle sink sends each event at once, and batches (up to batch_size) form only while a delivery is in flight; interval: every batch waits up to flush_interval to fill (fewer, fuller requests, more latency)"},
}, filter.Params...)

// ConcurrencyParam is the parameter of a sink with a Definition.Concurrency.
func ConcurrencyParam(d Definition) uri.Param {
	return uri.Param{Name: "concurrency", Default: strconv.Itoa(d.Concurrency),
		Help: "deliveries in flight at once (1 to 64), for a receiver that answers slowly; events about one object stay in order (they share one lane), and the checkpoint only passes what every lane has delivered"}
}

// CommonParamsFor is CommonParams as sink d reads them, for its reference: level's default is
// d's.
func CommonParamsFor(d Definition) []uri.Param {
	out := append([]uri.Param(nil), CommonParams...)
	if d.Concurrency > 0 {
		out = append(out, ConcurrencyParam(d))
	}
	for i := range out {
		if out[i].Name == "level" {
			out[i].Default = d.DefaultLevel()
		}
	}
	return out
}

// Built is one sink, ready for the pipeline.
type Built struct {
	ID      string
	Sink    core.Sink
	Filter  *filter.Filter
	Options core.SinkOptions
	// Redacted is the --sink value with secrets replaced, safe to log.
	Redacted string
	// Key names this sink in checkpoints across restarts: "name=" and its name= parameter, or
	// its scheme and a hash of its redacted --sink value, so that reordering the flags keeps
	// each sink's position and no part of the value is stored.
	Key string
	// LegacyKey is the key herald 0.x saved before Key was a hash (the value redacted by
	// pattern, which could leave part of a secret): a checkpoint saved under it still loads, and
	// the next save writes Key instead. Empty with name=.
	LegacyKey string
	// Warnings are what herald runs with but reads differently from what kube-eventer did, one
	// per problem, naming the sink and the parameter. The daemon logs them; herald check fails.
	Warnings []string
}

// Build parses one --sink value (the index-th, from 1) and constructs the sink.
func Build(index int, raw string, env Env) (*Built, error) {
	return build(Origin{}, index, raw, env)
}

// Origin names a sink that does not come from a --sink flag: a Receiver. ID is its name in
// logs and metrics, Key its name in checkpoints, Owner how errors and warnings name it
// ("Receiver team-a/slack").
type Origin struct {
	ID, Key, Owner string
	// Reject lists parameters this origin does not accept, each with the reason (a Receiver's
	// filters belong on its Routes).
	Reject map[string]string
}

// BuildAs is Build for a sink that is not a --sink flag.
func BuildAs(o Origin, raw string, env Env) (*Built, error) { return build(o, 0, raw, env) }

func build(o Origin, index int, raw string, env Env) (*Built, error) {
	u, err := uri.Parse("sink", raw)
	if err != nil {
		if o.Owner != "" {
			return nil, fmt.Errorf("%s: %v", o.Owner, err)
		}
		return nil, err
	}
	d, ok := Lookup(u.Scheme)
	if !ok {
		who := fmt.Sprintf("--sink #%d", index)
		if o.Owner != "" {
			who = o.Owner
		}
		return nil, fmt.Errorf("%s: unknown sink type %q%s; known types: %s (herald sinks prints each one's parameters)",
			who, u.Scheme, unknownSchemeHint(u.Scheme, raw), strings.Join(Schemes(), ", "))
	}
	spec := append(CommonParamsFor(d), d.Params...)
	id := fmt.Sprintf("%s#%d", d.Scheme, index)
	owner := fmt.Sprintf("--sink #%d (%s)", index, d.Scheme)
	if o.Owner != "" {
		id, owner = o.ID, fmt.Sprintf("%s (%s)", o.Owner, d.Scheme)
	}
	for name, why := range o.Reject {
		if u.Target.Query().Has(name) {
			return nil, fmt.Errorf("%s: parameter %s is not accepted here: %s", owner, name, why)
		}
	}
	p := uri.NewParams(owner, u.Target.Query(), spec)
	p.SetRawQuery(u.Target.RawQuery)
	if d.KubeEventer {
		p.Lenient()
	}
	if n := p.String("name"); n != "" && o.ID == "" {
		id = n
	}
	b := &Built{ID: id}
	b.Filter = filter.FromParams(p, d.Dialect())
	b.Options = core.SinkOptions{
		QueueSize:     p.Int("queue_size", 1, 10_000_000),
		BatchSize:     p.Int("batch_size", 1, 100_000),
		FlushInterval: p.Duration("flush_interval"),
		Linger:        p.OneOf("flush", "adaptive", "interval") == "interval",
		Concurrency:   1,
		// Where the credential comes from, for the log line when the receiver refuses it.
		CredentialHint: credentialHint(raw),
	}
	if d.Concurrency > 0 {
		b.Options.Concurrency = p.Int("concurrency", 1, 64)
	}
	if np := NoiseFromParams(p); np != nil {
		b.Options.Noise = func(*core.Event) (*core.NoisePolicy, string) { return np, "" }
	}
	sink, err := d.New(Target{ID: id, URL: u.Target, Params: p}, env)
	// After New: it may have passed unknown parameters through to the receiver (webhook).
	known := secretValues(u, p, d)
	// Every log line herald writes is scrubbed of these too, whichever sink or library wrote it.
	redact.Register(known...)
	b.Redacted = redact.Value(raw, d.redactShape(p), known...)
	b.LegacyKey = redact.Text(raw, p.SecretNames()...)
	b.Key = d.Scheme + ":" + shortHash(b.Redacted)
	if n := p.String("name"); n != "" {
		b.Key = "name=" + n
		b.LegacyKey = ""
	}
	if o.Key != "" {
		b.Key, b.LegacyKey = o.Key, ""
	}
	// Report parameter problems first: they are usually why New failed. Messages may quote what
	// was given; every secret value herald read is scrubbed from them.
	if perr := p.Err(); perr != nil {
		if sink != nil {
			_ = sink.Close()
		}
		return nil, errors.New(redact.Scrub(perr.Error(), known...))
	}
	if err != nil {
		return nil, errors.New(redact.Scrub(fmt.Sprintf("%s: %v", owner, err), known...))
	}
	b.Sink = sink
	if u.Target.Fragment != "" || u.Target.RawFragment != "" {
		// The fragment is not shown: it is often the rest of a secret that held '#'.
		p.Warnf("URL", "a '#' ends the value: what follows it is ignored (kube-eventer ignored it too), and a parameter value holding '#' is cut there; write '#' in a value as %%23")
	}
	if _, ok := u.Target.User.Password(); ok && PlainHTTP(u.Target.String()) {
		p.Warnf("password", "the URL's user:password@ goes over plain http:// to a host that is not this machine: the password crosses the network in clear text; use https://")
	}
	b.Warnings = append(append(prefixed(owner, u.Warnings), secondQuestionMark(owner, u.Target)...), p.Warnings()...)
	for i, w := range b.Warnings {
		b.Warnings[i] = redact.Scrub(w, known...)
	}
	return b, nil
}

// redactShape says where this sink's --sink value holds secrets.
func (d Definition) redactShape(p *uri.Params) redact.Shape {
	sh := redact.Shape{Secret: p.IsSecret, Known: p.IsDeclared, DSN: d.DSN, PathAfter: d.SecretPathAfter}
	for _, q := range d.Params {
		if q.Name == "header" {
			sh.Header = "header"
		}
	}
	return sh
}

// secretValues are the secret values herald read from the --sink value, expanded and decoded:
// the userinfo password, every secret parameter's value (a header's value only, and not for the
// public headers), the DSN password, a token path.
func secretValues(u *uri.URI, p *uri.Params, d Definition) []string {
	var out []string
	if pw, ok := u.Target.User.Password(); ok {
		// The password, and the basic Authorization header it becomes (a receiver may echo it).
		out = append(out, pw, base64.StdEncoding.EncodeToString([]byte(u.Target.User.Username()+":"+pw)))
	}
	for _, v := range p.SecretValues() {
		if name, value, ok := strings.Cut(v, "="); ok && d.hasParam("header") && !strings.ContainsAny(name, " ") {
			if !slices.Contains(redact.PublicHeaders, textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name))) {
				out = append(out, value)
			}
			continue
		}
		out = append(out, v)
	}
	if d.DSN {
		if pw := redact.DSNPassword(u.Target.RawQuery); pw != "" {
			out = append(out, pw)
		}
	}
	if len(d.SecretPathAfter) > 0 {
		segs := strings.Split(strings.Trim(u.Target.Path, "/"), "/")
		for i, s := range segs {
			if slices.Contains(d.SecretPathAfter, s) && i+1 < len(segs) {
				// The path, and each segment alone (Slack's token is the last one).
				out = append(out, strings.Join(segs[i+1:], "/"))
				out = append(out, segs[i+1:]...)
				break
			}
		}
	}
	return out
}

func (d Definition) hasParam(name string) bool {
	return slices.ContainsFunc(d.Params, func(q uri.Param) bool { return q.Name == name })
}

// shortHash names a sink in checkpoints by its redacted value without storing it: 16 hex digits
// of its SHA-256.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

// prefixed puts the sink's name in front of warnings that lack it.
func prefixed(owner string, warnings []string) []string {
	var out []string
	for _, w := range warnings {
		out = append(out, owner+": "+w)
	}
	return out
}

// secondQuestionMark warns about each parameter whose value holds a second "?" followed by what
// looks like another parameter (key=x?level=Warning). kube-eventer's url.Parse kept everything
// after the first "?" as the query and split it on "&" only, so "level" there is part of key's
// value, not a parameter; herald reads it the same way. The warning names the parameters, never
// the values (a value may be a token).
func secondQuestionMark(owner string, u *url.URL) []string {
	var out []string
	q := u.Query()
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range q[k] {
			_, after, ok := strings.Cut(v, "?")
			if !ok {
				continue
			}
			hidden, _, isParam := strings.Cut(after, "=")
			if !isParam || hidden == "" || strings.ContainsAny(hidden, "/&? ") || !uri.PlainName(k) {
				// A name that is no plain word (user:password@tcp(...) in a DSN) is not shown.
				continue
			}
			out = append(out, fmt.Sprintf("%s: parameter %q: its value holds a second '?' followed by %s=...; kube-eventer read everything after the first '?' as one query split on '&', so %s was part of %q's value, not a parameter, and herald reads it the same way; write '&' instead of the second '?' if %s was meant as a parameter",
				owner, k, hidden, hidden, k, hidden))
			break
		}
	}
	return out
}

// BuildAll builds every --sink value and reports every problem at once: when any sink cannot be
// built, it closes the others and returns every error (herald check).
func BuildAll(raws []string, env Env) ([]*Built, error) {
	out, errs := BuildEach(raws, env)
	if len(errs) > 0 {
		for _, b := range out {
			_ = b.Sink.Close()
		}
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// BuildEach builds every --sink value and returns the sinks that could be built and one error
// for each that could not, as kube-eventer's sink factory did (it logged a sink it could not
// create and started with the others). The daemon runs what was built.
func BuildEach(raws []string, env Env) ([]*Built, []error) {
	var out []*Built
	var errs []error
	ids := map[string]int{}
	keys := map[string]bool{}
	for i, raw := range raws {
		b, err := Build(i+1, raw, env)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := ids[b.ID]; dup {
			errs = append(errs, fmt.Errorf("--sink #%d: name %q is already used by --sink #%d; give each sink its own name=", i+1, b.ID, prev))
			_ = b.Sink.Close()
			continue
		}
		ids[b.ID] = i + 1
		if keys[b.Key] {
			// Two sinks that differ only in a secret: tell them apart by position.
			b.Key += fmt.Sprintf(" (#%d)", i+1)
		}
		keys[b.Key] = true
		out = append(out, b)
	}
	return out, errs
}

// Schemes lists the registered sink types.
func Schemes() []string {
	var s []string
	for _, d := range All() {
		s = append(s, d.Scheme)
	}
	return s
}

// StripParams returns u without the query parameters declared in spec and their aliases, for
// sinks that send to the target URL itself (webhook) and must not leak herald's parameters to
// the receiver.
func StripParams(u *url.URL, spec []uri.Param) *url.URL {
	c := *u
	q := c.Query()
	for _, p := range append(append([]uri.Param{}, CommonParams...), spec...) {
		q.Del(p.Name)
		for _, a := range p.Aliases { // herald read it under its other name: not the receiver's
			q.Del(a)
		}
	}
	c.RawQuery = q.Encode()
	return &c
}

// Previewer is implemented by sinks that can show what they would send for an event without
// sending it; herald check prints it.
type Previewer interface {
	Preview(e *core.Event) (string, error)
}

// Accepts reports whether sink d reads parameter name (its own parameters, not the common ones).
func (d Definition) Accepts(name string) bool { return d.hasParam(name) }

// NoiseFromParams reads the noise control parameters (group_by, group_wait, group_interval,
// repeat_interval, min_count); nil when none is given. Errors are recorded in p.
func NoiseFromParams(p *uri.Params) *core.NoisePolicy {
	np := &core.NoisePolicy{
		GroupBy:        p.List("group_by"),
		GroupWait:      p.Duration("group_wait"),
		GroupInterval:  p.Duration("group_interval"),
		RepeatInterval: p.Duration("repeat_interval"),
		MinCount:       int32(p.Int("min_count", 1, 1_000_000)),
	}
	if err := np.Validate(); err != nil {
		p.Errorf("group_by", "name fields from: "+strings.Join(core.GroupFields, ", "), "%v", err)
		return nil
	}
	if np.Empty() {
		return nil
	}
	return np
}
