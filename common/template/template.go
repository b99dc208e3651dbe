// Package template renders event bodies from Go templates written for kube-eventer
// ({{ .InvolvedObject.Name }}, {{ .Reason }}, {{ .LastTimestamp }}), inline or from a watched
// ConfigMap, escaping every interpolated value when the body is JSON.
package template

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/core"
)

// Params are the template parameters a sink with a configurable body declares.
var Params = []uri.Param{
	{Name: "custom_body_configmap", Example: "herald-webhook-body",
		Help: `name of a ConfigMap whose key "content" holds the body template (as in kube-eventer); watched, so an edit applies without a restart`},
	{Name: "custom_body_configmap_namespace", Default: "default", Example: "monitoring",
		Help: "namespace of custom_body_configmap"},
	{Name: "body_template", Example: `{"text":"{{ .Reason }}: {{ .Message }}"}`,
		Help: "an inline body template (percent-encode it in the URI); custom_body_configmap wins when both are given"},
	{Name: "body_template_timeout", Default: "1s", Example: "3s",
		Help: "the time one render of the body template may take: a render past it fails for that event (herald_template_render_failures_total{reason=\"timeout\"}), and a template whose sample event takes longer is refused when it loads. Real templates render in microseconds; raise it only for one that needs it"},
}

// DefaultMaxBytes is the largest body Render produces when Options.MaxBytes is not set.
const DefaultMaxBytes = 1 << 20

// ErrTooLarge is returned (wrapped) by Render when a body would exceed Options.MaxBytes.
var ErrTooLarge = errors.New("rendered body exceeds the size limit")

// Options say where a body template comes from and how it renders.
type Options struct {
	// Owner names the sink in errors and logs ("--sink #1 (webhook)").
	Owner string
	// SinkID labels this sink's metrics (sinks.Target.ID, "webhook#1"); Owner when empty.
	SinkID string
	// Inline is template text given in the URI.
	Inline string
	// ConfigMapName and ConfigMapNamespace name a ConfigMap whose key "content" is the template.
	ConfigMapName      string
	ConfigMapNamespace string
	// Default is used when neither Inline nor a ConfigMap is given.
	Default string
	// JSON escapes every value that lands inside a JSON string literal of the template (a value
	// printed outside a string is left as is), and checks the sample render is valid JSON.
	JSON bool
	// KubeEventer renders a template written for kube-eventer's webhook (its default body, a
	// custom_body_configmap) as kube-eventer did: .Message without its double quotes, and in
	// JSON mode a value left byte for byte as kube-eventer printed it unless it would break the
	// JSON. And a ConfigMap that cannot be used at start-up (missing, without "content", not
	// readable, a template that fails) is a warning: herald starts with Default, as kube-eventer
	// did, and switches to the ConfigMap once it holds a template that works.
	KubeEventer bool
	// Warnf records a warning about a parameter (uri.Params.Warnf); required with KubeEventer.
	Warnf func(name, format string, args ...any)
	// Location is --timezone, for the date helper; nil means UTC.
	Location *time.Location
	// Kube reads and watches the ConfigMap.
	Kube kubernetes.Interface
	// Metrics counts ConfigMap reloads and failed renders; nil counts nothing.
	Metrics *Metrics
	// MaxBytes caps one rendered body; 0 means DefaultMaxBytes.
	MaxBytes int
	// Timeout is the time budget of one render (body_template_timeout); 0 means DefaultTimeout.
	// A render past it fails for that event, and a template whose sample render is past it is
	// refused when it loads.
	Timeout time.Duration
	// Now gives the time used as .LastTimestamp for an event that has neither lastTimestamp
	// nor eventTime; nil means time.Now.
	Now func() time.Time
}

// FromParams fills Inline and the ConfigMap fields from a sink's parameters.
func FromParams(p *uri.Params, o Options) Options {
	o.Inline = p.String("body_template")
	o.ConfigMapName = p.String("custom_body_configmap")
	o.ConfigMapNamespace = p.String("custom_body_configmap_namespace")
	o.Timeout = p.Duration("body_template_timeout")
	o.Warnf = p.Warnf
	return o
}

