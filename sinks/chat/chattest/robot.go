package chattest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/heraldproject/herald/core"
)

// Rate is a robot's rate limit: at most Max messages in any Per.
type Rate struct {
	Max int
	Per time.Duration
}

// RobotSpec is how a fake group robot (DingTalk, Feishu, Work WeChat) answers.
type RobotSpec struct {
	// Name is the service ("DingTalk"), for failure messages.
	Name string
	// Reply writes the service's JSON answer with code and msg.
	Reply func(w http.ResponseWriter, code int, msg string)
	// OK is the msg of an accepted message's answer (code 0).
	OK string
	// Limits are the robot's rate limits; TooFast and TooFastMsg its answer past one.
	Limits     []Rate
	TooFast    int
	TooFastMsg string
}

// ReplyErrcode writes a JSON answer {"errcode": code, "errmsg": msg}, as DingTalk and Work
// WeChat answer.
func ReplyErrcode(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"errcode":%d,"errmsg":%q}`, code, msg)
}

// Robot is what the fake group robots share: an HTTP server on a fake clock, scripted replies,
// the messages it accepted (decoded as M) and when, the codes it refused with, and its rate
// limits. The service's own handlers check a request as the service does and call Reject or
// Accept.
type Robot[M any] struct {
	*httptest.Server
	RobotSpec
	Clock *clocktesting.FakeClock

	mu       sync.Mutex
	messages []M
	rejected []string
	sentAt   []time.Time
	next     []string
}

// NewRobot starts a fake robot answering as spec says on clk, with handler, and stops it at
// cleanup.
func NewRobot[M any](t testing.TB, spec RobotSpec, clk *clocktesting.FakeClock, handler http.Handler) *Robot[M] {
	r := &Robot[M]{RobotSpec: spec, Clock: clk}
	r.Server = httptest.NewServer(handler)
	t.Cleanup(r.Close)
	return r
}

// Script queues replies that the next requests get instead of the checks: a JSON body, or
// "HTTP nnn" for a bare status.
func (r *Robot[M]) Script(replies ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next = append(r.next, replies...)
}

// Scripted answers with the next scripted reply, if there is one.
func (r *Robot[M]) Scripted(w http.ResponseWriter) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.next) == 0 {
		return false
	}
	n := r.next[0]
	r.next = r.next[1:]
	if code, ok := strings.CutPrefix(n, "HTTP "); ok {
		var c int
		fmt.Sscan(code, &c)
		w.WriteHeader(c)
		return true
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, n)
	return true
}

// Reject answers code and msg and records code as refused.
func (r *Robot[M]) Reject(w http.ResponseWriter, code int, msg string) {
	r.mu.Lock()
	r.rejected = append(r.rejected, fmt.Sprint(code))
	r.mu.Unlock()
	r.Reply(w, code, msg)
}

// Accept records m and answers 0, unless m would be over one of the robot's rate limits: then
// it answers TooFast instead, and records that as refused.
func (r *Robot[M]) Accept(w http.ResponseWriter, m M) {
	r.mu.Lock()
	now := r.Clock.Now()
	for _, l := range r.Limits {
		n := 0
		for _, at := range r.sentAt {
			if now.Sub(at) < l.Per {
				n++
			}
		}
		if n >= l.Max {
			r.rejected = append(r.rejected, fmt.Sprint(r.TooFast))
			r.mu.Unlock()
			r.Reply(w, r.TooFast, r.TooFastMsg)
			return
		}
	}
	r.sentAt = append(r.sentAt, now)
	r.messages = append(r.messages, m)
	r.mu.Unlock()
	r.Reply(w, 0, r.OK)
}

// Got returns the messages accepted so far.
func (r *Robot[M]) Got() []M {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]M(nil), r.messages...)
}

// Rejections returns the codes the robot refused with so far.
func (r *Robot[M]) Rejections() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.rejected...)
}

// SentAt returns when the robot accepted each message, on its clock.
func (r *Robot[M]) SentAt() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.sentAt...)
}

// CheckCounted fails t unless the messages the robot accepted, each read as text by
// CountEvents, account for n events, and no minute holds more than perMinute of them. It
// returns the most messages in any minute.
func (r *Robot[M]) CheckCounted(t testing.TB, n, perMinute int, text func(M) string) int {
	t.Helper()
	total := 0
	for _, m := range r.Got() {
		total += CountEvents(t, text(m))
	}
	worst := MaxInWindow(r.SentAt(), time.Minute)
	if total != n || worst > perMinute {
		t.Fatalf("%s: messages account for %d events (want %d), %d in one minute (want ≤ %d)", r.Name, total, n, worst, perMinute)
	}
	return worst
}

// TestStorm sends 1,000 Warning events, one every 60 ms, through s as core's pipeline would
// (Storm, on the robot's clock, which s must pace on) and fails t unless every one is
// delivered, the robot refused nothing, and the messages, read as text, account for every
// event with at most 20 in any minute.
func (r *Robot[M]) TestStorm(t *testing.T, s core.Sink, text func(M) string) {
	t.Helper()
	res := Storm(t, r.Clock, s, StormEvents(1000, Start, 60*time.Millisecond), 500, 30*time.Minute)
	if len(res.Errors) > 0 || res.Delivered != 1000 {
		t.Fatalf("%s: delivered %d, errors %v", r.Name, res.Delivered, res.Errors)
	}
	if rej := r.Rejections(); len(rej) > 0 {
		t.Fatalf("the %s robot rejected %v", r.Name, rej)
	}
	worst := r.CheckCounted(t, 1000, 20, text)
	t.Logf("%s: 1000 events over 60 s → %d messages over %s (%d exports), at most %d in a minute", r.Name, len(r.Got()), res.End.Sub(Start).Round(time.Second), res.Exports, worst)
}

// RobotEvent is a Warning about kind ns/name, seen count times, last 53 s after Start and
// observed at Start.
func RobotEvent(ns, kind, name, reason, msg string, count int32) *core.Event {
	return &core.Event{Event: &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: ns, Name: name + ".17a"},
		InvolvedObject: corev1.ObjectReference{Kind: kind, Namespace: ns, Name: name},
		Reason:         reason, Message: msg, Type: "Warning", Count: count,
		LastTimestamp: metav1.NewTime(Start.Add(53 * time.Second)),
	}, Observed: Start}
}

// Export exports events to s within 10 s.
func Export(t testing.TB, s core.Sink, events ...*core.Event) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Export(ctx, events)
}
