package file

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// openError explains why the file cannot be opened for appending, with the fix.
func openError(path string, err error) error {
	dir := filepath.Dir(path)
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		info, serr := os.Stat(dir)
		if serr == nil && !info.IsDir() || errors.Is(serr, syscall.ENOTDIR) {
			return fmt.Errorf("%s is not a directory; give the path of a file inside a directory", dir)
		}
		return fmt.Errorf("directory %s does not exist; create it, or mount a volume there (an emptyDir or a hostPath in the Deployment)", dir)
	case errors.Is(err, syscall.EISDIR):
		return fmt.Errorf("%s is a directory; give the path of a file inside it, such as %s", path, filepath.Join(path, "events.log"))
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("herald (uid %d) may not create or write %s (%v); mount a writable volume at %s (an emptyDir), give the pod an fsGroup that may write there, or give another path",
			os.Getuid(), path, errors.Unwrap(err), dir)
	case errors.Is(err, syscall.EROFS):
		return fmt.Errorf("%s is on a read-only file system; mount a writable volume at %s, or give another path", path, dir)
	}
	return fmt.Errorf("cannot open %s for appending: %w%s", path, err, hint(err))
}

// writeError explains a failed write. Each is an outage of the sink: the events stay queued and
// are retried, none is refused for it.
func writeError(path string, err error) error {
	return fmt.Errorf("cannot write %s: %w%s", path, err, hint(err))
}

// syncError explains a failed fsync: the lines may not be on disk, so they are cut off and
// written again.
func syncError(path string, err error) error {
	return fmt.Errorf("cannot sync %s to disk (the batch is written again): %w%s", path, err, hint(err))
}

// hint says what to do about an error the file system gave.
func hint(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return "; the disk is full: free space or grow the volume (herald keeps the events queued and retries)"
	case errors.Is(err, syscall.EDQUOT):
		return "; the disk quota is used up: raise it or free space (herald keeps the events queued and retries)"
	case errors.Is(err, syscall.EFBIG):
		return "; the file is larger than the system allows (a file size limit): lower max_size (herald keeps the events queued and retries)"
	case errors.Is(err, syscall.EROFS):
		return "; the file system is read-only: mount a writable volume (herald keeps the events queued and retries)"
	case errors.Is(err, syscall.EPIPE):
		return "; nobody reads the other end of the pipe (herald retries)"
	case errors.Is(err, fs.ErrPermission):
		return "; herald may no longer write there: fix the permissions (herald keeps the events queued and retries)"
	}
	return ""
}
