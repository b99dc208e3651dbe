// Command herald watches a Kubernetes cluster's events and delivers them, filtered and rendered,
// to chat robots, webhooks, queues and stores. Its flags are kube-eventer's, so an existing
// kube-eventer Deployment keeps working when only the image changes.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
	_ "time/tzdata" // TZ and --timezone work in an image without /usr/share/zoneinfo

	"github.com/golang/glog"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/heraldproject/herald/common/checkpoint"
	"github.com/heraldproject/herald/common/redact"
	_ "github.com/heraldproject/herald/sinks/all"
	kubesource "github.com/heraldproject/herald/sources/kubernetes"
)

// Set by the build with -ldflags "-X main.version=... -X main.commit=... -X main.date=...".
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, " ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// options are herald's command-line flags.
type options struct {
	sources         stringList
	sinks           stringList
	configFile      string
	routeCRDs       bool
	frequency       time.Duration
	healthzIP       string
	healthzPort     uint
	clusterName     string
	timezone        string
	shutdownTimeout time.Duration
	showVersion     bool
	logFormat       string
	profiling       bool
	location        *time.Location
	podRestarts     podRestartOptions
	checkpoint      string
	checkpointEvery time.Duration
	instance        string
	eventTTL        time.Duration
	maxProcs        int
	eventMetrics    bool
	eventSeriesTTL  time.Duration
	eventMaxSeries  int
	// explicit holds the flags given on the command line (--timezone wins over TZ only then).
	explicit map[string]bool
	// warnings are what herald starts with but reads differently from what the user may
	// expect (kube-eventer compatibility); the daemon logs them, herald check fails on them.
	warnings []string

	leaderElect          bool
	leaderElectNamespace string
	leaseDuration        time.Duration
	renewDeadline        time.Duration
	retryPeriod          time.Duration
}

func registerFlags(fs *flag.FlagSet, o *options) {
	fs.Var(&o.sources, "source", "where events come from: kubernetes:https://kubernetes.default[?inClusterConfig=false&auth=KUBECONFIG&insecure=true&namespaces=a,b] (kube-eventer's form; exactly one)")
	fs.Var(&o.sinks, "sink", "where events go, repeatable: SCHEME:TARGET?PARAMS, e.g. webhook:http://receiver/events?level=Warning&method=POST. Every sink and parameter is listed below")
	fs.StringVar(&o.configFile, "config", "", "a file of team routes: Receivers (where to deliver: a sink URI, its Secret and template) and Routes (which events go to which Receivers), the same YAML as the herald.dev/v1alpha1 resources (docs/routes.md); reloaded when it changes and on SIGHUP, a version that does not validate is refused and the last good one kept (herald_config_last_reload_successful). Beside --sink, not instead")
	fs.BoolVar(&o.routeCRDs, "routes", false, "serve the Receiver and Route resources (herald.dev/v1alpha1, CRDs in deploy/crds): each team declares its own in its namespace, they take effect within seconds, and herald writes each one's Ready condition and counts in its status (docs/routes.md)")
	fs.DurationVar(&o.frequency, "frequency", 30*time.Second, "accepted for kube-eventer compatibility; herald delivers each event as it comes (an idle sink sends at once, a busy one batches what queued meanwhile; see each sink's flush= parameter) instead of on a fixed tick")
	fs.StringVar(&o.healthzIP, "healthz-ip", "0.0.0.0", "address of the /healthz, /readyz and /metrics server")
	fs.UintVar(&o.healthzPort, "healthz-port", 8084, "port of the /healthz, /readyz and /metrics server")
	fs.StringVar(&o.clusterName, "cluster-name", "", "name of this cluster, added to every record (.Cluster in templates) for multi-cluster setups")
	fs.StringVar(&o.timezone, "timezone", "", `time zone for every rendered time ({{ .LastTimestamp }}, the date helper, chat sinks) and log line (IANA name, e.g. "Asia/Shanghai"). Default: the TZ environment variable, as kube-eventer used it, else UTC; given explicitly, --timezone wins over TZ`)
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 25*time.Second, "on SIGTERM, how long to keep delivering what is queued before exiting (keep it below the pod's terminationGracePeriodSeconds)")
	fs.StringVar(&o.instance, "instance", defaultInstance, "name of this herald install, unique in its namespace: it names the leader-election Lease (NAME) and the default checkpoint ConfigMap (NAME-checkpoint), so two installs in one namespace never share them (the Helm chart sets it from the release name). A herald that finds its Lease or checkpoint used by another configuration reports an instance conflict (log, /readyz, herald_instance_conflict)")
	fs.StringVar(&o.checkpoint, "checkpoint", "", "where herald saves its delivered positions (one per sink), so a restart or a hand-over resumes without losing or replaying events: configmap:NAMESPACE/NAME, file:PATH, both comma-separated (a file on an emptyDir, saved after every delivered batch, makes a container restart after SIGKILL or OOMKilled repeat nothing; the ConfigMap carries the position to a new pod), or off (default: configmap:$POD_NAMESPACE/INSTANCE-checkpoint, INSTANCE being --instance, NAMESPACE being $POD_NAMESPACE or the pod's ServiceAccount namespace; outside a pod, off)")
	fs.DurationVar(&o.checkpointEvery, "checkpoint-interval", time.Second, "shortest time between two checkpoint saves to a ConfigMap (a file is saved after every delivered batch); after a SIGKILL, what was delivered in the last interval may be delivered again")
	fs.DurationVar(&o.eventTTL, "event-ttl", time.Hour, "the API server's --event-ttl: when herald resumes from a checkpoint older than this, the events written in between have expired; herald reports that window as a gap (logged, herald_source_gaps_total)")
	fs.BoolVar(&o.leaderElect, "leader-elect", false, "run several replicas with one active: only the holder of the Lease named --instance watches and delivers; the others stand by (/readyz says \"standby\") and take over, from the checkpoint, when the leader goes")
	fs.StringVar(&o.leaderElectNamespace, "leader-elect-namespace", "", "namespace of the Lease (default $POD_NAMESPACE, else the pod's ServiceAccount namespace)")
	fs.DurationVar(&o.leaseDuration, "leader-elect-lease-duration", 15*time.Second, "how long standbys wait after the leader's last renewal before taking over")
	fs.DurationVar(&o.renewDeadline, "leader-elect-renew-deadline", 10*time.Second, "how long the leader keeps retrying to renew before it gives up and exits")
	fs.DurationVar(&o.retryPeriod, "leader-elect-retry-period", 2*time.Second, "how often candidates try to acquire or renew the Lease")
	fs.BoolVar(&o.showVersion, "version", false, "print the version, commit, build date and Go version, and exit (as herald version)")
	fs.StringVar(&o.logFormat, "log-format", "text", "text (glog's lines) or json: one JSON object per line with the keys ts, level, msg and caller, for log pipelines; the same redaction, client-go's logs included")
	fs.BoolVar(&o.profiling, "profiling", false, "serve Go's profiles under /debug/pprof/ on the healthz port (for diagnosing CPU or memory; keep that port private)")
	fs.IntVar(&o.maxProcs, "max_procs", 0, "most CPUs herald uses at once (GOMAXPROCS), as in kube-eventer; 0 or less keeps Go's default, which follows the container's CPU limit")
	fs.BoolVar(&o.eventMetrics, "event-metrics", true, "export kube-eventer's event counters on /metrics under kube-eventer's names (eventer_events_normal_total, eventer_events_warning_total, eventer_events_error_total), so its dashboards keep working")
	fs.DurationVar(&o.eventSeriesTTL, "event-metrics-ttl", kubesource.DefaultEventSeriesTTL, "with --event-metrics: delete an object's eventer_events_warning_total and eventer_events_error_total series when it had no event for this long (kube-eventer kept them for ever, one series per object, so its memory grew without bound); 0 keeps them")
	fs.IntVar(&o.eventMaxSeries, "event-metrics-max-series", kubesource.DefaultEventMaxSeries, "with --event-metrics: keep at most this many warning and error series, deleting the least recently counted ones (herald_event_metrics_series_evicted_total counts deletions); 0 means no limit")
	registerPodRestartFlags(fs, &o.podRestarts)
	registerKlogCompat(fs)
}

