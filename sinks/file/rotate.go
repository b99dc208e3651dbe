package file

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/golang/glog"
)

// Backup files are named as lumberjack (and so kubernetes-event-exporter's file receiver) names
// them: NAME-TIMESTAMP.EXT in UTC, ".gz" added once compressed. Log shippers configured for the
// exporter's files match herald's.
const (
	backupTimeFormat = "2006-01-02T15-04-05.000"
	compressSuffix   = ".gz"
	// partialSuffix marks a compressed backup being written; a leftover one (herald stopped
	// mid-compression) is removed by the next clean-up.
	partialSuffix = ".partial"
)

// rotator appends whole lines to one file through its own handle, so that every batch can be
// made durable (fdatasync) before the sink reports it delivered, and a failed write can be cut
// back to the last complete line. It rotates by size (the file is renamed to a timestamped
// backup and a new one opened) and keeps at most maxBackups backups no older than maxAge,
// optionally gzipped, in a background clean-up. A path that is not a regular file (/dev/stdout,
// a pipe) is written without rotation or sync.
//
// lumberjack.Logger does the same rotation, but it holds its *os.File privately: herald could
// neither fsync the file it writes nor truncate a torn write, so it does both here.
type rotator struct {
	path       string
	maxSize    int64 // bytes; 0: never rotate
	maxBackups int   // 0: keep every backup
	maxAge     time.Duration
	compress   bool
	now        func() time.Time
	// sync makes f's written data durable; fdatasync on Linux. Tests wrap it to count calls.
	sync func(f *os.File) error

	f       *os.File
	size    int64 // bytes in f, every one of them part of a complete line
	regular bool

	millOnce sync.Once
	millCh   chan struct{}
	millDone chan struct{}
}

// open opens (creating) the file for appending. A regular file that ends in a torn line (herald
// stopped in the middle of writing one) is cut back to its last complete line: that line was
// never reported delivered, so the pipeline sends its event again.
func (r *rotator) open() error {
	created := false
	if _, err := os.Lstat(r.path); errors.Is(err, fs.ErrNotExist) {
		created = true
	}
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return openError(r.path, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("cannot stat %s: %w", r.path, err)
	}
	r.f, r.regular, r.size = f, info.Mode().IsRegular(), 0
	if !r.regular {
		return nil
	}
	r.size = info.Size()
	if err := r.repairTail(); err != nil {
		r.closeFile()
		return err
	}
	if created {
		// The new name must survive a crash as well as the data written under it.
		if err := syncDir(filepath.Dir(r.path)); err != nil {
			r.closeFile()
			return err
		}
	}
	return nil
}

// repairTail cuts a regular file back to just after its last newline.
func (r *rotator) repairTail() error {
	if r.size == 0 {
		return nil
	}
	rf, err := os.Open(r.path)
	if err != nil {
		return fmt.Errorf("cannot read %s to check its last line: %w", r.path, err)
	}
	defer rf.Close()
	buf := make([]byte, 64<<10)
	end := r.size
	for end > 0 {
		start := max(end-int64(len(buf)), 0)
		chunk := buf[:end-start]
		if _, err := rf.ReadAt(chunk, start); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("cannot read %s to check its last line: %w", r.path, err)
		}
		if i := strings.LastIndexByte(string(chunk), '\n'); i >= 0 {
			end = start + int64(i) + 1
			break
		}
		end = start
	}
	if end == r.size {
		return nil
	}
	glog.Warningf("%s ended in a torn line of %d bytes (herald stopped while writing it, so its event was never reported delivered); cutting it off", r.path, r.size-end)
	if err := r.f.Truncate(end); err != nil {
		return fmt.Errorf("cannot cut the torn last line off %s: %w", r.path, err)
	}
	r.size = end
	return r.sync(r.f)
}

