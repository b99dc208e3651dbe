package chattest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Received is one message a fake chat service accepted, decoded as M, and the service's clock
// when it came.
type Received[M any] struct {
	At      time.Time
	Path    string
	Query   url.Values
	Header  http.Header
	Body    []byte
	Message M
}

// Receiver is what every fake chat service shares: an HTTP server, the clock it stamps
// messages with, the messages it accepted and the requests it refused. The service's own
// handler checks a request as the service does and calls Refuse or Accept.
type Receiver[M any] struct {
	*httptest.Server
	// Name is the service ("Discord"), for failure messages.
	Name string
	// Now stamps the messages; tests on a fake clock set it to the clock's Now.
	Now func() time.Time
	// Reply, when set, answers the nth accepted message instead of the service's own answer;
	// it returns false to leave the answer to the service.
	Reply func(n int, w http.ResponseWriter) bool

	mu       sync.Mutex
	got      []Received[M]
	problems []string
}

// NewReceiver starts a fake service named name whose handler is serve, and stops it at cleanup.
func NewReceiver[M any](t testing.TB, name string, serve http.HandlerFunc) *Receiver[M] {
	r := &Receiver[M]{Name: name, Now: time.Now}
	r.Server = httptest.NewServer(serve)
	t.Cleanup(r.Close)
	return r
}

// Refuse records a refused request.
func (r *Receiver[M]) Refuse(problem string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.problems = append(r.problems, problem)
}

// Accept records req, whose body decoded as m, and answers through Reply when that is set and
// wants to; it returns the message's number and whether Reply answered.
func (r *Receiver[M]) Accept(req *http.Request, body []byte, m M, w http.ResponseWriter) (n int, answered bool) {
	r.mu.Lock()
	n = len(r.got)
	r.got = append(r.got, Received[M]{At: r.Now(), Path: req.URL.Path, Query: req.URL.Query(), Header: req.Header.Clone(), Body: body, Message: m})
	r.mu.Unlock()
	return n, r.Reply != nil && r.Reply(n, w)
}

// Messages returns the messages accepted so far.
func (r *Receiver[M]) Messages() []Received[M] {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Received[M](nil), r.got...)
}

// Problems returns the refused requests so far.
func (r *Receiver[M]) Problems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.problems...)
}

// NoProblems fails t for every request the service refused.
func (r *Receiver[M]) NoProblems(t testing.TB) {
	t.Helper()
	for _, p := range r.Problems() {
		t.Errorf("the %s receiver refused a message: %s", r.Name, p)
	}
}
