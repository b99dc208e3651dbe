package kafka

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

const topic = "k8s-events"

var t0 = time.Date(2026, 11, 23, 18, 53, 15, 0, time.UTC)

// newCluster starts a kfake broker in the test process with topic seeded on 3 partitions.
func newCluster(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(3, topic)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// build makes the sink the way cmd/herald does, from a --sink value.
func build(t testing.TB, value string) *Sink {
	t.Helper()
	b, err := sinks.Build(1, value, sinks.Env{Cluster: "prod-eu"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Sink.Close() })
	return b.Sink.(*Sink)
}

func brokersParam(c *kfake.Cluster) string {
	var ps []string
	for _, a := range c.ListenAddrs() {
		ps = append(ps, "brokers="+a)
	}
	return strings.Join(ps, "&")
}

// event makes the count-th delivery of an event about ns/kind/name.
func event(ns, kind, name string, count int32, msg string) *core.Event {
	return &core.Event{
		Cluster: "prod-eu",
		Event: &corev1.Event{
			ObjectMeta: metav1.ObjectMeta{
				Name: name + ".18a4f", Namespace: ns, UID: types.UID("uid-" + ns + "-" + name),
				ResourceVersion: fmt.Sprint(1000 + count),
				ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kubelet", Operation: metav1.ManagedFieldsOperationUpdate}},
			},
			InvolvedObject: corev1.ObjectReference{Kind: kind, Namespace: ns, Name: name, UID: types.UID("obj-" + name), APIVersion: "v1"},
			Reason:         "BackOff",
			Message:        msg,
			Type:           corev1.EventTypeWarning,
			Count:          count,
			Source:         corev1.EventSource{Component: "kubelet", Host: "node-7"},
			FirstTimestamp: metav1.NewTime(t0),
			LastTimestamp:  metav1.NewTime(t0.Add(time.Duration(count) * time.Second)),
		},
	}
}

// objects × perObject events, interleaved, counts rising per object.
func events(objects, perObject int) []*core.Event {
	var out []*core.Event
	for c := 1; c <= perObject; c++ {
		for o := 0; o < objects; o++ {
			ns := []string{"prod", "payments", ""}[o%3]
			kind := "Pod"
			if ns == "" {
				kind = "Node"
			}
			out = append(out, event(ns, kind, fmt.Sprintf("obj-%d", o), int32(c), fmt.Sprintf(`Back-off restarting "app" #%d: 容器重启 🚑 \ "q"`, c)))
		}
	}
	return out
}

// consumer is the second client: a franz-go consumer group reading the topic from the start.
func consumer(t testing.TB, c *kfake.Cluster, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(c.ListenAddrs()...),
		kgo.ConsumerGroup("readers-" + strings.ReplaceAll(t.Name(), "/", "-")),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	return cl
}

// consume reads until n records arrived, then briefly more to catch any extra (a duplicate).
func consume(t testing.TB, cl *kgo.Client, n int) []*kgo.Record {
	t.Helper()
	var recs []*kgo.Record
	deadline, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for len(recs) < n {
		fs := cl.PollFetches(deadline)
		if deadline.Err() != nil {
			t.Fatalf("consumer got %d of %d records before giving up", len(recs), n)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		recs = append(recs, fs.Records()...)
	}
	extra, cancel2 := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel2()
	recs = append(recs, cl.PollFetches(extra).Records()...)
	return recs
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return "<absent>"
}

// checkOrderPerKey checks that each key's records arrive with counts 1..perKey in order.
func checkOrderPerKey(t *testing.T, recs []*kgo.Record, keys, perKey int) {
	t.Helper()
	next := map[string]int32{}
	partition := map[string]int32{}
	for _, r := range recs {
		var v struct {
			Count          int32                  `json:"count"`
			InvolvedObject corev1.ObjectReference `json:"involvedObject"`
		}
		require.NoError(t, json.Unmarshal(r.Value, &v))
		k := string(r.Key)
		assert.Equal(t, v.InvolvedObject.Namespace+"/"+v.InvolvedObject.Kind+"/"+v.InvolvedObject.Name, k, "key is namespace/kind/name")
		if p, seen := partition[k]; seen {
			assert.Equal(t, p, r.Partition, "all records of %s on one partition", k)
		}
		partition[k] = r.Partition
		next[k]++
		assert.Equal(t, next[k], v.Count, "records of %s out of order", k)
	}
	assert.Len(t, next, keys)
	for k, n := range next {
		assert.EqualValues(t, perKey, n, "records for %s", k)
	}
}

func TestRecordsReachASecondClientInOrderWithSchema(t *testing.T) {
	c := newCluster(t)
	s := build(t, "kafka:?"+brokersParam(c)+"&eventstopic="+topic+"&format=herald")
	evs := events(6, 40) // 240 events, 6 objects on 3 partitions
	before, _ := json.Marshal(evs[0].Event)

	require.NoError(t, s.Export(context.Background(), evs[:100]))
	require.NoError(t, s.Export(context.Background(), evs[100:]))

	after, _ := json.Marshal(evs[0].Event)
	assert.JSONEq(t, string(before), string(after), "Export must not mutate the shared event")

	recs := consume(t, consumer(t, c), len(evs))
	require.Len(t, recs, len(evs), "every event exactly once")
	checkOrderPerKey(t, recs, 6, 40)

	// One record in full: headers, timestamp and every documented schema field.
	var r *kgo.Record
	for _, x := range recs {
		if string(x.Key) == "prod/Pod/obj-0" && strings.Contains(string(x.Value), `"count":3,`) {
			r = x
		}
	}
	require.NotNil(t, r)
	assert.Equal(t, "Warning", header(r, "type"))
	assert.Equal(t, "BackOff", header(r, "reason"))
	assert.Equal(t, t0.Add(3*time.Second), r.Timestamp.UTC(), "record timestamp is the event's lastTimestamp")

	var doc map[string]any
	require.NoError(t, json.Unmarshal(r.Value, &doc))
	assert.Equal(t, "herald.event/v1", doc["schema"])
	assert.Equal(t, "prod-eu", doc["cluster"])
	assert.Equal(t, `Back-off restarting "app" #3: 容器重启 🚑 \ "q"`, doc["message"])
	assert.Equal(t, "BackOff", doc["reason"])
	assert.Equal(t, "Warning", doc["type"])
	assert.EqualValues(t, 3, doc["count"])
	assert.Equal(t, "2026-11-23T18:53:15Z", doc["firstTimestamp"])
	assert.Equal(t, "2026-11-23T18:53:18Z", doc["lastTimestamp"])
	assert.Equal(t, map[string]any{"component": "kubelet", "host": "node-7"}, doc["source"])
	assert.Equal(t, map[string]any{"kind": "Pod", "namespace": "prod", "name": "obj-0", "uid": "obj-obj-0", "apiVersion": "v1"}, doc["involvedObject"])
	meta := doc["metadata"].(map[string]any)
	assert.Equal(t, "uid-prod-obj-0", meta["uid"])
	assert.Equal(t, "obj-0.18a4f", meta["name"])
	assert.Equal(t, "1003", meta["resourceVersion"])
	assert.NotContains(t, meta, "managedFields", "managedFields are noise for consumers")
	assert.NotContains(t, doc, "restart", "restart only for restart events")

	// The documented Go type decodes the record back to the event.
	var rec Record
	require.NoError(t, json.Unmarshal(r.Value, &rec))
	assert.Equal(t, evs[2*6].Event.InvolvedObject, rec.InvolvedObject)
	assert.Equal(t, evs[2*6].Event.LastTimestamp.UTC(), rec.LastTimestamp.UTC())
}

func TestRestartEnrichmentIsInTheRecord(t *testing.T) {
	c := newCluster(t)
	s := build(t, "kafka:?"+brokersParam(c)+"&eventstopic="+topic+"&format=herald")
	e := event("prod", "Pod", "api-0", 1, "Container app restarted")
	e.Reason = "ContainerRestarted"
	e.Restart = &core.PodRestart{
		Namespace: "prod", Pod: "api-0", Container: "app", Node: "node-7", OwnerKind: "ReplicaSet", OwnerName: "api-7d9",
		RestartCount: 4, Folded: 2,
		LastState:    &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled", StartedAt: metav1.NewTime(t0), FinishedAt: metav1.NewTime(t0.Add(time.Minute))},
		PreviousLog:  "panic: out of memory\n",
		RecentEvents: []*corev1.Event{{Type: "Warning", Reason: "BackOff", Message: "Back-off", Count: 3, LastTimestamp: metav1.NewTime(t0)}},
	}
	require.NoError(t, s.Export(context.Background(), []*core.Event{e}))
	recs := consume(t, consumer(t, c), 1)
	require.Len(t, recs, 1)
	assert.Equal(t, "ContainerRestarted", header(recs[0], "reason"))

	var doc struct {
		Restart map[string]any `json:"restart"`
	}
	require.NoError(t, json.Unmarshal(recs[0].Value, &doc))
	r := doc.Restart
	require.NotNil(t, r)
	assert.Equal(t, "app", r["container"])
	assert.Equal(t, "api-0", r["pod"])
	assert.Equal(t, "ReplicaSet", r["ownerKind"])
	assert.EqualValues(t, 4, r["restartCount"])
	assert.EqualValues(t, 2, r["folded"])
	assert.Equal(t, "panic: out of memory\n", r["previousLog"])
	last := r["lastState"].(map[string]any)
	assert.EqualValues(t, 137, last["exitCode"])
	assert.Equal(t, "OOMKilled", last["reason"])
	recent := r["recentEvents"].([]any)
	require.Len(t, recent, 1)
	assert.Equal(t, "BackOff", recent[0].(map[string]any)["reason"])
	assert.Equal(t, "2026-11-23T18:53:15Z", recent[0].(map[string]any)["lastTimestamp"])
}

func TestEveryCompressionCodec(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(3, "codec-none", "codec-gzip", "codec-snappy", "codec-lz4", "codec-zstd"))
	codecs := map[string]uint8{"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
	for name, code := range codecs {
		t.Run(name, func(t *testing.T) {
			topicName := "codec-" + name
			s := build(t, "kafka:?"+brokersParam(c)+"&eventstopic="+topicName+"&compression="+name+"&format=herald")
			evs := events(3, 20)
			require.NoError(t, s.Export(context.Background(), evs))
			cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(topicName),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			require.NoError(t, err)
			defer cl.Close()
			recs := consume(t, cl, len(evs))
			require.Len(t, recs, len(evs))
			for _, r := range recs {
				assert.Equal(t, code, r.Attrs.CompressionType(), "batch written with %s", name)
				var doc map[string]any
				require.NoError(t, json.Unmarshal(r.Value, &doc))
				assert.Equal(t, Schema, doc["schema"])
			}
		})
	}
}

// kubeEventerRecord is kube-eventer's Kafka record value as its code builds it (sinks/kafka
// KafkaSinkPoint, marshalled by common/kafka with encoding/json): EventValue is the event as
// json.MarshalIndent(event, "", " ") in a string, EventTimestamp its last timestamp in UTC
// (lastTimestamp, else eventTime), EventTags eventID, hostname, and pod_id / pod_name for Pods.
// The test builds the expectation from that description, not from herald's encoder.
func kubeEventerRecord(t *testing.T, ev *corev1.Event) []byte {
	t.Helper()
	value, err := json.MarshalIndent(ev, "", " ")
	require.NoError(t, err)
	ts := ev.LastTimestamp.Time
	if ts.IsZero() {
		ts = ev.EventTime.Time
	}
	tags := map[string]string{"eventID": string(ev.UID)}
	if ev.InvolvedObject.Kind == "Pod" {
		tags["pod_id"] = string(ev.InvolvedObject.UID)
		tags["pod_name"] = ev.InvolvedObject.Name
	}
	tags["hostname"] = ev.Source.Host
	b, err := json.Marshal(struct {
		EventValue     interface{}
		EventTimestamp time.Time
		EventTags      map[string]string
	}{string(value), ts.UTC(), tags})
	require.NoError(t, err)
	return b
}

// By default the record is kube-eventer's: a second client (a franz-go consumer) reads it back
// and it equals kube-eventer's record byte for byte, and field by field as a consumer written
// for kube-eventer decodes it.
func TestDefaultRecordIsKubeEventers(t *testing.T) {
	c := newCluster(t)
	b, err := sinks.Build(1, "kafka:?"+brokersParam(c)+"&eventstopic="+topic, sinks.Env{Cluster: "prod-eu"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Sink.Close() })
	assert.Empty(t, b.Warnings, "kube-eventer's own form gives no warning")
	s := b.Sink.(*Sink)
	assert.Equal(t, FormatKubeEventer, s.cfg.Format)

	pod := event("prod", "Pod", "web-1", 2, "Liveness probe failed: \"quoted\" 容器 🚑\nline two")
	node := event("", "Node", "node-7", 1, "NodeNotReady")
	node.LastTimestamp = metav1.Time{} // kube-eventer then uses eventTime, with its microseconds
	node.EventTime = metav1.NewMicroTime(t0.Add(90*time.Second + 123456*time.Microsecond))
	require.NoError(t, s.Export(context.Background(), []*core.Event{pod, node}))

	recs := consume(t, consumer(t, c), 2)
	require.Len(t, recs, 2)
	byKey := map[string][]byte{}
	for _, r := range recs {
		byKey[string(r.Key)] = r.Value
	}
	for key, ev := range map[string]*corev1.Event{"prod/Pod/web-1": pod.Event, "/Node/node-7": node.Event} {
		got := byKey[key]
		require.NotNil(t, got, key)
		assert.Equal(t, string(kubeEventerRecord(t, ev)), string(got), "byte for byte kube-eventer's record (%s)", key)

		// Field by field: exactly kube-eventer's three top-level fields, its timestamp format.
		var top map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(got, &top))
		assert.ElementsMatch(t, []string{"EventValue", "EventTimestamp", "EventTags"}, keysOf(top))
		var stamp string
		require.NoError(t, json.Unmarshal(top["EventTimestamp"], &stamp))
		want := ev.LastTimestamp.Time
		if want.IsZero() {
			want = ev.EventTime.Time
		}
		assert.Equal(t, want.UTC().Format(time.RFC3339Nano), stamp, "RFC 3339 in UTC, as encoding/json writes a time.Time")

		// A consumer written for kube-eventer.
		var point struct {
			EventValue     string
			EventTimestamp time.Time
			EventTags      map[string]string
		}
		require.NoError(t, json.Unmarshal(got, &point))
		var inner corev1.Event
		require.NoError(t, json.Unmarshal([]byte(point.EventValue), &inner))
		assert.Equal(t, ev.Message, inner.Message)
		assert.Equal(t, ev.Reason, inner.Reason)
		assert.Equal(t, ev.InvolvedObject, inner.InvolvedObject)
		assert.Equal(t, ev.Count, inner.Count)
		assert.Equal(t, string(ev.UID), point.EventTags["eventID"])
		assert.Equal(t, ev.Source.Host, point.EventTags["hostname"])
		assert.Contains(t, point.EventValue, "\n \"involvedObject\": {\n  \"kind\": ", "indented with one space")
	}
	var podTags, nodeTags struct{ EventTags map[string]string }
	require.NoError(t, json.Unmarshal(byKey["prod/Pod/web-1"], &podTags))
	require.NoError(t, json.Unmarshal(byKey["/Node/node-7"], &nodeTags))
	assert.Equal(t, map[string]string{"eventID": "uid-prod-web-1", "hostname": "node-7", "pod_id": "obj-web-1", "pod_name": "web-1"}, podTags.EventTags)
	assert.Equal(t, map[string]string{"eventID": "uid--node-7", "hostname": "node-7"}, nodeTags.EventTags, "pod tags only for pods")
}

func keysOf(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestBrokerDownAtStartComesUpLater(t *testing.T) {
	port := freePort(t)
	s := build(t, fmt.Sprintf("kafka:?brokers=127.0.0.1:%d&eventstopic=%s", port, topic))
	evs := events(2, 5)

	err := s.Export(context.Background(), evs)
	require.Error(t, err, "no broker yet")
	assert.False(t, core.IsPermanent(err), "a broker that is down is worth retrying: %v", err)
	assert.Contains(t, err.Error(), fmt.Sprintf("127.0.0.1:%d", port))
	err = s.Export(context.Background(), evs)
	require.Error(t, err, "still no broker")
	assert.False(t, core.IsPermanent(err))

	c := newCluster(t, kfake.Ports(port))
	require.NoError(t, s.Export(context.Background(), evs), "the producer is built once the broker answers")
	recs := consume(t, consumer(t, c), len(evs))
	assert.Len(t, recs, len(evs))
}

// A partition whose leader keeps failing: the records on it come back as a retryable partial
// failure, the others are delivered, and a retry of the failed part delivers the rest once.
func TestPartialFailureReturnsOnlyTheUnacknowledgedRecords(t *testing.T) {
	c := newCluster(t, kfake.NumBrokers(3))
	// kfake places leaders at random: pin partition 0 to one broker and the others elsewhere, so
	// failing that broker fails some partitions, never all.
	for p, node := range []int32{0, 1, 2} {
		require.NoError(t, c.MoveTopicPartition(topic, int32(p), node))
	}
	var failing atomic.Bool
	failing.Store(true)
	var badNode atomic.Int32
	badNode.Store(c.LeaderFor(topic, 0))
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if !failing.Load() || c.CurrentNode() != badNode.Load() {
			return nil, nil, false
		}
		pr := req.(*kmsg.ProduceRequest)
		resp := pr.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range pr.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.NotEnoughReplicas.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	s := build(t, "kafka:?"+brokersParam(c)+"&eventstopic="+topic+"&format=herald")
	evs := events(9, 10)

	err := s.Export(context.Background(), evs)
	var pe *core.PartialError
	require.ErrorAs(t, err, &pe, "some partitions succeed, one fails: %v", err)
	assert.False(t, core.IsPermanent(err), "NOT_ENOUGH_REPLICAS is retriable")
	require.NotEmpty(t, pe.Failed)
	require.Less(t, len(pe.Failed), len(evs))
	failedKeys := map[string]bool{}
	for _, e := range pe.Failed {
		failedKeys[e.Key()] = true
	}
	for _, e := range evs {
		if failedKeys[e.Key()] {
			assert.Contains(t, pe.Failed, e, "every record of a failed key is reported")
		}
	}

	failing.Store(false)
	require.NoError(t, s.Export(context.Background(), pe.Failed))
	recs := consume(t, consumer(t, c), len(evs))
	require.Len(t, recs, len(evs), "nothing lost, nothing doubled")
	checkOrderPerKey(t, recs, 9, 10)
}

// A record too large for the topic fails alone and permanently; records that shared its
// partition batch are delivered.
func TestTooLargeRecordFailsAloneAndPermanently(t *testing.T) {
	c := newCluster(t, kfake.BrokerConfigs(map[string]string{"message.max.bytes": "30000"}))
	s := build(t, "kafka:?"+brokersParam(c)+"&eventstopic="+topic)
	evs := events(3, 8)
	noise := make([]byte, 45000)
	_, _ = rand.Read(noise)
	big := event("prod", "Pod", "obj-0", 9, fmt.Sprintf("%x", noise)) // same key as others: same partition batch
	all := append(append([]*core.Event{}, evs...), big)

	err := s.Export(context.Background(), all)
	retry, _, rejected, rejectErr := core.Fates(err, all)
	require.Error(t, err)
	assert.Empty(t, retry, "too large never fits")
	assert.Equal(t, []*core.Event{big}, rejected)
	assert.Contains(t, rejectErr.Error(), "max.message.bytes", "the error names the fix")

	recs := consume(t, consumer(t, c), len(evs))
	assert.Len(t, recs, len(evs))
}

func TestSASL(t *testing.T) {
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			const user, pass = "herald", "s3cret-Pa55"
			c := newCluster(t, kfake.EnableSASL(), kfake.Superuser(mech, user, pass))
			var auth kgo.Opt
			switch mech {
			case "PLAIN":
				auth = kgo.SASL(plain.Auth{User: user, Pass: pass}.AsMechanism())
			case "SCRAM-SHA-256":
				auth = kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha256Mechanism())
			default:
				auth = kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism())
			}
			mechParam := "&mechanism=" + mech
			if mech == "PLAIN" {
				mechParam = "" // kube-eventer's user/password alone mean PLAIN
			}

			t.Setenv("KAFKA_PASSWORD", pass)
			s := build(t, "kafka:?"+brokersParam(c)+"&eventstopic="+topic+"&user="+user+"&password=${KAFKA_PASSWORD}"+mechParam)
			evs := events(2, 3)
			require.NoError(t, s.Export(context.Background(), evs))
			assert.Len(t, consume(t, consumer(t, c, auth), len(evs)), len(evs))

			// kfake closes the connection on a wrong password instead of answering
			// SASL_AUTHENTICATION_FAILED as Apache Kafka does, so this looks like a network
			// error here and stays retryable (TestAuthenticationFailureIsPermanent covers Kafka's answer).
			wrong := build(t, "kafka:?"+brokersParam(c)+"&eventstopic="+topic+"&user="+user+"&password=wrong-Pa55"+mechParam)
			err := wrong.Export(context.Background(), evs)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "wrong-Pa55")
			assert.NotContains(t, err.Error(), pass)
		})
	}
}