// write appends the lines of data (line i ends at ends[i], each with its '\n') and makes them
// durable, rotating before a line that would take the file past maxSize. It returns how many
// lines, from the first, are durably written: all of them, or those before a failure. Lines
// written but not made durable when the failure came are cut off again, so a retry writes each
// line once.
func (r *rotator) write(data []byte, ends []int) (done int, err error) {
	if r.f == nil {
		if err := r.open(); err != nil {
			return 0, err
		}
	}
	if r.regular && r.maxSize > 0 && r.size >= r.maxSize {
		if err := r.rotate(); err != nil {
			return 0, err
		}
	}
	from := 0 // start of the lines not yet committed
	for i, end := range ends {
		start := 0
		if i > 0 {
			start = ends[i-1]
		}
		pending := int64(start - from)
		if r.regular && r.maxSize > 0 && r.size+pending+int64(end-start) > r.maxSize && r.size+pending > 0 {
			if err := r.commit(data[from:start]); err != nil {
				return done, err
			}
			done, from = i, start
			if err := r.rotate(); err != nil {
				return done, err
			}
		}
	}
	if len(ends) > 0 {
		if err := r.commit(data[from:ends[len(ends)-1]]); err != nil {
			return done, err
		}
	}
	return len(ends), nil
}

// commit writes buf at the end of the file and syncs it; on failure it cuts the file back to
// where buf began.
func (r *rotator) commit(buf []byte) error {
	if len(buf) == 0 {
		return nil
	}
	if r.f == nil {
		if err := r.open(); err != nil {
			return err
		}
	}
	n, err := r.f.Write(buf)
	if err != nil {
		err = writeError(r.path, err)
	} else if r.regular {
		if serr := r.sync(r.f); serr != nil {
			err = syncError(r.path, serr)
		}
	}
	if err == nil {
		r.size += int64(n)
		return nil
	}
	if !r.regular {
		return err
	}
	// Part of buf may be in the file (a short write, or data the kernel could not sync): cut it
	// off, or the retry would leave a torn line and a duplicate.
	if terr := r.f.Truncate(r.size); terr != nil {
		// The file may end in a torn line: reopen it for the retry, which cuts that off.
		r.closeFile()
		return fmt.Errorf("%w; and cannot cut the unsynced part off (%v): herald reopens the file and repairs its end before the retry", err, terr)
	}
	return err
}

// rotate renames the (synced) file to a backup and opens a new one.
func (r *rotator) rotate() error {
	r.closeFile()
	name := r.backupName()
	if err := os.Rename(r.path, name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot rotate %s to %s: %w", r.path, filepath.Base(name), err)
	}
	if err := r.open(); err != nil {
		return err
	}
	r.triggerMill()
	return nil
}

// backupName is a free NAME-TIMESTAMP.EXT for the file now; a name taken (two rotations in one
// millisecond) moves on by a millisecond.
func (r *rotator) backupName() string {
	dir, base := filepath.Split(r.path)
	ext := filepath.Ext(base)
	prefix := strings.TrimSuffix(base, ext)
	t := r.now().UTC()
	for {
		name := filepath.Join(dir, prefix+"-"+t.Format(backupTimeFormat)+ext)
		_, err1 := os.Lstat(name)
		_, err2 := os.Lstat(name + compressSuffix)
		if errors.Is(err1, fs.ErrNotExist) && errors.Is(err2, fs.ErrNotExist) {
			return name
		}
		t = t.Add(time.Millisecond)
	}
}

func (r *rotator) closeFile() {
	if r.f != nil {
		_ = r.f.Close()
		r.f = nil
	}
}

// close stops the clean-up (after its current run) and closes the file.
func (r *rotator) close() error {
	if r.millCh != nil {
		close(r.millCh)
		<-r.millDone
		r.millCh = nil
	}
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}

