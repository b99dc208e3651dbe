package file_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/file"
	"github.com/heraldproject/herald/sinks/kafka"
)

var t0 = time.Date(2026, 11, 23, 18, 53, 15, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func event(i int, reason, message string) *core.Event {
	return &core.Event{Event: &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-%d.18a4f", i), Namespace: "shop", UID: "uid",
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubelet"}}},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: fmt.Sprintf("web-%d", i)},
		Reason:         reason,
		Message:        message,
		Type:           corev1.EventTypeWarning,
		Count:          int32(i + 1),
		Source:         corev1.EventSource{Component: "kubelet", Host: "node-7"},
		LastTimestamp:  metav1.NewTime(t0.Add(time.Duration(i) * time.Second)),
	}, Cluster: "prod-eu"}
}

func numbered(from, n int) []*core.Event {
	out := make([]*core.Event, n)
	for i := range out {
		out[i] = event(from+i, "BackOff", fmt.Sprintf("event %06d", from+i))
	}
	return out
}

func env(c *clock) sinks.Env {
	e := sinks.Env{Ctx: context.Background(), Location: time.UTC}
	if c != nil {
		e.Now = c.Now
	}
	return e
}

func build(t testing.TB, value string, e sinks.Env) core.Sink {
	t.Helper()
	b, err := sinks.Build(1, value, e)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Sink.Close() })
	return b.Sink
}

// newSink builds a sink from a Config, for sizes below max_size's 1 MiB step.
func newSink(t testing.TB, cfg file.Config, c *clock) *file.Sink {
	t.Helper()
	cfg.ID = "file#1"
	s, err := file.New(&cfg, env(c))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func lines(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return splitLines(t, path, b)
}

func splitLines(t testing.TB, name string, b []byte) []string {
	t.Helper()
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Errorf("%s ends in a torn line: %q", name, b[max(0, len(b)-40):])
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 8<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// Each line is the kafka sink's herald.event/v1 record, byte for byte: it decodes into the kafka
// sink's Record with no field left over and encodes back to the same bytes; the event's fields,
// the cluster and the restart enrichment are there, managedFields are not, and the shared event
// is not changed.
func TestJSONLinesAreHeraldEventRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.log")
	s := build(t, "file:"+path+"?level=Normal", env(nil))
	nasty := event(1, "BackOff", "line one\nline two\t\"quoted\" \\ back </script> 容器 🚑")
	restart := template.SampleRestartEvent()
	if err := s.Export(context.Background(), []*core.Event{nasty, restart}); err != nil {
		t.Fatal(err)
	}
	got := lines(t, path)
	if len(got) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(got), strings.Join(got, "\n"))
	}
	for i, line := range got {
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		var r kafka.Record
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("line %d is no herald.event/v1 record: %v\n%s", i, err, line)
		}
		again, err := json.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		if string(again) != line {
			t.Errorf("line %d differs from the kafka sink's encoding of the same record:\n file %s\nkafka %s", i, line, again)
		}
		if r.Schema != kafka.Schema || len(r.ManagedFields) != 0 {
			t.Errorf("line %d: schema %q, managedFields %v", i, r.Schema, r.ManagedFields)
		}
	}
	var r kafka.Record
	_ = json.Unmarshal([]byte(got[0]), &r)
	if r.Message != nasty.Message || r.Cluster != "prod-eu" || r.InvolvedObject.Name != "web-1" || !r.LastTimestamp.Equal(&nasty.LastTimestamp) {
		t.Errorf("first record: %+v", r)
	}
	_ = json.Unmarshal([]byte(got[1]), &r)
	if r.Restart == nil || r.Restart.Container != restart.Restart.Container || r.Restart.LastState.Reason != "OOMKilled" || len(r.Restart.RecentEvents) != len(restart.Restart.RecentEvents) {
		t.Errorf("restart record: %+v", r.Restart)
	}
	if len(nasty.ManagedFields) != 1 {
		t.Error("the sink changed the shared event")
	}
}