// Apache Kafka answers a wrong password with SASL_AUTHENTICATION_FAILED: a refused credential,
// so the sink is down and keeps its events until the password is fixed.
func TestAuthenticationFailureIsARefusedCredential(t *testing.T) {
	c := newCluster(t, kfake.EnableSASL(), kfake.Superuser("PLAIN", "herald", "right"))
	c.ControlKey(int16(kmsg.SASLAuthenticate), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		resp := req.(*kmsg.SASLAuthenticateRequest).ResponseKind().(*kmsg.SASLAuthenticateResponse)
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		msg := "Authentication failed: Invalid username or password"
		resp.ErrorMessage = &msg
		return resp, nil, true
	})
	s := build(t, "kafka:?"+brokersParam(c)+"&eventstopic="+topic+"&user=herald&password=Wrong-Pa55")
	err := s.Export(context.Background(), events(1, 2))
	require.Error(t, err)
	assert.True(t, core.IsCredential(err), "%v", err)
	assert.Contains(t, core.CredentialFix(err), "check user, password and mechanism")
	assert.Contains(t, err.Error(), "check user, password and mechanism")
	assert.NotContains(t, err.Error(), "Wrong-Pa55")
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	caPEM, serverCfg := selfSignedTLS(t)
	caFile := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(caFile, caPEM, 0o600))
	c := newCluster(t, kfake.TLS(serverCfg))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	tlsConsumer := kgo.DialTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})

	s := build(t, "kafka:?"+brokersParam(c)+"&eventstopic="+topic+"&cacert="+caFile)
	evs := events(2, 3)
	require.NoError(t, s.Export(context.Background(), evs))
	assert.Len(t, consume(t, consumer(t, c, tlsConsumer), len(evs)), len(evs))

	untrusted := build(t, "kafka:?"+brokersParam(c)+"&eventstopic="+topic+"&tls=true")
	require.Error(t, untrusted.Export(context.Background(), evs), "the system CAs do not trust the test CA")

	insecure := build(t, "kafka:?"+brokersParam(c)+"&eventstopic="+topic+"&tls=true&insecuressl=true")
	require.NoError(t, insecure.Export(context.Background(), evs))

	// The spelling of herald's other sinks reads the same parameters.
	aliased := build(t, "kafka:?"+brokersParam(c)+"&eventstopic="+topic+"&ca_file="+caFile)
	require.NoError(t, aliased.Export(context.Background(), evs))
	insecureAliased := build(t, "kafka:?"+brokersParam(c)+"&eventstopic="+topic+"&tls=true&insecure_skip_verify=true")
	require.NoError(t, insecureAliased.Export(context.Background(), evs))
}

