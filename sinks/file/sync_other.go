//go:build !linux

package file

import "os"

// dataSync makes f's data durable: fsync(2), which on macOS Go issues as F_FULLFSYNC.
func dataSync(f *os.File) error { return f.Sync() }