func main() {
	// Log to stderr unless told otherwise, as kube-eventer did (glog's default is files in /tmp).
	_ = flag.Set("logtostderr", "true")
	args := os.Args[1:]
	cmd := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "sinks":
		os.Exit(runSinks(args, os.Stdout, os.Stderr))
	case "migrate":
		os.Exit(runMigrate(args, os.Stdout, os.Stderr))
	case "run", "check", "version", "help":
	default:
		fmt.Fprintln(os.Stderr, unknownCommand(cmd))
		os.Exit(2)
	}
	var o options
	fs := flag.CommandLine
	registerFlags(fs, &o)
	if code, stop := parseFlags(fs, args, os.Stdout, os.Stderr); stop {
		os.Exit(code)
	}
	if cmd == "help" {
		// herald help [flags]
		switch {
		case fs.NArg() == 0:
			usage(os.Stdout, fs)
		case fs.NArg() == 1 && fs.Arg(0) == "flags":
			usageFull(os.Stdout, fs)
		default:
			fmt.Fprintf(os.Stderr, "herald help: %q is not a help topic; write herald help, herald help flags or herald sinks [SCHEME]\n", strings.Join(fs.Args(), " "))
			os.Exit(2)
		}
		return
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "herald: unexpected argument %q; flags are written --name=value (herald --help lists them)\n", fs.Arg(0))
		os.Exit(2)
	}
	if cmd == "version" || o.showVersion {
		printVersion(os.Stdout)
		return
	}
	closeLogs, err := setupLogging(o.logFormat)
	if err != nil {
		fmt.Fprintf(os.Stderr, "herald: %v\n", err)
		os.Exit(2)
	}
	flushLogs = closeLogs
	o.explicit = map[string]bool{}
	flag.CommandLine.Visit(func(f *flag.Flag) { o.explicit[f.Name] = true })
	if o.maxProcs > 0 {
		runtime.GOMAXPROCS(o.maxProcs)
	}
	routeKlog()
	code := 0
	switch cmd {
	case "check":
		code = runCheck(&o, os.Stdout)
	case "run":
		code = runDaemon(&o)
	}
	glog.Flush()
	closeLogs()
	os.Exit(code)
}