// ca_file and insecure_skip_verify, as herald's other sinks name them, are cacert and
// insecuressl: errors and warnings name the kafka sink's own parameter, and giving both
// spellings is an error.
func TestTLSParametersUnderTheOtherSinksNames(t *testing.T) {
	b, err := sinks.Build(2, "kafka:?brokers=a:9092&tls=true&insecure_skip_verify=true", sinks.Env{})
	require.NoError(t, err)
	s := b.Sink.(*Sink)
	assert.True(t, s.sc.Net.TLS.Enable)
	assert.True(t, s.cfg.TLS.InsecureSkipVerify)
	assert.Empty(t, b.Warnings)
	_ = b.Sink.Close()

	b, err = sinks.Build(2, "kafka:?brokers=a:9092&insecure_skip_verify=true", sinks.Env{})
	require.NoError(t, err)
	require.Len(t, b.Warnings, 1)
	assert.Contains(t, b.Warnings[0], `parameter "insecure_skip_verify": has no effect without cacert`)
	_ = b.Sink.Close()

	for value, want := range map[string]string{
		"kafka:?brokers=a:9092&ca_file=/nonexistent/ca.pem":             `parameter "ca_file": cannot read`, // named as the user wrote it
		"kafka:?brokers=a:9092&ca_file=/a.pem&cacert=/a.pem":            `given as both "cacert" and "ca_file"`,
		"kafka:?brokers=a:9092&insecuressl=true&insecure_skip_verify=1": `given as both "insecuressl" and "insecure_skip_verify"`,
	} {
		_, err := sinks.Build(2, value, sinks.Env{})
		require.Error(t, err, value)
		assert.Contains(t, err.Error(), want, value)
	}
}

