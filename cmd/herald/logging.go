package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/go-logr/logr"
	"github.com/golang/glog"
	"k8s.io/klog/v2"
)

// registerKlogCompat adds the klog flags kube-eventer accepted (klog/v2's InitFlags) that glog
// lacks, with klog's types, so an existing Deployment's arguments parse exactly as before: the
// booleans are booleans (--skip_headers takes no value and never swallows the next argument),
// the others check their value as klog did. They change nothing in herald's log (glog's own
// flags, -v, -vmodule, -logtostderr, -alsologtostderr, -stderrthreshold, -log_dir and
// -log_backtrace_at, cover the ground).
func registerKlogCompat(fs *flag.FlagSet) {
	const noEffect = "klog's flag, accepted for kube-eventer compatibility; no effect (herald logs through glog)"
	for _, name := range []string{"add_dir_header", "skip_headers", "skip_log_headers", "one_output", "legacy_stderr_threshold_behavior"} {
		fs.Bool(name, false, noEffect)
	}
	fs.String("log_file", "", noEffect)
	fs.Uint64("log_file_max_size", 1800, noEffect)
	fs.Var(new(severityFlag), "alsologtostderrthreshold", noEffect+"; INFO, WARNING, ERROR or FATAL")
}

// severityFlag accepts what klog's severity flags accept: a name or its number.
type severityFlag string

func (s *severityFlag) String() string { return string(*s) }

func (s *severityFlag) Set(v string) error {
	switch strings.ToUpper(v) {
	case "INFO", "WARNING", "ERROR", "FATAL", "0", "1", "2", "3":
		*s = severityFlag(v)
		return nil
	}
	return fmt.Errorf("unknown severity %q; write INFO, WARNING, ERROR or FATAL", v)
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