// printVersion prints what a bug report needs: herald's version, commit and build date, and
// the Go version and platform it was built with.
func printVersion(w io.Writer) { fmt.Fprintln(w, versionString()) }

func versionString() string {
	return fmt.Sprintf("herald %s (commit %s, built %s, %s %s/%s)", version, commit, date, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// complete fills in what the flags leave to the environment (the log sink when no --sink,
// --config or --routes is given, the time zone, the Lease's namespace, the default checkpoint) and logs each choice, then
// validate checks the flags that need no cluster. Both run before anything else does.
func (o *options) complete() error {
	if len(o.sinks) == 0 && o.configFile == "" && !o.routeCRDs {
		o.sinks = stringList{"log"}
		glog.Info("no --sink given: using the log sink (events to stderr)")
	}
	loc, err := o.timeZone()
	if err != nil {
		return err
	}
	o.location = loc
	// Times decoded from the API server are in time.Local, and kube-eventer printed them so
	// ({{ .LastTimestamp }}): make that the chosen zone, so every rendered time agrees.
	time.Local = loc
	if o.leaderElect && o.leaderElectNamespace == "" {
		o.leaderElectNamespace = podNamespace()
	}
	if o.leaderElect && o.checkpoint != "" && !strings.Contains(o.checkpoint, "configmap:") {
		glog.Warningf("--leader-elect with --checkpoint=%s: replicas do not share it unless the path is on a shared volume; a new leader resumes only from a checkpoint it can read (use configmap:NS/NAME)", o.checkpoint)
	}
	if o.checkpoint == "" {
		if ns := podNamespace(); ns != "" {
			o.checkpoint = "configmap:" + ns + "/" + o.instance + "-checkpoint"
		} else {
			o.checkpoint = "off"
			if o.leaderElect {
				glog.Warning("--leader-elect without a checkpoint: a new leader starts without replay, so events written during the hand-over are not delivered; set --checkpoint=configmap:NS/NAME (shared by the replicas)")
			}
			glog.Info("checkpoint off: not in a pod (no POD_NAMESPACE, no ServiceAccount namespace file) and no --checkpoint given; a restart will not deliver the events written while herald was down (set --checkpoint=configmap:NS/NAME or file:PATH)")
		}
	}
	return o.validate()
}

// validate checks the completed flags; it changes nothing.
func (o *options) validate() error {
	if len(o.sources) > 1 {
		return fmt.Errorf("--source given %d times; herald reads exactly one source", len(o.sources))
	}
	if errs := validation.IsDNS1123Label(o.instance); len(errs) > 0 || len(o.instance) > 52 {
		return fmt.Errorf("--instance=%q: must be a lowercase DNS label of at most 52 characters (it names the Lease and the ConfigMap %s-checkpoint): %s", o.instance, o.instance, strings.Join(errs, "; "))
	}
	if o.shutdownTimeout <= 0 {
		return fmt.Errorf("--shutdown-timeout=%s: must be positive", o.shutdownTimeout)
	}
	if o.checkpointEvery < 0 {
		return fmt.Errorf("--checkpoint-interval=%s: must be 0 (save after every delivered batch) or positive", o.checkpointEvery)
	}
	if o.eventTTL <= 0 {
		return fmt.Errorf("--event-ttl=%s: must be positive (the API server's default is 1h)", o.eventTTL)
	}
	if o.leaderElect {
		if o.leaderElectNamespace == "" {
			return fmt.Errorf("--leader-elect needs the Lease's namespace: set POD_NAMESPACE (the manifest sets it from the downward API) or --leader-elect-namespace")
		}
		if !(o.leaseDuration > o.renewDeadline && o.renewDeadline > o.retryPeriod && o.retryPeriod > 0) {
			return fmt.Errorf("--leader-elect-lease-duration (%s) > --leader-elect-renew-deadline (%s) > --leader-elect-retry-period (%s) > 0 must hold", o.leaseDuration, o.renewDeadline, o.retryPeriod)
		}
	}
	if _, err := checkpoint.Parse(o.checkpoint, nil, o.checkpointEvery); err != nil {
		return err
	}
	return nil
}

// redactedSinks returns the --sink values with secrets removed, for logs.
func (o *options) redactedSinks() []string {
	var out []string
	for _, s := range o.sinks {
		out = append(out, redact.Text(s))
	}
	return out
}

// printSourceParams lists the --source parameters (herald help flags).
func printSourceParams(w io.Writer) {
	fmt.Fprint(w, "\nSource parameters (--source=kubernetes:URL?PARAMS):\n")
	for _, p := range kubesource.Params {
		extra := ""
		if p.Default != "" {
			extra = fmt.Sprintf(" (default %s)", p.Default)
		}
		if p.Secret {
			extra += " (secret: use ${ENV})"
		}
		fmt.Fprintf(w, "  %s%s\n", p.Name, extra)
		writeWrapped(w, "      ", p.Help, 96)
	}
}
