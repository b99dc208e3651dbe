package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/sinks"
)

// A flag group is a heading of `herald --help`. Every flag on the command line belongs to one
// (flagGroups below; a test fails for a flag without one), so adding a flag means adding its
// name there too.
type flagGroupSpec struct {
	key, title string
	// brief groups list their flags' names only: flags few people set, or that do nothing.
	brief bool
}

var groupOrder = []flagGroupSpec{
	{key: "events", title: "Events in and out"},
	{key: "delivery", title: "Delivery and restarts of herald"},
	{key: "ha", title: "High availability (two replicas, one active)"},
	{key: "restarts", title: "Pod restarts, explained (--pod-restarts)"},
	{key: "serving", title: "Health, metrics, version"},
	{key: "logging", title: "Logging"},
	{key: "glog", title: "More glog flags", brief: true},
	{key: "compat", title: "kube-eventer compatibility: accepted so existing Deployments start, no effect", brief: true},
}

// flagGroups tags every flag with its group.
var flagGroups = map[string]string{
	"source": "events", "sink": "events", "cluster-name": "events", "timezone": "events",
	"config": "events", "routes": "events",

	"checkpoint": "delivery", "checkpoint-interval": "delivery", "event-ttl": "delivery",
	"shutdown-timeout": "delivery",

	"instance": "ha", "leader-elect": "ha", "leader-elect-namespace": "ha", "leader-elect-lease-duration": "ha",
	"leader-elect-renew-deadline": "ha", "leader-elect-retry-period": "ha",

	"pod-restarts": "restarts", "pod-restart-selector": "restarts", "pod-restart-ignore-container": "restarts",
	"restart-repeat": "restarts", "restart-log-lines": "restarts", "restart-log-bytes": "restarts",
	"restart-recent-events": "restarts",

	"healthz-ip": "serving", "healthz-port": "serving", "profiling": "serving", "version": "serving",

	"log-format": "logging", "v": "logging", "vmodule": "logging", "logtostderr": "logging",
	"alsologtostderr": "glog", "stderrthreshold": "glog", "log_dir": "glog", "log_backtrace_at": "glog",
	"log_link": "glog", "logbuflevel": "glog",

	"frequency": "compat", "max_procs": "compat", "event-metrics": "compat", "event-metrics-ttl": "compat",
	"event-metrics-max-series": "compat",
	"add_dir_header":           "compat", "skip_headers": "compat", "skip_log_headers": "compat", "one_output": "compat",
	"log_file": "compat", "log_file_max_size": "compat", "legacy_stderr_threshold_behavior": "compat",
	"alsologtostderrthreshold": "compat",
}

// flagShort is the one-line --help text of flags whose own description is longer (herald help
// flags prints that in full), with the value's placeholder. A flag without an entry gets the
// first clause of its description.
var flagShort = map[string][2]string{
	"source":                       {"URI", "the cluster to watch (default: in-cluster)"},
	"sink":                         {"URI", "where events go: SCHEME:TARGET?PARAMS, repeatable"},
	"config":                       {"FILE", "team routes (Receivers, Routes) from a file, reloaded"},
	"routes":                       {"", "serve the Receiver and Route resources (CRDs)"},
	"cluster-name":                 {"NAME", "this cluster's name on every record (.Cluster)"},
	"timezone":                     {"ZONE", "time zone of rendered times (default UTC)"},
	"checkpoint":                   {"WHERE", "configmap:NS/NAME, file:PATH, both, or off"},
	"checkpoint-interval":          {"DURATION", "shortest time between ConfigMap saves (1s)"},
	"event-ttl":                    {"DURATION", "the API server's --event-ttl, to report gaps (1h)"},
	"shutdown-timeout":             {"DURATION", "on SIGTERM, deliver what is queued this long (25s)"},
	"instance":                     {"NAME", "this install's name: its Lease and NAME-checkpoint (herald)"},
	"leader-elect":                 {"", "several replicas, one active (the Lease named --instance)"},
	"leader-elect-namespace":       {"NS", "namespace of the Lease (default $POD_NAMESPACE)"},
	"leader-elect-lease-duration":  {"DURATION", "standbys take over this long after a renewal (15s)"},
	"leader-elect-renew-deadline":  {"DURATION", "the leader gives up renewing after this (10s)"},
	"leader-elect-retry-period":    {"DURATION", "how often to try to acquire or renew the Lease (2s)"},
	"pod-restarts":                 {"", "report container restarts: exit code, logs, events"},
	"pod-restart-selector":         {"SELECTOR", "only pods matching this label selector (tier!=batch)"},
	"pod-restart-ignore-container": {"NAME", "skip these containers (istio-proxy); repeatable"},
	"restart-repeat":               {"DURATION", "fold further restarts within this window (10m)"},
	"restart-log-lines":            {"N", "log lines of the previous and current container"},
	"restart-log-bytes":            {"BYTES", "at most this many bytes of each log tail"},
	"restart-recent-events":        {"N", "how many of the pod's recent events to include"},
	"healthz-ip":                   {"IP", "address of /healthz, /readyz, /metrics (0.0.0.0)"},
	"healthz-port":                 {"PORT", "port of /healthz, /readyz, /metrics (8084)"},
	"profiling":                    {"", "serve /debug/pprof/ on the healthz port"},
	"event-metrics-ttl":            {"DURATION", "drop an object's eventer_events_* series idle this long (1h)"},
	"event-metrics-max-series":     {"N", "keep at most N eventer_events_* object series (10000)"},
	"version":                      {"", "print the version and exit"},
	"log-format":                   {"FORMAT", "text, or json: one object a line (ts level msg caller)"},
	"v":                            {"N", "verbosity, client-go's included (0 normal, 4 debug)"},
	"vmodule":                      {"PATTERN=N", "verbosity per source file, comma-separated"},
	"logtostderr":                  {"", "log to stderr (default true; false: files in --log_dir)"},
}

