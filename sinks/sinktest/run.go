package sinktest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/heraldproject/herald/common/checkpoint"
	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

// Receivers are the two local hosts of a leak test: Own, the sink's own host (127.0.0.1), which
// redirects the first request of each export to Other (localhost, another port: another host to
// net/http) and answers the second with a 400 that quotes the whole request back; and Other,
// which records every request that reaches it. A secret in a request to Other is a leak.
type Receivers struct {
	Own, Other *httptest.Server
	// Closed is a host:port where nothing listens, for sinks that speak no HTTP.
	Closed string

	mu    sync.Mutex
	n     int
	other []string
}

// NewReceivers starts both receivers; Close stops them.
func NewReceivers() *Receivers {
	r := &Receivers{}
	r.Other = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		dump, _ := httputil.DumpRequest(req, true)
		r.mu.Lock()
		r.other = append(r.other, string(dump))
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	otherURL := strings.Replace(r.Other.URL, "127.0.0.1", "localhost", 1)
	r.Own = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.n++
		n := r.n
		r.mu.Unlock()
		if n%2 == 1 {
			http.Redirect(w, req, otherURL+"/landing", http.StatusTemporaryRedirect)
			return
		}
		dump, _ := httputil.DumpRequest(req, true)
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(dump)
	}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err == nil {
		r.Closed = l.Addr().String()
		l.Close()
	}
	return r
}

// Close stops both receivers.
func (r *Receivers) Close() {
	r.Own.Close()
	r.Other.Close()
}

// OwnHost is host:port of Own.
func (r *Receivers) OwnHost() string { return strings.TrimPrefix(r.Own.URL, "http://") }

// TakeOther returns the requests Other received since the last call.
func (r *Receivers) TakeOther() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.other
	r.other = nil
	r.n = 0
	return out
}

// Outputs are the texts herald produced for one --sink value, by where they go: "build error",
// "warnings", "redacted", "checkpoint", "preview", "export error", "log", "request to another
// host", "panic".
type Outputs map[string]string

// Run does with one --sink value what herald does: build it (as herald check, then for real),
// print its redacted form, save its checkpoint key, preview the sample event, and export the
// sample event twice to rec (a redirect to another host, then a 400 quoting the request), at
// glog's current verbosity, capturing stderr. A panic is recovered and returned as the "panic"
// output with its stack.
func Run(value string, rec *Receivers) Outputs {
	out := Outputs{}
	out["log"] = captureStderr(func() {
		defer func() {
			if r := recover(); r != nil {
				out["panic"] = fmt.Sprintf("%v\n%s", r, debug.Stack())
			}
		}()
		run(value, rec, out)
	})
	if others := rec.TakeOther(); len(others) > 0 {
		out["request to another host"] = strings.Join(others, "\n---\n")
	}
	return out
}

func run(value string, rec *Receivers, out Outputs) {
	env := sinks.Env{Ctx: context.Background(), Location: time.UTC, CheckOnly: true}
	b, err := sinks.Build(1, value, env)
	if err != nil {
		out["build error"] = err.Error()
		return
	}
	out["warnings"] = strings.Join(b.Warnings, "\n")
	out["redacted"] = b.Redacted + "\n" + b.ID
	out["checkpoint"] = string(checkpoint.Encode(checkpoint.Checkpoint{ResourceVersion: 1,
		Sinks: map[string]uint64{b.Key: 2}, Time: time.Unix(0, 0)}))
	if p, ok := b.Sink.(sinks.Previewer); ok {
		body, err := p.Preview(template.SampleEvent())
		out["preview"] = body
		if err != nil {
			out["preview"] += "\n" + err.Error()
		}
	}
	_ = b.Sink.Close()

	env.CheckOnly = false
	b, err = sinks.Build(1, value, env)
	if err != nil {
		out["build error"] = err.Error()
		return
	}
	defer b.Sink.Close()
	var errs []string
	for range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		if err := b.Sink.Export(ctx, []*core.Event{template.SampleEvent()}); err != nil {
			errs = append(errs, err.Error())
		}
		cancel()
	}
	out["export error"] = strings.Join(errs, "\n")
}

var stderrMu sync.Mutex

// captureStderr runs f with os.Stderr (where glog writes) sent to a pipe, and returns what was
// written.
func captureStderr(f func()) string {
	stderrMu.Lock()
	defer stderrMu.Unlock()
	r, w, err := os.Pipe()
	if err != nil {
		f()
		return ""
	}
	old := os.Stderr
	os.Stderr = w
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(&buf, r)
		close(done)
	}()
	// Restore and drain before reading buf, also when f panics.
	restore := func() {
		os.Stderr = old
		w.Close()
		<-done
		r.Close()
	}
	func() {
		defer restore()
		f()
	}()
	return buf.String()
}

// Finding is one leak: the output that held a fragment of the secret, and where.
type Finding struct {
	Output   string
	Fragment string
	Excerpt  string
}

// Check returns a finding for each output that holds a fragment of secret, and one for a panic
// (a panic is a failure even when its message holds no secret).
func Check(out Outputs, secret string) []Finding {
	var fs []Finding
	for _, name := range []string{"build error", "warnings", "redacted", "checkpoint", "preview", "export error", "log", "request to another host", "panic"} {
		text := out[name]
		if text == "" {
			continue
		}
		if f := Leak(text, secret); f != "" {
			fs = append(fs, Finding{Output: name, Fragment: f, Excerpt: Excerpt(text, f)})
		} else if name == "panic" {
			fs = append(fs, Finding{Output: name, Excerpt: Excerpt(text, "")})
		}
	}
	return fs
}
