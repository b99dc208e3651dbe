package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/kubernetes"

	"github.com/heraldproject/herald/common/checkpoint"
	"github.com/heraldproject/herald/core"
	kubesource "github.com/heraldproject/herald/sources/kubernetes"
	"github.com/heraldproject/herald/sources/podrestart"
)

// podRestartOptions are the --pod-restarts flags.
type podRestartOptions struct {
	enabled   bool
	selector  string
	ignore    stringList
	repeat    time.Duration
	logLines  int64
	logBytes  int64
	podEvents int
}

func registerPodRestartFlags(fs *flag.FlagSet, o *podRestartOptions) {
	fs.BoolVar(&o.enabled, "pod-restarts", false, "also watch pods and report each container restart as a Warning event with reason ContainerRestarted, explained (exit code, reason, log tails, recent events, workload); needs get/list/watch on pods, get on pods/log and apps/replicasets. Namespaces are the --source's namespaces=")
	fs.StringVar(&o.selector, "pod-restart-selector", "", "with --pod-restarts: watch only pods matching this label selector (e.g. tier!=batch)")
	fs.Var(&o.ignore, "pod-restart-ignore-container", "with --pod-restarts: do not report restarts of containers with this name (a sidecar such as istio-proxy); repeatable, or comma-separated")
	fs.DurationVar(&o.repeat, "restart-repeat", podrestart.DefaultRepeat, "with --pod-restarts: after reporting a container's restart, fold its further restarts within this window into the next report (0 reports every restart)")
	fs.Int64Var(&o.logLines, "restart-log-lines", podrestart.DefaultTailLines, "with --pod-restarts: lines of the previous and current container logs to include; the log text goes to every sink that takes the report (a chat service too), so 0 fetches no log at all (and needs no pods/log permission)")
	fs.Int64Var(&o.logBytes, "restart-log-bytes", podrestart.DefaultLimitBytes, "with --pod-restarts: at most this many bytes of each log tail; 0 fetches no log at all, as --restart-log-lines=0")
	fs.IntVar(&o.podEvents, "restart-recent-events", 10, "with --pod-restarts: how many of the pod's recent events to include (kept from the event watch; no extra API call)")
}

// Pod restart explanations use their own client, so that their log requests neither wait
// behind nor starve the event watch under client-go's default 5 requests/s; still bounded.
const (
	podRestartQPS   = 20
	podRestartBurst = 40
)

// newPodRestarts builds the pod restart source, or returns nil when --pod-restarts is off.
func newPodRestarts(o *podRestartOptions, settings *kubesource.Settings, cluster string,
	events podrestart.EventHistory, emit func(*core.Event), reg prometheus.Registerer, loaded checkpoint.Checkpoint) (*podrestart.Source, error) {
	if !o.enabled {
		return nil, nil
	}
	cfg, err := settings.ClientConfig()
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = podRestartQPS, podRestartBurst
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("--pod-restarts: %v", err)
	}
	var seed map[string]int32
	if loaded.RestartsTracked {
		// The last run's counts: a restart during the downtime or the hand-over is reported.
		seed = loaded.Restarts
		if seed == nil {
			seed = map[string]int32{}
		}
	}
	return podrestart.New(podrestart.Config{
		Seed: seed, SeedTime: loaded.Time,
		Client: client, Namespaces: settings.Namespaces, LabelSelector: o.selector, Cluster: cluster,
		IgnoreContainers: splitList(o.ignore),
		Emit:             emit, Events: events, Metrics: podrestart.NewMetrics(reg),
		Repeat: o.repeat, TailLines: o.logLines, LimitBytes: o.logBytes,
		NoLogs: o.logLines == 0 || o.logBytes == 0,
	})
}

// restartCounts is src.Restarts for the checkpoint, nil when --pod-restarts is off.
func restartCounts(src *podrestart.Source) func() map[string]int32 {
	if src == nil {
		return nil
	}
	return src.Restarts
}

// runPodRestarts runs src until ctx is done; a nil src returns at once.
func runPodRestarts(ctx context.Context, src *podrestart.Source) {
	if src != nil {
		src.Run(ctx)
	}
}

// splitList flattens repeated and comma-separated values, dropping empty ones.
func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, x := range strings.Split(v, ",") {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
	}
	return out
}
