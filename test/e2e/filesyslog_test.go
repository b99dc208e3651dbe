package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leodido/go-syslog/v4/rfc5424"

	"github.com/heraldproject/herald/sinks/kafka"
	"github.com/heraldproject/herald/test/harness"
)

// TestFileSinkWritesJSONLines: herald appends each new event of its namespace to a file as one
// herald.event/v1 JSON line (the kafka sink's record), every message intact and once, nothing
// torn, the file whole after SIGTERM.
func TestFileSinkWritesJSONLines(t *testing.T) {
	client := shared.Client()
	ns := namespace(t, shared, "file")
	// Existed before herald started: not replayed.
	createEvent(t, client, ns, "before-start", "Warning", "BackOff", "old news")
	path := filepath.Join(t.TempDir(), "events.log")
	h := harness.Start(t, harness.Options{Kubeconfig: shared.Kubeconfig, Args: []string{"--cluster-name=e2e-file"},
		Sinks: []string{fmt.Sprintf("file:%s?namespaces=%s&level=Normal&max_backups=2", path, ns)}})

	for i, msg := range nastyMessages {
		createEvent(t, client, ns, fmt.Sprintf("warn-%d", i), "Warning", "BackOff", msg)
	}
	createEvent(t, client, ns, "normal-0", "Normal", "Pulled", "a normal event")
	createEvent(t, client, ns, "sentinel", "Warning", "Done", "sentinel")
	lines := waitForFileLine(t, path, "sentinel")

	seen := map[string]int{}
	for i, line := range lines {
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		var r kafka.Record
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("line %d is no herald.event/v1 record: %v\n%s", i, err, line)
		}
		if r.Schema != "herald.event/v1" || r.Cluster != "e2e-file" || r.Namespace != ns || r.InvolvedObject.Kind != "Pod" || r.LastTimestamp.IsZero() {
			t.Errorf("line %d: schema %q cluster %q namespace %q kind %q", i, r.Schema, r.Cluster, r.Namespace, r.InvolvedObject.Kind)
		}
		seen[r.Message]++
	}
	expect := map[string]int{"a normal event": 1, "sentinel": 1}
	for _, m := range nastyMessages {
		expect[m] = 1
	}
	if fmt.Sprint(seen) != fmt.Sprint(expect) {
		t.Errorf("messages written:\n got %v\nwant %v (the event from before the start is not replayed)", seen, expect)
	}
	if n := h.WaitMetric(float64(len(lines)), "herald_sink_events_total", `outcome="delivered"`, `sink="file#1"`); int(n) != len(lines) {
		t.Errorf("herald_sink_events_total{outcome=delivered} = %v, the file has %d lines", n, len(lines))
	}
	if err := h.Stop(); err != nil {
		t.Errorf("herald exit after SIGTERM: %v", err)
	}
	if after := readLines(t, path); len(after) != len(lines) {
		t.Errorf("%d lines after SIGTERM, %d before", len(after), len(lines))
	}
}

// waitForFileLine waits until a line holding marker is in the file, and returns every line.
func waitForFileLine(t *testing.T, path, marker string) []string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			lines := readLines(t, path)
			for _, l := range lines {
				if strings.Contains(l, marker) {
					return lines
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no line with %q in %s after 60s", marker, path)
	return nil
}

// readLines reads the file's lines; the file must end with a newline (no torn line).
func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Fatalf("%s ends in a torn line", path)
	}
	var out []string
	for _, l := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		if len(l) > 0 {
			out = append(out, string(l))
		}
	}
	return out
}

