package harness

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Request is one request a Receiver got.
type Request struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   []byte
	At     time.Time
}

// Receiver is a local HTTP endpoint that records every request. Its answer can be switched to
// an error status to simulate an outage; requests answered with an error are not recorded as
// delivered.
type Receiver struct {
	*httptest.Server
	mu       sync.Mutex
	got      []Request
	rejected int
	status   int
	reply    string
	arrived  chan struct{}
}

// NewReceiver starts a receiver on 127.0.0.1, closed at test cleanup.
func NewReceiver(t testing.TB) *Receiver {
	r := &Receiver{status: http.StatusOK, arrived: make(chan struct{}, 1)}
	r.Server = httptest.NewServer(http.HandlerFunc(r.handle))
	t.Cleanup(r.Close)
	return r
}

func (r *Receiver) handle(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	status, reply := r.status, r.reply
	if status < 300 {
		r.got = append(r.got, Request{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery, Header: req.Header.Clone(), Body: body, At: time.Now()})
	} else {
		r.rejected++
	}
	r.mu.Unlock()
	select {
	case r.arrived <- struct{}{}:
	default:
	}
	if reply != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, reply)
}

// SetReply sets the body of every answer (e.g. a robot's {"errcode":0,"errmsg":"ok"}).
func (r *Receiver) SetReply(body string) {
	r.mu.Lock()
	r.reply = body
	r.mu.Unlock()
}

// SetStatus makes the receiver answer every request with status (200 to recover).
func (r *Receiver) SetStatus(status int) {
	r.mu.Lock()
	r.status = status
	r.mu.Unlock()
}

// Requests returns the accepted requests so far.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.got...)
}

// Rejected is how many requests were answered with an error status.
func (r *Receiver) Rejected() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rejected
}

// WaitFor waits until at least n requests were accepted, or timeout passes; it returns them.
func (r *Receiver) WaitFor(n int, timeout time.Duration) []Request {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if got := r.Requests(); len(got) >= n {
			return got
		}
		select {
		case <-r.arrived:
		case <-deadline.C:
			return r.Requests()
		}
	}
}
