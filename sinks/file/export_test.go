package file

import "os"

// SetSync replaces the sink's data sync (fdatasync) with f, for tests that count or fail it.
func SetSync(s *Sink, f func(*os.File) error) { s.w.sync = f }

// DataSync is the sync the sink uses.
func DataSync(f *os.File) error { return dataSync(f) }

// AppendRecord appends e's herald.event/v1 line, for benchmarks that compare writers.
var AppendRecord = appendRecord
