// Package kafka is herald's Kafka sink: each event becomes one JSON record (kube-eventer's record
// by default, herald's richer one with format=herald) keyed by namespace/kind/name, so a consumer
// sees one object's events in order, written with IBM/sarama.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

func init() {
	sinks.Register(sinks.Definition{
		Scheme:  "kafka",
		Summary: "Kafka topic: one JSON record per event (kube-eventer's record, or herald.event/v1 with format=herald), key namespace/kind/name",
		Example: "kafka:?brokers=kafka-0:9092&brokers=kafka-1:9092&eventstopic=k8s-events&compression=zstd",
		Params:  Params,
		New:     sinks.Constructor(ParseConfig, New),
		// A scheme kube-eventer has: read as its code reads it (filters: none, so every type).
		KubeEventer: true,
	})
}

// Sink writes events to a Kafka topic. The producer is built on the first Export, not in New,
// so brokers that are down when herald starts delay delivery (the pipeline retries) instead of
// stopping herald.
type Sink struct {
	id  string
	cfg *Config
	sc  *sarama.Config
	now func() time.Time

	mu       sync.Mutex
	client   sarama.Client
	producer sarama.SyncProducer
	closed   bool
}

// New builds the sink from a parsed Config. The producer connects on the first export.
func New(cfg *Config, env sinks.Env) (*Sink, error) {
	sc, err := cfg.saramaConfig()
	if err != nil {
		return nil, err
	}
	return &Sink{id: cfg.ID, cfg: cfg, sc: sc, now: env.Clock()}, nil
}

// Name is the sink's scheme.
func (s *Sink) Name() string { return "kafka" }

// getProducer returns the producer, building it when there is none yet, with sarama's network
// timeouts fitted into the time ctx leaves (boundedConfig).
func (s *Sink) getProducer(ctx context.Context) (sarama.SyncProducer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, core.Permanent(fmt.Errorf("%s: the sink is closed", s.id))
	}
	if s.producer != nil {
		return s.producer, nil
	}
	client, p, err := s.connect(boundedConfig(s.sc, ctx))
	if err != nil {
		permanent, fix := classify(err)
		credential, cfix := classifyCredential(err)
		if credential {
			fix = cfix
		}
		if fix == "" {
			fix = "herald keeps the events queued and retries with backoff"
		}
		err = fmt.Errorf("%s: cannot connect to brokers %s: %v; %s", s.id, strings.Join(s.cfg.Brokers, ","), err, fix)
		switch {
		case credential:
			return nil, core.Credential(err, cfix)
		case permanent:
			return nil, core.Permanent(err)
		}
		return nil, err
	}
	s.client, s.producer = client, p
	return p, nil
}

// connect builds a client, checks that the brokers answer (and accept the credentials) by
// fetching the topic's metadata, and builds the producer on it.
func (s *Sink) connect(sc *sarama.Config) (sarama.Client, sarama.SyncProducer, error) {
	client, err := sarama.NewClient(s.cfg.Brokers, sc)
	if err != nil {
		return nil, nil, err
	}
	if err := client.RefreshMetadata(s.cfg.Topic); err != nil {
		_ = client.Close()
		return nil, nil, err
	}
	p, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		_ = client.Close()
		return nil, nil, err
	}
	return client, p, nil
}

// Export writes the batch and returns once every record is acknowledged (as acks= says), or
// reports the records that were not: a *core.PartialError naming them, permanent when no retry
// can help (too large, invalid topic), a refused credential when the brokers refuse the user.
// It returns when ctx ends even if the brokers never answer (sarama's producer takes no
// context): the records may then still be written by the producer, and the pipeline retries
// them, so a broker that answers late may get a record twice.
func (s *Sink) Export(ctx context.Context, events []*core.Event) error {
	if len(events) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- s.export(ctx, events) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%s: brokers %s did not answer before the export deadline (%v); retrying", s.id, strings.Join(s.cfg.Brokers, ","), context.Cause(ctx))
	}
}

// boundedConfig is sc with the network and produce timeouts cut to fit the time ctx leaves, so
// that a broker that accepts connections and never answers fails an attempt within the export
// deadline instead of sarama's 30 s per request and retry. The brokers' own settings stay.
func boundedConfig(sc *sarama.Config, ctx context.Context) *sarama.Config {
	deadline, ok := ctx.Deadline()
	if !ok {
		return sc
	}
	// A connect is a dial, a metadata request and its retry; a send is up to three
	// requests: a quarter of the time for each step keeps the whole within the deadline.
	step := time.Until(deadline) / 4
	if step <= 0 {
		return sc
	}
	c := *sc
	c.Net.DialTimeout = min(c.Net.DialTimeout, step)
	c.Net.ReadTimeout = min(c.Net.ReadTimeout, step)
	c.Net.WriteTimeout = min(c.Net.WriteTimeout, step)
	c.Producer.Timeout = min(c.Producer.Timeout, step)
	return &c
}

