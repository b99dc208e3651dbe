package loki

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/klauspost/compress/snappy"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/heraldproject/herald/core"
)

// MaxPushBytes bounds the lines of one push (Promtail's default batch size). Loki refuses with
// 429, for ever, a push larger than the tenant's ingestion burst (6 MB by default); a batch
// larger than this goes as several pushes, in timestamp order.
const MaxPushBytes = 1 << 20

// entry is one event as a Loki entry. Its stream, timestamp and line are fixed at its first
// push: every retry of the event sends the same entry, which Loki stores once.
type entry struct {
	event  *core.Event
	labels []pair // the stream's labels, empty values left out
	stream string // the labels in Prometheus' text form
	ts     time.Time
	line   string
	meta   []pair

	fate fate
	err  error // why Loki refused it
	// retried is set when an earlier export sent the entry and its fate stayed unknown.
	retried bool
}

// fate is what became of an entry in one Export.
type fate uint8

const (
	undecided fate = iota
	delivered
	rejected
)

// split cuts entries (sorted by timestamp) into pushes of at most MaxPushBytes of lines, in
// order, so that a stream's entries in a push are never older than those in the push before.
func split(entries []*entry, limit int) [][]*entry {
	var out [][]*entry
	start, size := 0, 0
	for i, e := range entries {
		n := len(e.line) + len(e.stream)
		if i > start && size+n > limit {
			out = append(out, entries[start:i])
			start, size = i, 0
		}
		size += n
	}
	if start < len(entries) {
		out = append(out, entries[start:])
	}
	return out
}

// streams groups a push's entries by stream, streams in order of first appearance, each
// stream's entries in the order given (by timestamp).
func streams(entries []*entry) [][]*entry {
	index := make(map[string]int, 8)
	var out [][]*entry
	for _, e := range entries {
		i, ok := index[e.stream]
		if !ok {
			i = len(out)
			index[e.stream] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], e)
	}
	return out
}

// Field numbers of Loki's push.proto (package logproto) and of google.protobuf.Timestamp.
const (
	pushStreams     = 1 // PushRequest.streams: repeated StreamAdapter
	streamLabels    = 1 // StreamAdapter.labels: string
	streamEntries   = 2 // StreamAdapter.entries: repeated EntryAdapter
	entryTimestamp  = 1 // EntryAdapter.timestamp: google.protobuf.Timestamp
	entryLine       = 2 // EntryAdapter.line: string
	entryMetadata   = 3 // EntryAdapter.structuredMetadata: repeated LabelPairAdapter
	pairName        = 1 // LabelPairAdapter.name
	pairValue       = 2 // LabelPairAdapter.value
	timestampSecond = 1 // Timestamp.seconds: int64
	timestampNanos  = 2 // Timestamp.nanos: int32
)

// appendProtobuf appends the PushRequest for a push's streams, uncompressed.
func appendProtobuf(b []byte, groups [][]*entry) []byte {
	for _, st := range groups {
		b = protowire.AppendTag(b, pushStreams, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(streamSize(st)))
		b = protowire.AppendTag(b, streamLabels, protowire.BytesType)
		b = protowire.AppendString(b, st[0].stream)
		for _, e := range st {
			b = protowire.AppendTag(b, streamEntries, protowire.BytesType)
			b = protowire.AppendVarint(b, uint64(entrySize(e)))
			b = appendEntry(b, e)
		}
	}
	return b
}

func streamSize(st []*entry) int {
	n := protowire.SizeTag(streamLabels) + protowire.SizeBytes(len(st[0].stream))
	for _, e := range st {
		n += protowire.SizeTag(streamEntries) + protowire.SizeBytes(entrySize(e))
	}
	return n
}

func entrySize(e *entry) int {
	n := protowire.SizeTag(entryTimestamp) + protowire.SizeBytes(timestampSize(e.ts))
	n += protowire.SizeTag(entryLine) + protowire.SizeBytes(len(e.line))
	for _, p := range e.meta {
		n += protowire.SizeTag(entryMetadata) + protowire.SizeBytes(pairSize(p))
	}
	return n
}

func appendEntry(b []byte, e *entry) []byte {
	// The timestamp is always written, even when zero: Loki's EntryAdapter requires it.
	b = protowire.AppendTag(b, entryTimestamp, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(timestampSize(e.ts)))
	b = appendTimestamp(b, e.ts)
	b = protowire.AppendTag(b, entryLine, protowire.BytesType)
	b = protowire.AppendString(b, e.line)
	for _, p := range e.meta {
		b = protowire.AppendTag(b, entryMetadata, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(pairSize(p)))
		b = protowire.AppendTag(b, pairName, protowire.BytesType)
		b = protowire.AppendString(b, p.name)
		b = protowire.AppendTag(b, pairValue, protowire.BytesType)
		b = protowire.AppendString(b, p.value)
	}
	return b
}

// timestampSize is the size of t as a google.protobuf.Timestamp: proto3 leaves zero fields out.
func timestampSize(t time.Time) int {
	n := 0
	if s := t.Unix(); s != 0 {
		n += protowire.SizeTag(timestampSecond) + protowire.SizeVarint(uint64(s))
	}
	if ns := t.Nanosecond(); ns != 0 {
		n += protowire.SizeTag(timestampNanos) + protowire.SizeVarint(uint64(ns))
	}
	return n
}

func appendTimestamp(b []byte, t time.Time) []byte {
	if s := t.Unix(); s != 0 {
		b = protowire.AppendTag(b, timestampSecond, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(s))
	}
	if ns := t.Nanosecond(); ns != 0 {
		b = protowire.AppendTag(b, timestampNanos, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(ns))
	}
	return b
}

func pairSize(p pair) int {
	return protowire.SizeTag(pairName) + protowire.SizeBytes(len(p.name)) +
		protowire.SizeTag(pairValue) + protowire.SizeBytes(len(p.value))
}

// encodeProtobuf is the body of a protobuf push: the PushRequest in snappy's block format (not
// the framed one), as Loki reads it. raw is a scratch buffer, returned for reuse; the body is
// a new slice, since the transport may still read a body after the reply has come.
func encodeProtobuf(raw []byte, groups [][]*entry) (body, scratch []byte) {
	raw = appendProtobuf(raw[:0], groups)
	return snappy.Encode(nil, raw), raw
}

// jsonStream is one stream of Loki's JSON push body.
type jsonStream struct {
	Stream map[string]string `json:"stream"`
	Values [][]any           `json:"values"`
}

// encodeJSON is the body of a JSON push: {"streams":[{"stream":{...},"values":[["<unix
// nanoseconds>","<line>"], ...]}]}, an entry's structured metadata as a third element.
func encodeJSON(groups [][]*entry) ([]byte, error) {
	out := struct {
		Streams []jsonStream `json:"streams"`
	}{Streams: make([]jsonStream, 0, len(groups))}
	for _, st := range groups {
		js := jsonStream{Stream: make(map[string]string, len(st[0].labels)), Values: make([][]any, 0, len(st))}
		for _, p := range st[0].labels {
			js.Stream[p.name] = p.value
		}
		for _, e := range st {
			v := []any{strconv.FormatInt(e.ts.UnixNano(), 10), e.line}
			if len(e.meta) > 0 {
				m := make(map[string]string, len(e.meta))
				for _, p := range e.meta {
					m[p.name] = p.value
				}
				v = append(v, m)
			}
			js.Values = append(js.Values, v)
		}
		out.Streams = append(out.Streams, js)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