func selfSignedTLS(t *testing.T) ([]byte, *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "herald test broker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	pair, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	require.NoError(t, err)
	return certPEM, &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
}

func TestBadParametersFailAtStartNamingTheFix(t *testing.T) {
	cases := []struct{ value, want string }{
		{"kafka:?eventstopic=x", `parameter "brokers": no broker given`},
		{"kafka:?brokers=a:9092&compression=brotli", `parameter "compression": "brotli" is not allowed; write one of none, gzip, snappy, lz4, zstd`},
		{"kafka:?brokers=a:9092&compression=zstd&version=2.0.0", `zstd needs Kafka protocol 2.1.0`},
		{"kafka:?brokers=a:9092&version=0.10.2.0", `cannot carry record headers`},
		{"kafka:?brokers=a:9092&version=banana", `parameter "version"`},
		{"kafka:?brokers=a:9092&user=u&password=p&mechanism=SCRAM-SHA-1", `parameter "mechanism"`},
		{"kafka:?brokers=a:9092&cacert=/nonexistent/ca.pem", `parameter "cacert": cannot read`},
		{"kafka:?brokers=a:9092&acks=some", `parameter "acks"`},
		{"kafka:?brokers=a:9092&format=avro", `parameter "format"`},
		{"kafka:?brokers=a:9092&user=u&password=Hunter2secret&acks=2", `parameter "acks"`},
	}
	for _, tc := range cases {
		_, err := sinks.Build(3, tc.value, sinks.Env{})
		require.Error(t, err, tc.value)
		assert.Contains(t, err.Error(), tc.want, tc.value)
		assert.Contains(t, err.Error(), "--sink #3 (kafka)", "errors name the sink")
		assert.NotContains(t, err.Error(), "Hunter2secret")
	}
}

