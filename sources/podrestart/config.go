package podrestart

import (
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/heraldproject/herald/core"
)

// Defaults for the zero values of Config.
const (
	DefaultRepeat         = 10 * time.Minute
	DefaultTailLines      = 50
	DefaultLimitBytes     = 16 << 10
	DefaultLogConcurrency = 4
	DefaultLogTimeout     = 10 * time.Second
	// DefaultQueue is how many restarts may wait for enrichment before further ones are
	// reported without logs.
	DefaultQueue = 1000
)

// EventHistory gives a pod's recent events without an API call; sources/kubernetes.Source
// implements it (with Config.PodEvents > 0).
type EventHistory interface {
	RecentEvents(namespace, pod string) []*corev1.Event
}

// Config is what New needs. Zero values take the defaults above.
type Config struct {
	// Client reads pods, their logs and ReplicaSets; cmd/herald shares one clientset.
	Client kubernetes.Interface
	// Namespaces limits the pod watch to these namespaces (one informer each); empty watches all.
	Namespaces []string
	// LabelSelector limits the pod watch to matching pods ("" for all).
	LabelSelector string
	// IgnoreContainers are container names whose restarts are not reported (sidecars).
	IgnoreContainers []string
	// Cluster is --cluster-name, set on every emitted event.
	Cluster string
	// Emit receives every report: the pipeline's non-blocking Push, as for the event source.
	Emit func(*core.Event)
	// Events supplies the pod's recent events; nil reports none.
	Events EventHistory
	// Metrics; nil creates an unregistered set.
	Metrics *Metrics
	// Clock drives throttling and timestamps; nil is the real clock.
	Clock clock.Clock

	// Seed is the last restart count per container ("podUID/container", counts above 0) an
	// earlier run saw, from a checkpoint saved at SeedTime: pods present at start are compared
	// with it, so a restart that happened while herald was down or handing over is reported
	// once. Nil: the counts found at start are the baseline, nothing is reported for them.
	Seed     map[string]int32
	SeedTime time.Time

	// Repeat is the throttle window per container: after a report, further restarts of the
	// same container within Repeat are folded into the next report (--restart-repeat).
	Repeat time.Duration
	// TailLines and LimitBytes bound each fetched log tail (0: the defaults).
	TailLines  int64
	LimitBytes int64
	// NoLogs: fetch no container log at all (--restart-log-lines=0 or --restart-log-bytes=0);
	// a report then holds the last state, the events and the workload, and no log text, which
	// may carry secrets, reaches a sink.
	NoLogs bool
	// LogConcurrency bounds concurrent enrichments (each fetches up to two logs).
	LogConcurrency int
	// LogTimeout bounds one log request.
	LogTimeout time.Duration
	// Queue bounds restarts waiting for enrichment.
	Queue int
}

func (c *Config) validate() error {
	var errs []error
	if c.Client == nil {
		errs = append(errs, errors.New("pod restarts: no API client (Config.Client is nil)"))
	}
	if c.Emit == nil {
		errs = append(errs, errors.New("pod restarts: nowhere to deliver reports (Config.Emit is nil)"))
	}
	if c.LabelSelector != "" {
		if _, err := labels.Parse(c.LabelSelector); err != nil {
			errs = append(errs, fmt.Errorf("--pod-restart-selector=%q: %v; write a label selector such as app=web,tier!=batch", c.LabelSelector, err))
		}
	}
	if c.Repeat < 0 {
		errs = append(errs, fmt.Errorf("--restart-repeat=%s: must not be negative (0 reports every restart)", c.Repeat))
	}
	if c.TailLines < 0 || c.LimitBytes < 0 {
		errs = append(errs, fmt.Errorf("--restart-log-lines=%d, --restart-log-bytes=%d: must not be negative", c.TailLines, c.LimitBytes))
	}
	if c.LogConcurrency < 0 || c.LogTimeout < 0 || c.Queue < 0 {
		errs = append(errs, errors.New("pod restarts: LogConcurrency, LogTimeout and Queue must not be negative"))
	}
	return errors.Join(errs...)
}

func (c *Config) defaults() {
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics(nil)
	}
	if c.TailLines == 0 {
		c.TailLines = DefaultTailLines
	}
	if c.LimitBytes == 0 {
		c.LimitBytes = DefaultLimitBytes
	}
	if c.LogConcurrency == 0 {
		c.LogConcurrency = DefaultLogConcurrency
	}
	if c.LogTimeout == 0 {
		c.LogTimeout = DefaultLogTimeout
	}
	if c.Queue == 0 {
		c.Queue = DefaultQueue
	}
}