// Body is a loaded, validated template. It is safe for concurrent use; a ConfigMap edit swaps
// the template atomically between two renders.
type Body struct {
	o      Options
	source string // where the template comes from, for errors and logs
	cur    atomic.Pointer[compiled]

	// ConfigMap watch state; lastRV is touched only by New and then the informer's handler.
	cmNamespace, cmName string
	lastRV              string
	stop                context.CancelFunc
	done                chan struct{}
	closeOnce           sync.Once
}

// compiled is one parsed, escaped, instrumented and validated template.
type compiled struct {
	tmpl *template.Template
	text string
	// plan renders the template without text/template; nil when it cannot (see plan).
	plan *plan
	// fallback: this is Default, standing in for a ConfigMap that cannot be used yet.
	fallback bool
}

// New loads the template, renders a sample event through it, and (for a ConfigMap) starts
// watching it until ctx is done or Close is called. Any problem is an error naming the owner
// and the fix.
func New(ctx context.Context, o Options) (*Body, error) {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SinkID == "" {
		o.SinkID = o.Owner
	}
	b := &Body{o: o}
	o.Metrics.initFailures(o.SinkID)
	var text string
	switch {
	case o.ConfigMapName != "":
		if err := b.startConfigMap(ctx); err != nil {
			return nil, err
		}
		return b, nil
	case o.Inline != "":
		b.source, text = "body_template", o.Inline
	case o.Default != "":
		b.source, text = "the default body template", o.Default
	default:
		return nil, fmt.Errorf("%s: no body template; set body_template or custom_body_configmap", o.Owner)
	}
	c, err := b.compile(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %s %v", o.Owner, b.source, err)
	}
	b.cur.Store(c)
	return b, nil
}

// Source says where the template in use comes from ("body_template", "ConfigMap ns/name, key
// \"content\""), for `herald check` and logs.
func (b *Body) Source() string {
	if c := b.cur.Load(); c != nil && c.fallback {
		return "kube-eventer's default body, standing in until " + b.source + " holds a template that works"
	}
	return b.source
}

// compile parses text, escapes it in JSON mode, and renders the sample events through it. The
// error completes a sentence that starts with the template's source. A panic in any of it (a
// bug in herald's walk of the template) is an error too, never a crash at start-up or on an edit.
func (b *Body) compile(text string) (c *compiled, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("could not be loaded: herald panicked reading it (please report this): %v", r)
		}
	}()
	t, err := template.New("body").Funcs(funcMap(b.o.Location)).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("does not parse: %v; fix the Go template syntax (https://pkg.go.dev/text/template)", err)
	}
	if err := checkBounds(t); err != nil {
		return nil, err
	}
	if b.o.JSON {
		escaper := escaperName
		if b.o.KubeEventer {
			escaper = kubeEscaperName
		}
		escapeTemplates(t, escaper)
	}
	instrument(t)
	c = &compiled{tmpl: t, text: text, plan: compilePlan(t)}
	samples := []*core.Event{SampleEvent(), SampleRestartEvent()}
	if c.plan != nil && !b.planAgrees(c, samples) {
		c.plan = nil // a bug in the plan; text/template's output is the one to send
	}
	for _, sample := range samples {
		out, err := b.execute(c, sample)
		if err != nil {
			return nil, fmt.Errorf("fails on the sample %s event: %w; %s", sample.Reason, err, execHint(err))
		}
		if b.o.JSON {
			if err := checkJSON(out); err != nil {
				return nil, fmt.Errorf("is sent as JSON, but the sample %s event renders %v", sample.Reason, err)
			}
		}
	}
	return c, nil
}

// Render renders one event. An event the template cannot render is an error for that event
// only; so is a body larger than Options.MaxBytes. Render never changes the event.
func (b *Body) Render(e *core.Event) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%s: %s panicked rendering event %s: %v", b.o.Owner, b.source, describe(e), r)
		}
	}()
	if e == nil || e.Event == nil {
		return nil, fmt.Errorf("%s: no event to render", b.o.Owner)
	}
	out, err = b.execute(b.cur.Load(), e)
	if err != nil {
		reason := FailureError
		switch {
		case errors.Is(err, ErrTimeout):
			reason = FailureTimeout
		case errors.Is(err, ErrTooLarge):
			reason = FailureTooLarge
		}
		b.o.Metrics.failure(b.o.SinkID, reason)
		return nil, fmt.Errorf("%s: %s cannot render event %s: %w", b.o.Owner, b.source, describe(e), err)
	}
	return out, nil
}