// ungrouped returns the flags of fs that no group lists.
func ungrouped(fs *flag.FlagSet) []string {
	var out []string
	fs.VisitAll(func(f *flag.Flag) {
		if _, ok := flagGroups[f.Name]; !ok {
			out = append(out, f.Name)
		}
	})
	return out
}

const usageHead = `herald: Kubernetes events, filtered and formatted, to where teams look.

Usage:
  herald [flags]            watch events and deliver them (the default command)
  herald check [flags]      parse every --sink, load every template, render a sample event
                            through each and print the bodies; sends nothing
  herald sinks [SCHEME]     every sink with every parameter, default and example
  herald migrate event-exporter CONFIG.yaml
                            kubernetes-event-exporter config to herald flags or Helm values
  herald version            version, commit, build date, Go version
  herald help [flags]       this text; "herald help flags" describes every flag in full

Example:
  herald --source=kubernetes:https://kubernetes.default \
         --sink='webhook:http://receiver:8080/events?level=Warning'

Secrets: write ${NAME} in a --sink value and set NAME from a Secret; herald expands it and
redacts secrets in every log line.
`

// usage prints the short, grouped help: one line per flag, a line per sink.
func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, usageHead)
	byGroup := groupFlags(fs)
	for _, g := range groupOrder {
		flags := byGroup[g.key]
		if len(flags) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", g.title)
		if g.brief {
			var names []string
			for _, f := range flags {
				names = append(names, "--"+f.Name)
			}
			writeWrapped(w, "  ", strings.Join(names, " "), 96)
			continue
		}
		for _, f := range flags {
			writeShort(w, f)
		}
	}
	if other := byGroup[""]; len(other) > 0 {
		fmt.Fprint(w, "\nOther:\n")
		for _, f := range other {
			writeShort(w, f)
		}
	}
	fmt.Fprint(w, "\nSinks (--sink=SCHEME:TARGET?PARAMS, repeatable; \"herald sinks SCHEME\" for every parameter):\n")
	for _, d := range sinks.All() {
		fmt.Fprintf(w, "  %-14s %s\n", d.Scheme, summary(d.Summary, 82))
	}
	fmt.Fprint(w, `
Every sink also takes the filter parameters level (Warning by default; Normal means both),
namespaces, kinds, reason and their exclude_ forms, and name, queue_size, batch_size,
flush_interval. "herald sinks" and docs/sinks/reference/ describe each parameter.
`)
}

// usageFull prints every flag with its whole description, grouped (herald help flags).
func usageFull(w io.Writer, fs *flag.FlagSet) {
	byGroup := groupFlags(fs)
	groups := append(append([]flagGroupSpec(nil), groupOrder...), flagGroupSpec{key: "", title: "Other"})
	for i, g := range groups {
		flags := byGroup[g.key]
		if len(flags) == 0 {
			continue
		}
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s:\n", g.title)
		for _, f := range flags {
			fmt.Fprintf(w, "  %s", flagSynopsis(f))
			if f.DefValue != "" && f.DefValue != "[]" && f.DefValue != "0" && f.DefValue != "false" {
				fmt.Fprintf(w, " (default %s)", f.DefValue)
			}
			fmt.Fprintln(w)
			writeWrapped(w, "      ", f.Usage, 96)
		}
	}
	printSourceParams(w)
}

// writeShort prints a flag's line of --help.
func writeShort(w io.Writer, f *flag.Flag) {
	text := summary(f.Usage, 58)
	if short, ok := flagShort[f.Name]; ok {
		text = short[1]
	}
	syn := flagSynopsis(f)
	fmt.Fprintf(w, "  %-38s %s\n", syn, text)
}