func TestDefaultsAreKubeEventersAndSafe(t *testing.T) {
	s := build(t, "kafka:?brokers=127.0.0.1:1&brokers=127.0.0.1:2,127.0.0.1:3")
	assert.Equal(t, []string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"}, s.cfg.Brokers)
	assert.Equal(t, "heapster-events", s.cfg.Topic)
	assert.Equal(t, FormatKubeEventer, s.cfg.Format, "kube-eventer's record unless format=herald")
	assert.Equal(t, sarama.WaitForAll, s.sc.Producer.RequiredAcks, "acks=all by default")
	assert.Equal(t, 1, s.sc.Net.MaxOpenRequests, "order per key survives sarama's retries")
	assert.IsType(t, sarama.NewHashPartitioner(topic), s.sc.Producer.Partitioner(topic), "records are partitioned by key")
	assert.False(t, s.sc.Net.TLS.Enable)
	assert.False(t, s.sc.Net.SASL.Enable)
	assert.Equal(t, "kafka", s.Name())
}

func TestExportAfterCloseIsPermanent(t *testing.T) {
	c := newCluster(t)
	s := build(t, "kafka:?"+brokersParam(c)+"&eventstopic="+topic)
	require.NoError(t, s.Export(context.Background(), events(1, 1)))
	require.NoError(t, s.Close())
	err := s.Export(context.Background(), events(1, 1))
	assert.True(t, core.IsPermanent(err))
	assert.True(t, errors.Is(s.Export(canceled(), events(1, 1)), context.Canceled), "a cancelled context stops before sending")
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// BenchmarkExport500 measures events/s into kfake at the pipeline's default batch (500).
func BenchmarkExport500(b *testing.B) {
	for _, codec := range []string{"none", "zstd"} {
		b.Run(codec, func(b *testing.B) {
			c := newCluster(b)
			s := build(b, "kafka:?"+brokersParam(c)+"&eventstopic="+topic+"&compression="+codec)
			evs := events(50, 10)
			ctx := context.Background()
			require.NoError(b, s.Export(ctx, evs))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := s.Export(ctx, evs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// kube-eventer's parameters are read as its common/kafka code reads them: what it ignored is
// ignored with a warning naming what kube-eventer did and what herald does, never refused.
func TestKubeEventerParametersAreReadAsItsCodeReadsThem(t *testing.T) {
	cases := []struct {
		value  string
		topic  string
		broker []string
		sasl   bool
		tls    bool
		warn   []string
	}{
		{value: "kafka:?brokers=a:9092&timeseriestopic=testseries", topic: "heapster-events", broker: []string{"a:9092"},
			warn: []string{`parameter "timeseriestopic": kube-eventer's event sink ignored it`}},
		{value: "kafka:?brokers=a:9092&topic=k8s", topic: "heapster-events", broker: []string{"a:9092"},
			warn: []string{`parameter "topic": kube-eventer ignored it and wrote to eventstopic`}},
		{value: "kafka:broker1:9092,broker2:9092?topic=k8s-events&level=Warning", topic: "k8s-events", broker: []string{"broker1:9092", "broker2:9092"},
			warn: []string{`parameter "level": kube-eventer's sink had no level filter`, `parameter "brokers": kube-eventer reads brokers only from brokers=`, `parameter "topic": not a kube-eventer parameter; in this form herald takes it as the topic`}},
		{value: "kafka:ignored:9092?brokers=a:9092", topic: "heapster-events", broker: []string{"a:9092"},
			warn: []string{`kube-eventer ignored the target before '?'`}},
		{value: "kafka:?brokers=a:9092&user=u", topic: "heapster-events", broker: []string{"a:9092"},
			warn: []string{`parameter "user": given without password=: kube-eventer connected without SASL`}},
		{value: "kafka:?brokers=a:9092&password=Hunter2secret", topic: "heapster-events", broker: []string{"a:9092"},
			warn: []string{`parameter "password": given without user=`}},
		{value: "kafka:?brokers=a:9092&user=u&password=p", topic: "heapster-events", broker: []string{"a:9092"}, sasl: true,
			warn: []string{`parameter "password": SASL PLAIN without TLS sends the password in clear text`}},
		{value: "kafka:?brokers=a:9092&user=u&password=p&tls=true", topic: "heapster-events", broker: []string{"a:9092"}, sasl: true, tls: true},
		{value: "kafka:?brokers=a:9092&cert=/c.pem", topic: "heapster-events", broker: []string{"a:9092"},
			warn: []string{`parameter "cert": given without key=: kube-eventer ignored it`}},
		{value: "kafka:?brokers=a:9092&insecuressl=true", topic: "heapster-events", broker: []string{"a:9092"},
			warn: []string{`parameter "insecuressl": has no effect without cacert`}},
		{value: "kafka:?brokers=a:9092&tls=true&insecuressl=true", topic: "heapster-events", broker: []string{"a:9092"}, tls: true},
	}
	for _, tc := range cases {
		b, err := sinks.Build(2, tc.value, sinks.Env{})
		require.NoError(t, err, tc.value)
		s := b.Sink.(*Sink)
		assert.Equal(t, tc.topic, s.cfg.Topic, tc.value)
		assert.Equal(t, tc.broker, s.cfg.Brokers, tc.value)
		assert.Equal(t, tc.sasl, s.sc.Net.SASL.Enable, tc.value)
		assert.Equal(t, tc.tls, s.sc.Net.TLS.Enable, tc.value)
		require.Len(t, b.Warnings, len(tc.warn), "%s: %q", tc.value, b.Warnings)
		for i, w := range tc.warn {
			assert.Contains(t, b.Warnings[i], w, tc.value)
			assert.Contains(t, b.Warnings[i], "--sink #2 (kafka)", "a warning names the sink")
			assert.NotContains(t, b.Warnings[i], "Hunter2secret")
		}
		_ = b.Sink.Close()
	}
}

// A broker that accepts connections and never answers: Export returns when its context ends
// (retryable), and the first attempt's sarama timeouts fit the deadline, so the next attempt
// does not wait sarama's default 30 s per request either.
func TestHungBrokerHonoursTheExportDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	s := build(t, "kafka:?brokers="+ln.Addr().String()+"&eventstopic="+topic)
	ctx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
	defer cancel()
	returned := make(chan error, 1)
	go func() { returned <- s.Export(ctx, events(1, 2)) }()
	select {
	case err := <-returned:
		require.Error(t, err)
		assert.False(t, core.IsPermanent(err), "%v", err)
		assert.Contains(t, err.Error(), "did not answer before the export deadline")
	case <-time.After(30 * time.Second):
		t.Fatal("Export ignored its context: a hung broker holds the pipeline and shutdown")
	}
	fresh, cancelFresh := context.WithTimeout(context.Background(), 800*time.Millisecond)
	defer cancelFresh()
	bounded := boundedConfig(s.sc, fresh)
	assert.LessOrEqual(t, bounded.Net.ReadTimeout, 800*time.Millisecond)
	assert.Equal(t, 30*time.Second, s.sc.Net.ReadTimeout, "the sink's own config is left alone")
}