// A template rendered as text stays one line: line breaks become the two characters \n (\r for a
// lone carriage return). Rendered as JSON, the template's own line breaks become spaces and the
// message's are escaped inside its string, so each line is one JSON document that decodes to the
// message as it was.
func TestTemplateLinesStayOneLine(t *testing.T) {
	dir := t.TempDir()
	msg := "first\nsecond\r\nthird\rfourth \"q\" \\"
	text := build(t, "file:"+dir+"/text.log?format=text&body_template="+urlEscape("{{ .Reason }} {{ .InvolvedObject.Name }}: {{ .Message }}"), env(nil))
	jsonSink := build(t, "file:"+dir+"/json.log?body_template="+urlEscape("{\n  \"reason\": \"{{ .Reason }}\",\r\n  \"message\": \"{{ .Message }}\"\n}"), env(nil))
	evs := []*core.Event{event(1, "BackOff", msg), event(2, "Pulled", "plain")}
	for _, s := range []core.Sink{text, jsonSink} {
		if err := s.Export(context.Background(), evs); err != nil {
			t.Fatal(err)
		}
	}
	got := lines(t, dir+"/text.log")
	want := []string{`BackOff web-1: first\nsecond\nthird\rfourth "q" \`, "Pulled web-2: plain"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("text lines:\n got %q\nwant %q", got, want)
	}
	got = lines(t, dir+"/json.log")
	if len(got) != 2 {
		t.Fatalf("%d JSON lines, want 2: %q", len(got), got)
	}
	var doc struct{ Reason, Message string }
	if err := json.Unmarshal([]byte(got[0]), &doc); err != nil || doc.Message != msg || doc.Reason != "BackOff" {
		t.Errorf("JSON line %q decodes to %+v (%v)", got[0], doc, err)
	}
	if !strings.HasPrefix(got[0], `{   "reason": "BackOff",    "message": "first\nsecond\r\n`) {
		t.Errorf("JSON line %q: the template's line breaks should be spaces, the message's escaped", got[0])
	}
	// format=text needs a template.
	_, err := sinks.Build(3, "file:"+dir+"/x.log?format=text", env(nil))
	if err == nil || !strings.Contains(err.Error(), `--sink #3 (file): parameter "format": format=text needs a template`) {
		t.Errorf("format=text without a template: %v", err)
	}
}

// An event whose line cannot be made is refused alone; the others are written. Here: a
// template that fails for one reason, one that renders no JSON for another, and a line larger
// than max_size.
func TestAnEventThatCannotBeWrittenIsRefusedAlone(t *testing.T) {
	dir := t.TempDir()
	tmpl := `{{ if eq .Reason "Poison" }}{{ .Nope }}{{ else if eq .Reason "Bare" }}not json{{ else }}{"reason":"{{ .Reason }}"}{{ end }}`
	s := build(t, "file:"+dir+"/e.log?body_template="+urlEscape(tmpl), env(nil))
	poison, bare, ok1, ok2 := event(1, "Poison", "x"), event(2, "Bare", "x"), event(3, "BackOff", "x"), event(4, "Pulled", "x")
	batch := []*core.Event{ok1, poison, bare, ok2}
	err := s.Export(context.Background(), batch)
	retry, _, rejected, rejectErr := core.Fates(err, batch)
	if len(retry) != 0 || len(rejected) != 2 || rejected[0] != poison || rejected[1] != bare {
		t.Fatalf("retry %d, rejected %d: %v", len(retry), len(rejected), err)
	}
	for _, want := range []string{"2 of 4 events refused for good", "shop/Pod/web-1 (Poison): the template does not render", "fix the template"} {
		if !strings.Contains(rejectErr.Error(), want) {
			t.Errorf("error %q lacks %q", rejectErr, want)
		}
	}
	if got := lines(t, dir+"/e.log"); strings.Join(got, "|") != `{"reason":"BackOff"}|{"reason":"Pulled"}` {
		t.Errorf("lines %q", got)
	}

	small := newSink(t, file.Config{Path: dir + "/small.log", Format: file.FormatJSON, MaxSize: 2000, MaxBackups: 2}, nil)
	big := event(5, "BackOff", strings.Repeat("x", 3000))
	batch = []*core.Event{ok1, big, ok2}
	err = small.Export(context.Background(), batch)
	_, _, rejected, rejectErr = core.Fates(err, batch)
	if len(rejected) != 1 || rejected[0] != big || !strings.Contains(rejectErr.Error(), "raise max_size") {
		t.Errorf("oversized line: rejected %d: %v", len(rejected), err)
	}
	if n := len(lines(t, dir+"/small.log")); n != 2 {
		t.Errorf("%d lines, want the 2 that fit", n)
	}
}

// Rotation by size: no file grows past max_size, at most max_backups rotated files remain (the
// newest), named as lumberjack names them, and what remains is every newest line once, in order,
// none torn.
func TestRotationBySizeKeepsTheNewestBackups(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.log")
	c := &clock{t: t0}
	const maxSize, keep = 4000, 3
	s := newSink(t, file.Config{Path: path, Format: file.FormatJSON, MaxSize: maxSize, MaxBackups: keep}, c)
	const batches, per = 30, 7
	for b := range batches {
		c.Add(time.Second)
		if err := s.Export(context.Background(), numbered(b*per, per)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil { // waits for the clean-up
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var backups []string
	for _, e := range entries {
		if e.Name() != "events.log" {
			backups = append(backups, e.Name())
		}
	}
	sort.Strings(backups) // oldest first: the timestamp sorts
	if len(backups) != keep {
		t.Fatalf("%d backups, want %d: %v", len(backups), keep, backups)
	}
	var all []string
	for _, name := range append(backups, "events.log") {
		if _, err := time.Parse("2006-01-02T15-04-05.000", strings.TrimSuffix(strings.TrimPrefix(name, "events-"), ".log")); err != nil && name != "events.log" {
			t.Errorf("backup %q is not named events-TIMESTAMP.log", name)
		}
		info, _ := os.Stat(filepath.Join(dir, name))
		if info.Size() > maxSize {
			t.Errorf("%s is %d bytes, more than max_size %d", name, info.Size(), maxSize)
		}
		all = append(all, lines(t, filepath.Join(dir, name))...)
	}
	checkConsecutive(t, all, batches*per-1)
}

// checkConsecutive checks that lines are herald.event/v1 records of consecutive events ending at
// last, each once.
func checkConsecutive(t *testing.T, all []string, last int) {
	t.Helper()
	if len(all) == 0 {
		t.Fatal("no lines")
	}
	first := last - len(all) + 1
	for i, line := range all {
		var r kafka.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %d: %v: %q", i, err, line)
		}
		if want := fmt.Sprintf("event %06d", first+i); r.Message != want {
			t.Fatalf("line %d holds %q, want %q (lines must be consecutive, each once, ending at the last event)", i, r.Message, want)
		}
	}
}

// max_age removes rotated files whose time is older, also those an earlier run left; compress
// gzips the others, whose lines stay whole.
func TestMaxAgeAndCompress(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.log")
	c := &clock{t: t0}
	// Left by an earlier run: one 10 days old, one 2 days old, a file that is not a backup, and
	// a compression cut short.
	for name, body := range map[string]string{
		"events-2026-11-13T18-00-00.000.log":            "{}\n",
		"events-2026-11-21T18-00-00.000.log":            "{\"old\":2}\n",
		"events-notes.log":                              "mine\n",
		"events-2026-11-22T18-00-00.000.log.gz.partial": "garbage",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, err := sinks.Build(1, "file:"+path+"?max_age=7&compress=true&max_backups=0", env(c))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Sink.Export(context.Background(), numbered(0, 3)); err != nil {
		t.Fatal(err)
	}
	_ = s.Sink.Close()
	want := []string{"events-2026-11-21T18-00-00.000.log.gz", "events-notes.log", "events.log"}
	if got := names(t, dir); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("files %v, want %v", got, want)
	}
	if got := gunzipLines(t, filepath.Join(dir, want[0])); len(got) != 1 || got[0] != `{"old":2}` {
		t.Errorf("compressed backup holds %q", got)
	}

	// Rotations compress each backup in the background; Close waits for it.
	small := newSink(t, file.Config{Path: filepath.Join(dir, "small.log"), Format: file.FormatJSON, MaxSize: 3000, Compress: true}, c)
	for b := range 6 {
		c.Add(time.Second)
		if err := small.Export(context.Background(), numbered(b*5, 5)); err != nil {
			t.Fatal(err)
		}
	}
	_ = small.Close()
	var all []string
	for _, n := range names(t, dir) {
		if strings.HasPrefix(n, "small-") {
			if !strings.HasSuffix(n, ".log.gz") {
				t.Errorf("backup %s is not compressed", n)
			}
			all = append(all, gunzipLines(t, filepath.Join(dir, n))...)
		}
	}
	all = append(all, lines(t, filepath.Join(dir, "small.log"))...)
	checkConsecutive(t, all, 29)
	if len(all) != 30 {
		t.Errorf("%d lines in all, want all 30 (max_backups=0 keeps every backup)", len(all))
	}
}

func names(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func gunzipLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return splitLines(t, path, b)
}

// Each batch is synced once before Export returns (and once more before each rotation, so a
// rotated file is whole on disk). A failed sync is an outage: the batch's lines are cut off
// again, and the retry writes each once.
func TestEveryBatchIsSyncedBeforeItCounts(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.log")
	s := newSink(t, file.Config{Path: path, Format: file.FormatJSON, MaxSize: 1 << 20}, nil)
	var syncs int
	var fail error
	file.SetSync(s, func(f *os.File) error {
		syncs++
		if fail != nil {
			return fail
		}
		return file.DataSync(f)
	})
	for b := range 5 {
		if err := s.Export(context.Background(), numbered(b*10, 10)); err != nil {
			t.Fatal(err)
		}
	}
	if syncs != 5 {
		t.Errorf("%d syncs for 5 batches, want 5", syncs)
	}

	fail = &os.PathError{Op: "fdatasync", Path: path, Err: syscall.EIO}
	batch := numbered(50, 10)
	err := s.Export(context.Background(), batch)
	retry, retryErr, rejected, _ := core.Fates(err, batch)
	if len(retry) != 10 || len(rejected) != 0 || core.IsPermanent(retryErr) {
		t.Fatalf("failed sync: retry %d, rejected %d, err %v; want the whole batch retried", len(retry), len(rejected), err)
	}
	if !strings.Contains(err.Error(), "cannot sync") || !strings.Contains(err.Error(), "input/output error") {
		t.Errorf("error %q does not say the sync failed", err)
	}
	if n := len(lines(t, path)); n != 50 {
		t.Errorf("%d lines after the failed sync, want the 50 synced before it", n)
	}
	fail = nil
	if err := s.Export(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	checkConsecutive(t, lines(t, path), 59)

	// With rotation: one sync for what fits before each rotation, one at the end.
	syncs = 0
	rot := newSink(t, file.Config{Path: filepath.Join(dir, "rot.log"), Format: file.FormatJSON, MaxSize: 2500}, nil)
	file.SetSync(rot, func(f *os.File) error { syncs++; return file.DataSync(f) })
	if err := rot.Export(context.Background(), numbered(0, 20)); err != nil {
		t.Fatal(err)
	}
	files := len(names(t, dir)) - 1 // less events.log
	if syncs != files {
		t.Errorf("%d syncs for a batch spread over %d files, want one per file", syncs, files)
	}
}

// A write cut short by the kernel (here the file size limit, RLIMIT_FSIZE: EFBIG after a short
// write, as a full disk gives ENOSPC) is an outage: nothing is refused, the torn part is cut off,
// and once the limit is lifted the retry writes each line once.
func TestShortWriteIsCutOffAndRetried(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.log")
	s := newSink(t, file.Config{Path: path, Format: file.FormatJSON, MaxSize: 1 << 20}, nil)
	if err := s.Export(context.Background(), numbered(0, 5)); err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(path)
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skip("no RLIMIT_FSIZE here:", err)
	}
	ignoreSIGXFSZ()
	limit := syscall.Rlimit{Cur: uint64(info.Size()) + 700, Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limit); err != nil {
		t.Skip("cannot lower RLIMIT_FSIZE:", err)
	}
	batch := numbered(5, 10)
	err := s.Export(context.Background(), batch)
	if rerr := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); rerr != nil {
		t.Fatal(rerr)
	}
	retry, retryErr, rejected, _ := core.Fates(err, batch)
	if len(retry) != 10 || len(rejected) != 0 || core.IsPermanent(retryErr) || !errors.Is(err, syscall.EFBIG) {
		t.Fatalf("short write: retry %d, rejected %d, err %v; want the batch retried", len(retry), len(rejected), err)
	}
	if !strings.Contains(err.Error(), "lower max_size") {
		t.Errorf("error %q has no fix", err)
	}
	if after, _ := os.Stat(path); after.Size() != info.Size() {
		t.Errorf("the file is %d bytes after the failed batch, want %d (the torn part cut off)", after.Size(), info.Size())
	}
	if err := s.Export(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	checkConsecutive(t, lines(t, path), 14)
}

// A full disk is an outage, never a verdict on the events: /dev/full answers every write with
// ENOSPC.
func TestDiskFullIsAnOutage(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	s := build(t, "file:/dev/full", env(nil))
	batch := numbered(0, 3)
	err := s.Export(context.Background(), batch)
	retry, retryErr, rejected, _ := core.Fates(err, batch)
	if len(retry) != 3 || len(rejected) != 0 || core.IsPermanent(retryErr) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("disk full: retry %d, rejected %d: %v", len(retry), len(rejected), err)
	}
	if !strings.Contains(err.Error(), "the disk is full: free space or grow the volume") {
		t.Errorf("error %q has no fix", err)
	}
}

// A file that ends in a torn line (herald stopped in the middle of one) is cut back to its last
// whole line when the sink opens it.
func TestTornLastLineIsCutOffAtStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.log")
	if err := os.WriteFile(path, []byte("{\"whole\":1}\n{\"torn\":"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := build(t, "file:"+path, env(nil))
	if err := s.Export(context.Background(), numbered(0, 1)); err != nil {
		t.Fatal(err)
	}
	got := lines(t, path)
	if len(got) != 2 || got[0] != `{"whole":1}` || !strings.Contains(got[1], `"event 000000"`) {
		t.Errorf("lines %q", got)
	}
}

// Paths herald cannot write are refused at start, naming the problem and the fix; herald check
// (CheckOnly) looks at no file, since it may run where the path does not exist.
func TestBadPathsAreRefusedAtStart(t *testing.T) {
	dir := t.TempDir()
	unwritable := "/sys/herald-test.log" // sysfs refuses new files, even to root
	if os.Getuid() != 0 {
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		unwritable = filepath.Join(ro, "events.log")
	}
	cases := map[string]string{
		"file:" + dir + "/missing/events.log": "directory " + dir + "/missing does not exist; create it, or mount a volume there",
		"file:" + dir:                         "is a directory; give the path of a file inside it, such as " + dir + "/events.log",
		"file:" + unwritable:                  "may not create or write " + unwritable + " (permission denied); mount a writable volume",
		"file:events.log":                     "the path is not absolute; write the file's absolute path, e.g. file:/var/log/herald/events.log",
		"file://logs.example/x.log":           "the target names a host",
		"file:" + dir + "/":                   "names a directory",
		"file:":                               "no path given",
		"file:/dev/stdout?max_size=10&compress=maybe": `parameter "compress": "maybe" is not a boolean`,
		"file:/dev/null?max_size=10":                  `parameter "max_size": /dev/null is not a regular file, so it cannot be rotated; remove max_size`,
		"file:" + dir + "/e.log?max_size=0":           `parameter "max_size": "0" is out of range`,
		"file:" + dir + "/e.log?maxsize=5&max_size=6": `given as both "max_size" and "maxsize"`,
		"file:" + dir + "/e.log?fromat=text":          `unknown parameter "fromat"; did you mean "format"?`,
	}
	for value, want := range cases {
		_, err := sinks.Build(2, value, env(nil))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "--sink #2 (file): ") {
			t.Errorf("%s:\n got %v\nwant %q", value, err, want)
		}
		if _, err := os.Stat(unwritable); err == nil {
			t.Fatalf("%s was created", unwritable)
		}
	}
	// herald check touches nothing.
	ce := env(nil)
	ce.CheckOnly = true
	b, err := sinks.Build(1, "file:"+dir+"/missing/events.log?maxsize=10&maxage=3&maxbackups=2", ce)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	_ = b.Sink.Close()
	if _, err := os.Stat(dir + "/missing"); err == nil {
		t.Error("herald check created the directory")
	}
}

// ignoreSIGXFSZ keeps the process alive when a write passes RLIMIT_FSIZE: the write fails with
// EFBIG instead.
func ignoreSIGXFSZ() { signal.Ignore(syscall.SIGXFSZ) }

func urlEscape(s string) string { return url.QueryEscape(s) }