// execute runs c over e into a fresh slice: with its plan when it has one, else (or when the
// plan cannot render this event) with text/template. A panic (text/template turns most into
// errors itself) becomes an error for this event.
func (b *Body) execute(c *compiled, e *core.Event) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("template panicked: %v", r)
		}
	}()
	st := states.Get().(*renderState)
	if c.plan != nil {
		out, err = b.executePlan(c.plan, st, e)
	}
	if c.plan == nil || errors.Is(err, errNoPlan) {
		out, err = b.executeTemplate(c, st, e)
	}
	st.done()
	switch {
	case errors.Is(err, ErrTooLarge):
		return nil, fmt.Errorf("%w (%d bytes); shorten long values, e.g. {{ .Message | truncate 4000 }}", err, b.o.MaxBytes)
	case errors.Is(err, ErrTimeout):
		// Not err: text/template names where the deadline was noticed (the tick), not the loop.
		return nil, fmt.Errorf("%w (%s, body_template_timeout); a loop or a template call runs too long: loop over the event's fields, and make sure a template that calls itself stops", ErrTimeout, b.o.Timeout)
	}
	return out, err
}

// executePlan renders e with p into st's buffer and returns a copy. A plan does a bounded amount
// of work per byte it writes, so it needs no deadline. A panic in it (a bug) is errNoPlan:
// text/template renders the event instead.
func (b *Body) executePlan(p *plan, st *renderState, e *core.Event) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, errNoPlan
		}
	}()
	st.view = b.newView(e)
	st.out, err = p.render(st.out[:0], &st.view, b.o.Location, b.o.MaxBytes)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(st.out), nil
}

// executeTemplate renders e with text/template into st's buffer and returns a copy.
func (b *Body) executeTemplate(c *compiled, st *renderState, e *core.Event) ([]byte, error) {
	data := e
	stripQuotes := b.o.KubeEventer && strings.Contains(e.Message, `"`)
	if e.LastTimestamp.IsZero() || stripQuotes {
		// kube-eventer renders such an event with its eventTime, or now, as .LastTimestamp, and
		// its webhook deleted every double quote from the message first. Events are shared and
		// read-only, so change a shallow copy. (newView resolves the same for a plan.)
		ev := *e.Event
		if ev.LastTimestamp.IsZero() {
			ev.LastTimestamp = metav1.NewTime(b.o.Now())
			if !ev.EventTime.IsZero() {
				ev.LastTimestamp = metav1.NewTime(ev.EventTime.Time)
			}
		}
		if stripQuotes {
			ev.Message = strings.ReplaceAll(ev.Message, `"`, "")
		}
		cp := *e
		cp.Event = &ev
		data = &cp
	}
	st.start(b.o.MaxBytes, time.Now().Add(b.o.Timeout))
	if err := c.tmpl.Execute(st, data); err != nil {
		return nil, err
	}
	return bytes.Clone(st.buf.Bytes()), nil
}

// planAgrees renders the samples with c's plan and with text/template and reports whether
// every body is the same, byte for byte: a check at load that a plan stands in for
// text/template, so that a bug in it would cost speed, never a different body.
func (b *Body) planAgrees(c *compiled, samples []*core.Event) bool {
	withoutPlan := *c
	withoutPlan.plan = nil
	for _, e := range samples {
		fast, errFast := b.execute(c, e)
		slow, errSlow := b.execute(&withoutPlan, e)
		if !bytes.Equal(fast, slow) || (errFast == nil) != (errSlow == nil) ||
			errFast != nil && errFast.Error() != errSlow.Error() {
			return false
		}
	}
	return true
}

// describe names an event in errors: namespace/name (reason).
func describe(e *core.Event) string {
	if e == nil || e.Event == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%s/%s (%s)", e.Namespace, e.Name, e.Reason)
}

// Close stops the ConfigMap watch, if any, and waits for it to end. It may be called more
// than once.
func (b *Body) Close() {
	b.closeOnce.Do(func() {
		if b.stop != nil {
			b.stop()
			<-b.done
		}
	})
}
