package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/golang/glog"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/heraldproject/herald/common/checkpoint"
	"github.com/heraldproject/herald/common/redact"
	"github.com/heraldproject/herald/sinks"
)

// defaultInstance is --instance's default: the Lease "herald" and the ConfigMap
// "herald-checkpoint", the names herald used before --instance existed.
const defaultInstance = "herald"

// self is this process as other heralds see it: in the Lease's holder identity and in the
// checkpoints it saves.
type self struct {
	instance string
	// config is a fingerprint of what this herald delivers where: two processes with the same
	// fingerprint are replicas of one install.
	config string
	// process is unique to this process: HOST_CONFIG_UUID (the Lease's holder identity).
	process string
}

func newSelf(o *options, built []*sinks.Built) self {
	host, _ := os.Hostname()
	s := self{instance: o.instance, config: configFingerprint(o, built)}
	s.process = host + "_" + s.config + "_" + string(uuid.NewUUID())
	return s
}

// origin is self as a checkpoint records it.
func (s self) origin() checkpoint.Origin {
	return checkpoint.Origin{Instance: s.instance, Config: s.config, Process: s.process}
}

// configFingerprint is a short hash of the sinks (their checkpoint keys: name= or the redacted
// --sink value), the source and the cluster name.
func configFingerprint(o *options, built []*sinks.Built) string {
	var keys []string
	for _, b := range built {
		keys = append(keys, "sink="+b.Key)
	}
	sort.Strings(keys)
	for _, s := range o.sources {
		keys = append(keys, "source="+redact.Text(s))
	}
	keys = append(keys, "cluster="+o.clusterName)
	sum := sha256.Sum256([]byte(strings.Join(keys, "\n")))
	return hex.EncodeToString(sum[:])[:12]
}

// configOfIdentity is the configuration fingerprint in a Lease holder identity written by
// newSelf, "" for another form (an older herald).
func configOfIdentity(id string) string {
	parts := strings.Split(id, "_")
	if len(parts) != 3 || len(parts[1]) != 12 {
		return ""
	}
	return parts[1]
}

// conflicts are the instance conflicts this herald has found (another install sharing its
// Lease or its checkpoint), shown by /readyz and herald_instance_conflict.
type conflicts struct {
	gauge prometheus.Gauge
	mu    sync.Mutex
	found map[string]string // where -> what
}

func newConflicts(reg prometheus.Registerer) *conflicts {
	c := &conflicts{found: map[string]string{}, gauge: prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "herald_instance_conflict",
		Help: "1 while this herald shares its Lease or its checkpoint with a herald of another configuration (two installs with one --instance); the log and /readyz name both.",
	})}
	reg.MustRegister(c.gauge)
	return c
}

// set records a conflict at where (logged once per change).
func (c *conflicts) set(where, what string) {
	c.mu.Lock()
	old := c.found[where]
	c.found[where] = what
	c.gauge.Set(1)
	c.mu.Unlock()
	if old != what {
		glog.Errorf("instance conflict: %s", what)
	}
}

// clear forgets the conflict at where.
func (c *conflicts) clear(where string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.found[where]; !ok {
		return
	}
	delete(c.found, where)
	glog.Infof("instance conflict at %s resolved", where)
	if len(c.found) == 0 {
		c.gauge.Set(0)
	}
}

// err is every conflict, for /readyz; nil when there is none.
func (c *conflicts) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.found) == 0 {
		return nil
	}
	var all []string
	for _, what := range c.found {
		all = append(all, what)
	}
	sort.Strings(all)
	return fmt.Errorf("instance conflict: %s", strings.Join(all, "; "))
}

// foreignCheckpointWrite is the conflict of another process writing this herald's checkpoint.
func (c *conflicts) foreignCheckpointWrite(store string, me self) func(checkpoint.Origin) {
	return func(other checkpoint.Origin) {
		who := "a herald older than this one (its checkpoint names no writer)"
		if other.Process != "" {
			who = fmt.Sprintf("%s (instance %q, configuration %s)", other.Process, other.Instance, other.Config)
		}
		c.set("checkpoint "+store, fmt.Sprintf("checkpoint %s is also written by %s while this herald (%s, instance %q, configuration %s) runs: two installs (or replicas without --leader-elect) overwrite each other's positions; give each install its own --instance, or run replicas with --leader-elect",
			store, who, me.process, me.instance, me.config))
	}
}

// buildInfo registers herald_build_info.
func buildInfo(reg prometheus.Registerer) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "herald_build_info",
		Help: "Always 1; the labels say which herald runs.",
	}, []string{"version", "commit", "date", "goversion"})
	g.WithLabelValues(version, commit, date, runtime.Version()).Set(1)
	reg.MustRegister(g)
}

// leaseConflictAfter is how long a standby waits under a leader of another configuration before
// it calls that a conflict: a rollout that changes the configuration hands over within a few
// lease durations.
func leaseConflictAfter(o *options) time.Duration { return 4 * o.leaseDuration }
