package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/kubernetes/fake"
)

func validOptions() *options {
	return &options{timezone: "UTC", shutdownTimeout: time.Second, eventTTL: time.Hour,
		leaseDuration: 15 * time.Second, renewDeadline: 10 * time.Second, retryPeriod: 2 * time.Second}
}

func TestCheckpointDefault(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "")
	o := validOptions()
	if err := o.validate(); err != nil || o.checkpoint != "off" {
		t.Errorf("outside a pod: checkpoint %q, %v; want off", o.checkpoint, err)
	}
	t.Setenv("POD_NAMESPACE", "herald")
	o = validOptions()
	if err := o.validate(); err != nil || o.checkpoint != "configmap:herald/herald-checkpoint" {
		t.Errorf("in a pod: checkpoint %q, %v", o.checkpoint, err)
	}
	o = validOptions()
	o.checkpoint = "file:/x"
	if err := o.validate(); err != nil || o.checkpoint != "file:/x" {
		t.Errorf("explicit: checkpoint %q, %v", o.checkpoint, err)
	}
	for _, bad := range []string{"configmapp:herald/cp", "file:/x,off", "file:"} {
		o = validOptions()
		o.checkpoint = bad
		if err := o.validate(); err == nil || !strings.Contains(err.Error(), "--checkpoint=") {
			t.Errorf("--checkpoint=%s: %v; want an error naming the flag", bad, err)
		}
	}
	o = validOptions()
	o.checkpointEvery = -time.Second
	if err := o.validate(); err == nil || !strings.Contains(err.Error(), "--checkpoint-interval") {
		t.Errorf("--checkpoint-interval=-1s: %v", err)
	}
	o = validOptions()
	o.eventTTL = 0
	if err := o.validate(); err == nil || !strings.Contains(err.Error(), "--event-ttl") {
		t.Errorf("--event-ttl=0: %v", err)
	}
}

func TestLeaderElectFlags(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "")
	o := validOptions()
	o.leaderElect = true
	if err := o.validate(); err == nil || !strings.Contains(err.Error(), "POD_NAMESPACE") {
		t.Errorf("no namespace: %v", err)
	}
	t.Setenv("POD_NAMESPACE", "herald")
	o = validOptions()
	o.leaderElect = true
	if err := o.validate(); err != nil || o.leaderElectNamespace != "herald" {
		t.Errorf("namespace %q, %v", o.leaderElectNamespace, err)
	}
	o = validOptions()
	o.leaderElect = true
	o.renewDeadline = o.leaseDuration
	if err := o.validate(); err == nil || !strings.Contains(err.Error(), "renew-deadline") {
		t.Errorf("renew deadline = lease duration: %v", err)
	}
}

// Two candidates on one Lease: the first leads, the second stands by until the first releases.
func TestLeaderElectionOneLeads(t *testing.T) {
	client := fake.NewClientset()
	o := validOptions()
	o.leaderElect, o.leaderElectNamespace = true, "herald"
	o.leaseDuration, o.renewDeadline, o.retryPeriod = 2*time.Second, time.Second, 100*time.Millisecond
	a, err := newLeader(o, client, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	b, err := newLeader(o, client, prometheus.NewRegistry())
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
