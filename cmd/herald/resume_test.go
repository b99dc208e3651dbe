package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/heraldproject/herald/common/checkpoint"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

func validOptions() *options {
	return &options{timezone: "UTC", shutdownTimeout: time.Second, eventTTL: time.Hour, instance: defaultInstance,
		leaseDuration: 15 * time.Second, renewDeadline: 10 * time.Second, retryPeriod: 2 * time.Second}
}

func TestCheckpointDefault(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "")
	o := validOptions()
	if err := o.complete(); err != nil || o.checkpoint != "off" {
		t.Errorf("outside a pod: checkpoint %q, %v; want off", o.checkpoint, err)
	}
	t.Setenv("POD_NAMESPACE", "herald")
	o = validOptions()
	if err := o.complete(); err != nil || o.checkpoint != "configmap:herald/herald-checkpoint" {
		t.Errorf("in a pod: checkpoint %q, %v", o.checkpoint, err)
	}
	o = validOptions()
	o.instance = "team-a"
	if err := o.complete(); err != nil || o.checkpoint != "configmap:herald/team-a-checkpoint" {
		t.Errorf("--instance=team-a in a pod: checkpoint %q, %v; want the instance's own ConfigMap", o.checkpoint, err)
	}
	for _, bad := range []string{"", "Team", "a_b", strings.Repeat("x", 53)} {
		o = validOptions()
		o.instance = bad
		if err := o.complete(); err == nil || !strings.Contains(err.Error(), "--instance") {
			t.Errorf("--instance=%q: %v; want an error naming the flag", bad, err)
		}
	}
	o = validOptions()
	o.checkpoint = "file:/x"
	if err := o.complete(); err != nil || o.checkpoint != "file:/x" {
		t.Errorf("explicit: checkpoint %q, %v", o.checkpoint, err)
	}
	for _, bad := range []string{"configmapp:herald/cp", "file:/x,off", "file:"} {
		o = validOptions()
		o.checkpoint = bad
		if err := o.complete(); err == nil || !strings.Contains(err.Error(), "--checkpoint=") {
			t.Errorf("--checkpoint=%s: %v; want an error naming the flag", bad, err)
		}
	}
	o = validOptions()
	o.checkpointEvery = -time.Second
	if err := o.complete(); err == nil || !strings.Contains(err.Error(), "--checkpoint-interval") {
		t.Errorf("--checkpoint-interval=-1s: %v", err)
	}
	o = validOptions()
	o.eventTTL = 0
	if err := o.complete(); err == nil || !strings.Contains(err.Error(), "--event-ttl") {
		t.Errorf("--event-ttl=0: %v", err)
	}
}

func TestLeaderElectFlags(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "")
	o := validOptions()
	o.leaderElect = true
	if err := o.complete(); err == nil || !strings.Contains(err.Error(), "POD_NAMESPACE") {
		t.Errorf("no namespace: %v", err)
	}
	t.Setenv("POD_NAMESPACE", "herald")
	o = validOptions()
	o.leaderElect = true
	if err := o.complete(); err != nil || o.leaderElectNamespace != "herald" {
		t.Errorf("namespace %q, %v", o.leaderElectNamespace, err)
	}
	o = validOptions()
	o.leaderElect = true
	o.renewDeadline = o.leaseDuration
	if err := o.complete(); err == nil || !strings.Contains(err.Error(), "renew-deadline") {
		t.Errorf("renew deadline = lease duration: %v", err)
	}
}

// Two candidates on one Lease: the first leads, the second stands by until the first releases.
func TestLeaderElectionOneLeads(t *testing.T) {
	client := fake.NewClientset()
	o := validOptions()
	o.leaderElect, o.leaderElectNamespace = true, "herald"
	o.leaseDuration, o.renewDeadline, o.retryPeriod = 2*time.Second, time.Second, 100*time.Millisecond
	me := self{instance: "herald", config: "0123456789ab", process: "host-a_0123456789ab_1"}
	a, err := newLeader(o, client, prometheus.NewRegistry(), me, newConflicts(prometheus.NewRegistry()))
	if err != nil {
		t.Fatal(err)
	}
	me.process = "host-b_0123456789ab_2"
	b, err := newLeader(o, client, prometheus.NewRegistry(), me, newConflicts(prometheus.NewRegistry()))
	if err != nil {
		t.Fatal(err)
	}
	a.start()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if !a.await(ctx) {
		t.Fatal("the only candidate never led")
	}
	b.start()
	short, cancelShort := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancelShort()
	if b.await(short) || b.isLeading() {
		t.Fatal("two leaders")
	}
	a.release() // a clean stop hands over at once, without waiting for expiry
	if !b.await(ctx) {
		t.Fatal("the standby never took over after the leader released the lease")
	}
	b.release()
}

