package core

import "time"

// SinkOptions are the pipeline's per-sink settings (the queue_size, batch_size and
// flush_interval parameters every sink accepts).
type SinkOptions struct {
	// QueueSize bounds the events held for the sink; beyond it new events are dropped and counted.
	QueueSize int
	// BatchSize is the most events handed to one Export.
	BatchSize int
	// FlushInterval is the longest an event waits for its batch to fill.
	FlushInterval time.Duration
}