func groupFlags(fs *flag.FlagSet) map[string][]*flag.Flag {
	out := map[string][]*flag.Flag{}
	fs.VisitAll(func(f *flag.Flag) {
		out[flagGroups[f.Name]] = append(out[flagGroups[f.Name]], f)
	})
	// In the order of registration where it reads better than the alphabet: keep the
	// alphabet, but the main flag of a family first (--sink before --cluster-name).
	for _, flags := range out {
		sort.SliceStable(flags, func(i, j int) bool { return rank(flags[i].Name) < rank(flags[j].Name) })
	}
	return out
}

// rank puts the flags a reader looks for first at the top of their group.
func rank(name string) int {
	switch name {
	case "source":
		return 0
	case "sink":
		return 1
	case "config", "routes":
		return 2
	case "log-format":
		return 2
	case "pod-restarts", "leader-elect", "checkpoint", "frequency":
		return 3
	}
	return 10
}

// flagSynopsis is "--name=VALUE", or "--name" for a boolean flag.
func flagSynopsis(f *flag.Flag) string {
	if p := placeholder(f); p != "" {
		return "--" + f.Name + "=" + p
	}
	return "--" + f.Name
}

// placeholder names a flag's value: flagShort's, else its type ("" for a boolean flag).
func placeholder(f *flag.Flag) string {
	if f == nil {
		return "VALUE"
	}
	if short, ok := flagShort[f.Name]; ok {
		return short[0]
	}
	name, _ := flag.UnquoteUsage(f)
	if name == "value" {
		return "VALUE"
	}
	return name
}

// summary shortens a description to its first clause (outside parentheses) or, failing that,
// to whole words within max characters, so each entry fits one line of --help.
func summary(s string, max int) string {
	s = strings.TrimPrefix(s, "with --pod-restarts: ")
	if len(s) <= max {
		return s
	}
	depth := 0
	for i := 0; i < len(s) && i <= max; i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ';', ':', '.':
			if depth == 0 && i >= 25 && i+1 < len(s) && s[i+1] == ' ' {
				return s[:i]
			}
		}
	}
	cut := strings.LastIndex(s[:max-4], " ")
	if cut < 15 {
		cut = max - 4
	}
	return s[:cut] + " ..."
}

func writeWrapped(w io.Writer, indent, text string, width int) {
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			fmt.Fprintln(w, line)
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	if len(line) > len(indent) {
		fmt.Fprintln(w, line)
	}
}

// flagError turns a flag parse error into one line with a hint: the nearest flag for an
// unknown one, and where to read more. It never prints the whole help.
func flagError(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		name = strings.TrimLeft(name, "-")
		hint := ""
		if s := nearestFlag(fs, name); s != "" {
			hint = fmt.Sprintf("; did you mean --%s?", s)
		}
		return fmt.Sprintf("herald: unknown flag --%s%s (herald --help lists the flags)", name, hint)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		name = strings.TrimLeft(name, "-")
		return fmt.Sprintf("herald: flag --%s needs a value: write --%s=%s (herald help flags describes it)", name, name, placeholder(fs.Lookup(name)))
	}
	// "invalid value "x" for flag -frequency: parse error" and the like.
	msg = strings.Replace(msg, "for flag -", "for flag --", 1)
	return "herald: " + msg + " (herald help flags describes each flag)"
}

// nearestFlag returns the defined flag name closest to name: the same with - and _ swapped,
// else one within a small edit distance.
func nearestFlag(fs *flag.FlagSet, name string) string {
	var names []string
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "_", "-") }
	found := ""
	fs.VisitAll(func(f *flag.Flag) {
		names = append(names, f.Name)
		if norm(f.Name) == norm(name) {
			found = f.Name
		}
	})
	if found != "" {
		return found
	}
	return uri.Nearest(name, names)
}

// commands are herald's subcommands, for "did you mean" on a mistyped one.
var commands = []string{"run", "check", "sinks", "migrate", "version", "help"}

func unknownCommand(cmd string) string {
	hint := ""
	if s := uri.Nearest(cmd, commands); s != "" {
		hint = fmt.Sprintf("; did you mean %q?", s)
	}
	return fmt.Sprintf("herald: unknown command %q%s (commands: %s; herald --help)", cmd, hint, strings.Join(commands, ", "))
}

// parseFlags parses args into fs without printing anything. It returns the exit code to use
// and whether to stop: 0 after printing the help for -h/--help, 2 after one line for a bad flag.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (code int, stop bool) {
	fs.Init("herald", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage(stdout, fs)
		return 0, true
	case err != nil:
		fmt.Fprintln(stderr, flagError(fs, err))
		return 2, true
	}
	return 0, false
}