// TestSyslogSinkSendsRFC5424: herald sends each new event of its namespace to a syslog receiver
// over TCP, octet-counted; the receiver parses each message strictly (RFC 5424, compliant MSG)
// and finds the severity from the type, the node as HOSTNAME, the tag as APP-NAME, the reason as
// MSGID, the event's time, the object in k8s@32473 and the message after a BOM.
func TestSyslogSinkSendsRFC5424(t *testing.T) {
	client := shared.Client()
	ns := namespace(t, shared, "syslog")
	rc := newSyslogReceiver(t)
	h := harness.Start(t, harness.Options{Kubeconfig: shared.Kubeconfig, Args: []string{"--cluster-name=e2e-syslog"},
		Sinks: []string{fmt.Sprintf("syslog://%s?network=tcp&namespaces=%s&level=Normal&tag=herald-e2e", rc.addr, ns)}})

	created := map[string]time.Time{}
	for i, msg := range nastyMessages {
		ev := createEvent(t, client, ns, fmt.Sprintf("warn-%d", i), "Warning", "BackOff", msg)
		created[msg] = ev.LastTimestamp.Time
	}
	ev := createEvent(t, client, ns, "normal-0", "Normal", "Pulled", "a normal event")
	created["a normal event"] = ev.LastTimestamp.Time
	ev = createEvent(t, client, ns, "sentinel", "Warning", "Done", "sentinel")
	created["sentinel"] = ev.LastTimestamp.Time
	got := rc.waitFor(t, "sentinel")

	seen := map[string]int{}
	for _, m := range got {
		msg := strings.TrimPrefix(*m.Message, "\ufeff")
		if !strings.HasPrefix(*m.Message, "\ufeff") {
			t.Errorf("MSG %q does not start with a BOM", *m.Message)
		}
		seen[msg]++
		wantPRI := uint8(16*8 + 4)
		if msg == "a normal event" {
			wantPRI = 16*8 + 6
		}
		obj := (*m.StructuredData)["k8s@32473"]
		if *m.Priority != wantPRI || *m.Hostname != "node-1" || *m.Appname != "herald-e2e" || m.MsgID == nil ||
			obj["namespace"] != ns || obj["kind"] != "Pod" || !strings.HasPrefix(obj["name"], "pod-") || obj["cluster"] != "e2e-syslog" {
			t.Errorf("%q: PRI %d host %q app %q sd %v", msg, *m.Priority, *m.Hostname, *m.Appname, obj)
		}
		if want, ok := created[msg]; ok && !m.Timestamp.Equal(want) {
			t.Errorf("%q: TIMESTAMP %s, want the event's lastTimestamp %s", msg, m.Timestamp, want)
		}
	}
	expect := map[string]int{"a normal event": 1, "sentinel": 1}
	for _, m := range nastyMessages {
		expect[m] = 1
	}
	if fmt.Sprint(seen) != fmt.Sprint(expect) {
		t.Errorf("messages received:\n got %v\nwant %v", seen, expect)
	}
	if err := h.Stop(); err != nil {
		t.Errorf("herald exit after SIGTERM: %v", err)
	}
}

// syslogReceiver is a TCP syslog server on 127.0.0.1 that reads octet-counted frames (RFC 6587
// 3.4.1) and parses each with go-syslog's compliant RFC 5424 parser; a frame or message a strict
// server would refuse fails the test.
type syslogReceiver struct {
	addr string
	mu   sync.Mutex
	msgs []*rfc5424.SyslogMessage
	errs []string
}

func newSyslogReceiver(t *testing.T) *syslogReceiver {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &syslogReceiver{addr: l.Addr().String()}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go r.serve(c)
		}
	}()
	return r
}

func (r *syslogReceiver) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	parser := rfc5424.NewParser(rfc5424.WithCompliantMsg())
	for {
		lenText, err := br.ReadString(' ')
		if err != nil {
			if !errors.Is(err, io.EOF) || lenText != "" {
				r.fail("reading MSG-LEN: %v (%q)", err, lenText)
			}
			return
		}
		n, err := strconv.Atoi(strings.TrimSuffix(lenText, " "))
		if err != nil || n <= 0 || lenText[0] == '0' {
			r.fail("MSG-LEN %q is not NONZERO-DIGIT *DIGIT", lenText)
			return
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(br, msg); err != nil {
			r.fail("MSG-LEN %d, the stream ended first: %v", n, err)
			return
		}
		m, err := parser.Parse(msg)
		if err != nil {
			r.fail("not RFC 5424: %v: %q", err, msg)
			continue
		}
		sm := m.(*rfc5424.SyslogMessage)
		if sm.Version != 1 || sm.Message == nil || sm.StructuredData == nil || sm.Priority == nil || sm.Hostname == nil || sm.Appname == nil || sm.Timestamp == nil {
			r.fail("incomplete message: %q", msg)
			continue
		}
		r.mu.Lock()
		r.msgs = append(r.msgs, sm)
		r.mu.Unlock()
	}
}

func (r *syslogReceiver) fail(format string, args ...any) {
	r.mu.Lock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

// waitFor waits until a message whose MSG holds marker arrives, and returns every message.
func (r *syslogReceiver) waitFor(t *testing.T, marker string) []*rfc5424.SyslogMessage {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		msgs, errs := append([]*rfc5424.SyslogMessage(nil), r.msgs...), append([]string(nil), r.errs...)
		r.mu.Unlock()
		if len(errs) > 0 {
			t.Fatalf("the receiver refused what it got:\n%s", strings.Join(errs, "\n"))
		}
		for _, m := range msgs {
			if strings.Contains(*m.Message, marker) {
				return msgs
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no message with %q after 60s", marker)
	return nil
}
