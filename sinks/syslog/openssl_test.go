package syslog_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leodido/go-syslog/v4/rfc5424"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

// An OpenSSL TLS 1.3 server sends its session tickets after it has the client's Finished, so
// they wait on herald's socket when the next batch comes. They must not read as the receiver
// closing: the connection is kept. openssl s_server accepts two connections here (a readiness
// probe, then herald's), so a reconnect would be refused and the second batch would fail; what it
// received is read back from its output and parsed strictly.
func TestTLSSessionTicketsKeepTheConnection(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("no openssl binary")
	}
	ca := newTestCA(t, t.TempDir(), "ossl")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, openssl, "s_server", "-quiet", "-naccept", "2", "-tls1_3",
		"-accept", addr, "-cert", ca.certFile, "-key", ca.keyFile)
	stdin, err := cmd.StdinPipe() // open: s_server stops on its end
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cancel(); _ = cmd.Wait() }()
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close() // the first of its two accepts
			break
		}
		if i == 200 {
			t.Fatalf("openssl s_server does not listen: %v\n%s", err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	s := build(t, "syslog://"+addr+"?network=tls&level=Normal&ca_file="+url.QueryEscape(ca.caFile), sinks.Env{})
	for b := range 3 {
		evs := []*core.Event{event(b, "Warning", "BackOff", fmt.Sprintf("batch %d: %s", b, nasty))}
		if err := s.Export(context.Background(), evs); err != nil {
			t.Fatalf("batch %d: %v\nopenssl: %s", b, err, out.String())
		}
		time.Sleep(100 * time.Millisecond) // the tickets arrive
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "batch 2: ") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	msgs := octetFrames(t, out.Bytes())
	if len(msgs) != 3 {
		t.Fatalf("openssl received %d messages, want 3:\n%q", len(msgs), out.String())
	}
	for i, raw := range msgs {
		m, err := rfc5424.NewParser(rfc5424.WithCompliantMsg()).Parse(raw)
		if err != nil {
			t.Fatalf("message %d is not RFC 5424: %v: %q", i, err, raw)
		}
		if got := str(m.(*rfc5424.SyslogMessage).Message); got != bom+fmt.Sprintf("batch %d: %s", i, nasty) {
			t.Errorf("message %d: %q", i, got)
		}
	}
}

// octetFrames splits octet-counted frames (and ignores what s_server says besides, before the
// first frame: a failed probe handshake).
func octetFrames(t *testing.T, b []byte) [][]byte {
	t.Helper()
	i := bytes.Index(b, []byte(" <"))
	for i > 0 && b[i-1] >= '0' && b[i-1] <= '9' {
		i--
	}
	if i < 0 {
		return nil
	}
	br := bufio.NewReader(bytes.NewReader(b[i:]))
	var out [][]byte
	for {
		lenText, err := br.ReadString(' ')
		if err != nil {
			return out
		}
		n, err := strconv.Atoi(strings.TrimSuffix(lenText, " "))
		if err != nil {
			t.Fatalf("not an octet count: %q", lenText)
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(br, msg); err != nil {
			return out
		}
		out = append(out, msg)
	}
}

// syncBuffer is a bytes.Buffer safe for the process's writes and the test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { return string(s.Bytes()) }

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.b.Bytes()...)
}