// A standby under a leader of the same configuration is a replica and waits quietly; under a
// leader of another configuration (a second install with the same --instance) it reports an
// instance conflict once that has lasted longer than a rollout would.
func TestLeaseHeldByAnotherConfigurationIsAConflict(t *testing.T) {
	for _, tc := range []struct {
		leaderConfig string
		conflict     bool
	}{{"0123456789ab", false}, {"ffffffffffff", true}} {
		client := fake.NewClientset()
		o := validOptions()
		o.leaderElect, o.leaderElectNamespace = true, "herald"
		o.leaseDuration, o.renewDeadline, o.retryPeriod = 2*time.Second, time.Second, 100*time.Millisecond
		a, err := newLeader(o, client, prometheus.NewRegistry(), self{instance: "herald", config: tc.leaderConfig, process: "host-a_" + tc.leaderConfig + "_1"}, newConflicts(prometheus.NewRegistry()))
		if err != nil {
			t.Fatal(err)
		}
		conf := newConflicts(prometheus.NewRegistry())
		b, err := newLeader(o, client, prometheus.NewRegistry(), self{instance: "herald", config: "0123456789ab", process: "host-b_0123456789ab_2"}, conf)
		if err != nil {
			t.Fatal(err)
		}
		b.after = 500 * time.Millisecond
		a.start()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		if !a.await(ctx) {
			t.Fatal("the only candidate never led")
		}
		b.start()
		time.Sleep(3 * time.Second)
		err = conf.err()
		if tc.conflict != (err != nil) || testutil.ToFloat64(conf.gauge) != map[bool]float64{true: 1}[tc.conflict] {
			t.Errorf("leader configuration %s: conflict %v (gauge %v), want %v", tc.leaderConfig, err, testutil.ToFloat64(conf.gauge), tc.conflict)
		}
		if tc.conflict && (!strings.Contains(err.Error(), "host-a_ffffffffffff_1") || !strings.Contains(err.Error(), "--instance")) {
			t.Errorf("the conflict %q does not name the other holder and the fix", err)
		}
		a.release()
		b.release()
		cancel()
	}
	if got := configOfIdentity("node-1_0123456789ab_5f1e"); got != "0123456789ab" {
		t.Errorf("configOfIdentity = %q", got)
	}
	if got := configOfIdentity("node-1_5f1e"); got != "" {
		t.Errorf("configOfIdentity of an older herald's identity = %q, want none", got)
	}
}

// resume starts each namespace's watch from what every sink and that watch had done, and skips
// for each sink what it and the event's watch had both done.
func TestResumePerSinkAndNamespace(t *testing.T) {
	built := []*sinks.Built{{ID: "fast", Key: "name=fast"}, {ID: "slow", Key: "name=slow"}, {ID: "new", Key: "name=new"}}
	cp := checkpoint.Checkpoint{ResourceVersion: 40,
		Sinks:  map[string]uint64{"name=fast": 100, "name=slow": 70},
		Scopes: map[string]uint64{"busy": 100, "quiet": 40}}
	scopeOf := func(e *core.Event) string { return e.Namespace }
	since, skip := resume(cp, built[:2], []string{"busy", "quiet"}, scopeOf)
	if since.Scopes["busy"] != 70 || since.Scopes["quiet"] != 40 {
		t.Errorf("start positions %v, want busy 70 (the slow sink), quiet 40", since.Scopes)
	}
	ev := func(ns string, rv uint64) *core.Event {
		return &core.Event{Event: &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: ns}}, Position: rv}
	}
	for _, c := range []struct {
		sink string
		e    *core.Event
		want bool
	}{
		{"fast", ev("busy", 90), true},  // fast had busy up to 100
		{"slow", ev("busy", 90), false}, // slow had only up to 70
		{"slow", ev("busy", 70), true},
		{"fast", ev("quiet", 60), false}, // the quiet watch had only up to 40
	} {
		if got := skip(c.sink, c.e); got != c.want {
			t.Errorf("skip(%s, %s@%d) = %v, want %v", c.sink, c.e.Namespace, c.e.Position, got, c.want)
		}
	}
	// A sink new since the checkpoint starts at the overall position.
	since, _ = resume(cp, built, []string{"busy", "quiet"}, scopeOf)
	if since.Scopes["busy"] != 40 {
		t.Errorf("with a new sink busy starts at %d, want 40", since.Scopes["busy"])
	}
}

// A checkpoint saved before sinks were keyed by a hash (the key was the redacted value) still
// resumes each sink from its own position; the next save writes the new key only.
func TestResumeFromALegacyKey(t *testing.T) {
	b, err := sinks.Build(1, "webhook:http://127.0.0.1:9/x?method=POST&key=Legacy-Secret-1", sinks.Env{CheckOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Sink.Close()
	if b.LegacyKey == "" || b.Key == b.LegacyKey || strings.Contains(b.Key, "127.0.0.1") {
		t.Fatalf("key %q, legacy key %q: want a hash, and the old redacted form apart", b.Key, b.LegacyKey)
	}
	cp := checkpoint.Checkpoint{ResourceVersion: 40, Sinks: map[string]uint64{b.LegacyKey: 90}, Scopes: map[string]uint64{"": 100}}
	since, skip := resume(cp, []*sinks.Built{b}, []string{""}, func(*core.Event) string { return "" })
	if since.Scopes[""] != 90 {
		t.Errorf("start %v, want 90: the sink's position under its legacy key", since.Scopes)
	}
	e := &core.Event{Event: &corev1.Event{}, Position: 80}
	if !skip(b.ID, e) {
		// The sink had everything up to 90 under its old key: 80 is a replay for it.
		t.Error("the legacy key's position was not used")
	}
}