// triggerMill asks the background clean-up to run once more (it runs once at start too).
func (r *rotator) triggerMill() {
	if !r.regular {
		return
	}
	r.millOnce.Do(func() {
		r.millCh = make(chan struct{}, 1)
		r.millDone = make(chan struct{})
		go func() {
			defer close(r.millDone)
			for range r.millCh {
				if err := r.mill(); err != nil {
					glog.Warningf("%s: cleaning up old backups: %v", r.path, err)
				}
			}
		}()
	})
	select {
	case r.millCh <- struct{}{}:
	default: // a run is already due
	}
}

// backup is one rotated file, in the file's directory.
type backup struct {
	name string
	t    time.Time
	gz   bool
}

// backups lists the file's backups, newest first.
func (r *rotator) backups() ([]backup, []string, error) {
	dir, base := filepath.Split(r.path)
	if dir == "" {
		dir = "."
	}
	ext := filepath.Ext(base)
	prefix := strings.TrimSuffix(base, ext) + "-"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	var out []backup
	var partial []string
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(n, prefix) {
			continue
		}
		if strings.HasSuffix(n, ext+compressSuffix+partialSuffix) {
			partial = append(partial, n)
			continue
		}
		gz := strings.HasSuffix(n, ext+compressSuffix)
		stamp := strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(n, prefix), compressSuffix), ext)
		if !strings.HasSuffix(strings.TrimSuffix(n, compressSuffix), ext) {
			continue
		}
		t, err := time.Parse(backupTimeFormat, stamp)
		if err != nil {
			continue // not one of ours
		}
		out = append(out, backup{name: n, t: t, gz: gz})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].t.After(out[j].t) })
	return out, partial, nil
}

// mill removes the backups beyond the newest maxBackups or older than maxAge, and compresses
// the rest when asked to. A backup present both plain and compressed (herald stopped while
// compressing it) counts once.
func (r *rotator) mill() error {
	list, partial, err := r.backups()
	if err != nil {
		return err
	}
	dir := filepath.Dir(r.path)
	var errs []error
	for _, n := range partial {
		errs = append(errs, os.Remove(filepath.Join(dir, n)))
	}
	// One group per rotation, newest first: its plain file, its .gz, or both.
	type group struct {
		t         time.Time
		plain, gz string
	}
	var groups []*group
	for _, b := range list {
		if len(groups) == 0 || !groups[len(groups)-1].t.Equal(b.t) {
			groups = append(groups, &group{t: b.t})
		}
		g := groups[len(groups)-1]
		if b.gz {
			g.gz = b.name
		} else {
			g.plain = b.name
		}
	}
	var cutoff time.Time
	if r.maxAge > 0 {
		cutoff = r.now().Add(-r.maxAge)
	}
	changed := len(partial) > 0
	remove := func(name string) {
		if name != "" {
			errs = append(errs, os.Remove(filepath.Join(dir, name)))
			changed = true
		}
	}
	for i, g := range groups {
		switch {
		case r.maxBackups > 0 && i >= r.maxBackups, !cutoff.IsZero() && g.t.Before(cutoff):
			remove(g.plain)
			remove(g.gz)
		case r.compress && g.plain != "" && g.gz != "":
			remove(g.plain)
		case r.compress && g.plain != "":
			errs = append(errs, compressFile(filepath.Join(dir, g.plain)))
			changed = true
		}
	}
	if changed {
		errs = append(errs, syncDir(dir))
	}
	return errors.Join(errs...)
}

// compressFile gzips src to src.gz durably, then removes src.
func compressFile(src string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := src + compressSuffix + partialSuffix
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(tmp)
		}
	}()
	zw := gzip.NewWriter(out)
	if _, err = io.Copy(zw, in); err != nil {
		return err
	}
	if err = zw.Close(); err != nil {
		return err
	}
	if err = out.Sync(); err != nil {
		return err
	}
	if err = out.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, src+compressSuffix); err != nil {
		return err
	}
	return os.Remove(src)
}

// syncDir makes a directory's entries (a created or renamed file) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("cannot open directory %s to sync it: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("cannot sync directory %s: %w", dir, err)
	}
	return nil
}
