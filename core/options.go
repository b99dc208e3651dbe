package core

import "time"

// SinkOptions are the pipeline's per-sink settings (the queue_size, batch_size and
// flush_interval parameters every sink accepts).
type SinkOptions struct {
	// QueueSize bounds the events held for the sink; beyond it new events are dropped and counted
	// (live events only: a catch-up waits, see Pipeline.PushWait).
	QueueSize int
	// BatchSize is the most events handed to one Export.
	BatchSize int
	// FlushInterval is the longest an event waits for its batch to fill. An idle sink does not
	// wait at all (Linger false): it sends what is queued at once, and batches form while a
	// delivery is in flight.
	FlushInterval time.Duration
	// Linger makes every batch wait up to FlushInterval to fill, even when the sink is idle
	// (flush=interval): fewer, fuller requests at the cost of latency.
	Linger bool
	// Concurrency is how many deliveries to the sink may be in flight at once (default 1), each
	// from its own lane of the queue; events about one object share a lane and keep their
	// order. Only for sinks whose Export is safe to call concurrently.
	Concurrency int
	// CredentialHint says where the sink's credential comes from and how to change it (the
	// Secret behind a ${VAR} of its --sink value); the pipeline adds it to the log line of a
	// refused credential. Empty: only the sink's own fix is given.
	CredentialHint string
	// Noise is noise control (NoisePolicy): nil delivers every event as it comes.
	Noise Noise
}