// export is one attempt at Export.
func (s *Sink) export(ctx context.Context, events []*core.Event) error {
	p, err := s.getProducer(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	msgs := make([]*sarama.ProducerMessage, 0, len(events))
	var failures []failure
	for i, e := range events {
		m, err := s.message(e, i, now)
		if err != nil {
			failures = append(failures, failure{index: i, err: core.Permanent(err)})
			continue
		}
		msgs = append(msgs, m)
	}
	failures = append(failures, s.send(p, msgs)...)
	return s.result(events, failures)
}

// message builds the record for events[index]; Metadata carries the index back from sarama.
func (s *Sink) message(e *core.Event, index int, now time.Time) (*sarama.ProducerMessage, error) {
	var value []byte
	var err error
	if s.cfg.Format == FormatHerald {
		value, err = encodeHerald(e, now)
	} else {
		value, err = encodeKubeEventer(e, now)
	}
	if err != nil {
		return nil, fmt.Errorf("encoding event %s: %w", e.Key(), err)
	}
	return &sarama.ProducerMessage{
		Topic: s.cfg.Topic,
		Key:   sarama.StringEncoder(e.Key()),
		Value: sarama.ByteEncoder(value),
		Headers: []sarama.RecordHeader{
			{Key: []byte("type"), Value: []byte(e.Type)},
			{Key: []byte("reason"), Value: []byte(e.Reason)},
		},
		Timestamp: e.LastSeen(now),
		Metadata:  index,
	}, nil
}

// failure is one record that was not delivered.
type failure struct {
	index int
	err   error
}

// send produces msgs and returns those not acknowledged. A broker rejects a whole partition
// batch as too large, so records failing that way are sent once more one by one: only those
// that fail alone are too large; the others were collateral and are delivered now.
func (s *Sink) send(p sarama.SyncProducer, msgs []*sarama.ProducerMessage) []failure {
	if len(msgs) == 0 {
		return nil
	}
	err := p.SendMessages(msgs)
	if err == nil {
		return nil
	}
	var perrs sarama.ProducerErrors
	if !errors.As(err, &perrs) {
		out := make([]failure, len(msgs))
		for i, m := range msgs {
			out[i] = failure{index: m.Metadata.(int), err: err}
		}
		return out
	}
	var out []failure
	var sized []*sarama.ProducerError
	for _, pe := range perrs {
		if isSizeError(pe.Err) {
			sized = append(sized, pe)
			continue
		}
		out = append(out, failure{index: pe.Msg.Metadata.(int), err: pe.Err})
	}
	if len(sized) == 1 {
		return append(out, failure{index: sized[0].Msg.Metadata.(int), err: sized[0].Err})
	}
	for _, pe := range sized {
		m := pe.Msg
		alone := &sarama.ProducerMessage{Topic: m.Topic, Key: m.Key, Value: m.Value, Headers: m.Headers, Timestamp: m.Timestamp, Metadata: m.Metadata}
		if _, _, err := p.SendMessage(alone); err != nil {
			out = append(out, failure{index: m.Metadata.(int), err: err})
		}
	}
	return out
}

// result turns the failures into Export's error: the records no retry can help (too large, an
// invalid topic) are rejected, the others retried; a refused credential holds its records until
// it is fixed.
func (s *Sink) result(events []*core.Event, failures []failure) error {
	if len(failures) == 0 {
		return nil
	}
	sort.Slice(failures, func(i, j int) bool { return failures[i].index < failures[j].index })
	var retry, rejected []failure
	credential, credentialFix := false, ""
	for _, f := range failures {
		perm, _ := classify(f.err)
		if c, cfix := classifyCredential(f.err); c {
			credential, credentialFix = true, cfix
			retry = append(retry, f)
			continue
		}
		if perm || core.IsPermanent(f.err) {
			rejected = append(rejected, f)
		} else {
			retry = append(retry, f)
		}
	}
	var retryErr, rejectErr error
	if len(retry) > 0 {
		retryErr = s.summary(retry, len(events))
		if credential {
			// Not one record can be written until the credential is fixed: hold them.
			retryErr = core.Credential(retryErr, credentialFix)
		}
	}
	if len(rejected) > 0 {
		rejectErr = core.Permanent(s.summary(rejected, len(events)))
	}
	return core.Partial(len(events), s.eventsOf(events, retry), retryErr, s.eventsOf(events, rejected), rejectErr)
}

// summary says what became of failures, each distinct error once with its count and fix.
func (s *Sink) summary(failures []failure, total int) error {
	var reasons core.Reasons
	var fixes []string
	for _, f := range failures {
		_, fix := classify(f.err)
		if c, cfix := classifyCredential(f.err); c {
			fix = cfix
		}
		if fix != "" {
			fixes = append(fixes, fix)
		}
		reasons.Add(f.err.Error())
	}
	err := fmt.Errorf("%s: %d of %d records to topic %q were not acknowledged: %s", s.id, len(failures), total, s.cfg.Topic, reasons.String())
	if len(fixes) > 0 {
		err = fmt.Errorf("%w (%s)", err, strings.Join(dedupe(fixes), "; "))
	}
	return err
}

func (s *Sink) eventsOf(events []*core.Event, failures []failure) []*core.Event {
	out := make([]*core.Event, len(failures))
	for i, f := range failures {
		out[i] = events[f.index]
	}
	return out
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Close waits for records in flight and closes the connections.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.producer == nil {
		return nil
	}
	err := errors.Join(s.producer.Close(), s.client.Close())
	s.producer, s.client = nil, nil
	return err
}

// Preview shows the record the sink would produce for e (herald check).
func (s *Sink) Preview(e *core.Event) (string, error) {
	m, err := s.message(e, 0, s.now())
	if err != nil {
		return "", err
	}
	key, _ := m.Key.Encode()
	value, _ := m.Value.Encode()
	var b strings.Builder
	fmt.Fprintf(&b, "a record to topic %q, key %q, headers", m.Topic, key)
	for _, h := range m.Headers {
		fmt.Fprintf(&b, " %s=%q", h.Key, h.Value)
	}
	fmt.Fprintf(&b, ", timestamp %s, value:\n%s\n", m.Timestamp.UTC().Format(time.RFC3339), value)
	return b.String(), nil
}
