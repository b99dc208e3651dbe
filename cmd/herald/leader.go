package main

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/golang/glog"
	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// leader runs client-go leader election on a Lease: only the leader runs the source and
// delivers. A leader that loses the lease exits at once (the pod restarts and stands by), so two
// processes never deliver at the same time for longer than the renew deadline allows. On
// shutdown the lease is released only after the final checkpoint, so the next leader resumes
// from it.
type leader struct {
	identity string
	lease    string // NAMESPACE/NAME, for messages
	me       self
	conf     *conflicts
	after    time.Duration // leaseConflictAfter
	elector  *leaderelection.LeaderElector
	cancel   context.CancelFunc
	done     chan struct{}
	elected  chan struct{}
	leading  atomic.Bool
	stopping atomic.Bool
	gauge    prometheus.Gauge
}

// newLeader prepares leader election from the --leader-elect flags, on the Lease named
// --instance; nil when it is off. The holder identity carries me's configuration fingerprint, so
// a standby can tell a replica of its own install from another install that shares the name.
func newLeader(o *options, client kubernetes.Interface, reg prometheus.Registerer, me self, conf *conflicts) (*leader, error) {
	if !o.leaderElect {
		return nil, nil
	}
	leaseName := o.instance
	l := &leader{identity: me.process, lease: o.leaderElectNamespace + "/" + leaseName, me: me, conf: conf, after: leaseConflictAfter(o),
		done: make(chan struct{}), elected: make(chan struct{}),
		gauge: prometheus.NewGauge(prometheus.GaugeOpts{Name: "herald_leader", Help: "1 while this process holds the leader Lease (--leader-elect) and delivers; 0 on standby."})}
	reg.MustRegister(l.gauge)
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: o.leaderElectNamespace, Name: leaseName},
		Client:     client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: l.identity},
	}
	el, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   o.leaseDuration,
		RenewDeadline:   o.renewDeadline,
		RetryPeriod:     o.retryPeriod,
		Name:            leaseName,
		ReleaseOnCancel: true,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) {
				glog.Infof("leader election: %s is the leader (Lease %s/%s); starting the event watch", l.identity, o.leaderElectNamespace, leaseName)
				l.conf.clear("lease")
				l.leading.Store(true)
				l.gauge.Set(1)
				close(l.elected)
			},
			OnStoppedLeading: func() {
				l.gauge.Set(0)
				if l.stopping.Load() {
					return
				}
				// Another replica may lead already: stop delivering now. The new leader resumes
				// from the checkpoint; what this one held is delivered by it.
				glog.Errorf("leader election: lost the Lease %s/%s; exiting so that only the new leader delivers", o.leaderElectNamespace, leaseName)
				glog.Flush()
				flushLogs()
				os.Exit(1)
			},
			OnNewLeader: func(id string) {
				if id != l.identity {
					glog.Infof("leader election: standing by; the leader is %s", id)
				}
			},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("--leader-elect: %v", err)
	}
	l.elector = el
	return l, nil
}

// start competes for the lease in the background until release.
func (l *leader) start() {
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	go func() {
		defer close(l.done)
		l.elector.Run(ctx)
	}()
	go l.watchHolder(ctx)
}

// watchHolder reports an instance conflict while a herald of another configuration has held the
// Lease for longer than l.after (a rollout hands over sooner): two installs share the name, and
// this one would stand by for ever.
func (l *leader) watchHolder(ctx context.Context) {
	const where = "lease"
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var since time.Time
	var holder string
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		id := l.elector.GetLeader()
		other := configOfIdentity(id)
		if l.isLeading() || id == "" || other == "" || other == l.me.config {
			since, holder = time.Time{}, ""
			l.conf.clear(where)
			continue
		}
		if id != holder {
			since, holder = time.Now(), id
		}
		if d := time.Since(since); d >= l.after {
			l.conf.set(where, fmt.Sprintf("the Lease %s is held by %s, a herald with another configuration (%s; this one, %s, has %s) for %s: two installs share --instance=%s, so this one stands by for ever; give each install its own --instance (the Helm chart sets it from the release name)",
				l.lease, id, other, l.me.process, l.me.config, d.Round(time.Second), l.me.instance))
		}
	}
}

// await waits until this process leads (true) or ctx ends first (false).
func (l *leader) await(ctx context.Context) bool {
	select {
	case <-l.elected:
		return true
	case <-ctx.Done():
		return false
	}
}

// isLeading reports whether this process holds the lease.
func (l *leader) isLeading() bool { return l.leading.Load() }

// release gives the lease up (if held) and stops competing; call it last, after the final
// checkpoint.
func (l *leader) release() {
	l.stopping.Store(true)
	l.cancel()
	select {
	case <-l.done:
	case <-time.After(10 * time.Second):
		glog.Warning("leader election: the Lease was not released within 10s; the next leader takes over when it expires")
	}
}
