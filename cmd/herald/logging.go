package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/go-logr/logr"
	"github.com/golang/glog"
	"k8s.io/klog/v2"
)

// klogOnlyFlags are klog flags kube-eventer accepted that glog lacks. They are accepted so an
// existing Deployment keeps starting, and have no effect (glog's own flags cover the ground).
var klogOnlyFlags = []string{"add_dir_header", "skip_headers", "skip_log_headers", "one_output",
	"log_file", "log_file_max_size", "legacy_stderr_threshold_behavior"}

// registerKlogCompat adds klog's extra flags to fs as accepted no-ops.
func registerKlogCompat(fs *flag.FlagSet) {
	for _, name := range klogOnlyFlags {
		fs.Func(name, "accepted for kube-eventer compatibility; no effect (herald logs through glog)", func(string) error { return nil })
	}
}

// routeKlog sends client-go's klog output through glog, with glog's -v and -vmodule, so one set
// of flags controls every log line.
func routeKlog() {
	var kfs flag.FlagSet
	klog.InitFlags(&kfs)
	for _, name := range []string{"v", "vmodule"} {
		if f := flag.Lookup(name); f != nil {
			_ = kfs.Set(name, f.Value.String())
		}
	}
	klog.SetLogger(logr.New(&glogSink{}))
}

// glogSink is a logr.LogSink writing to glog.
type glogSink struct {
	name   string
	values []any
	depth  int
}

func (s *glogSink) Init(info logr.RuntimeInfo) { s.depth = info.CallDepth + 1 }
func (s *glogSink) Enabled(level int) bool     { return bool(glog.V(glog.Level(level))) }

func (s *glogSink) Info(level int, msg string, kv ...any) {
	glog.InfoDepth(s.depth, s.format(msg, kv))
}

func (s *glogSink) Error(err error, msg string, kv ...any) {
	if err != nil {
		kv = append([]any{"err", err}, kv...)
	}
	glog.ErrorDepth(s.depth, s.format(msg, kv))
}

func (s *glogSink) WithValues(kv ...any) logr.LogSink {
	c := *s
	c.values = append(append([]any(nil), s.values...), kv...)
	return &c
}

// WithCallDepth makes klog's own frames count, so a line's caller is the client-go code that
// logged it, not klog.
func (s *glogSink) WithCallDepth(depth int) logr.LogSink {
	c := *s
	c.depth += depth
	return &c
}

func (s *glogSink) WithName(name string) logr.LogSink {
	c := *s
	if c.name != "" {
		name = c.name + "/" + name
	}
	c.name = name
	return &c
}

func (s *glogSink) format(msg string, kv []any) string {
	var b strings.Builder
	if s.name != "" {
		b.WriteString(s.name)
		b.WriteString(": ")
	}
	b.WriteString(msg)
	all := append(append([]any(nil), s.values...), kv...)
	for i := 0; i+1 < len(all); i += 2 {
		fmt.Fprintf(&b, " %v=%q", all[i], fmt.Sprint(all[i+1]))
	}
	return b.String()
}
