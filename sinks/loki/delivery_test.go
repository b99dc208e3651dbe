package loki_test

import (
	"context"
	"fmt"
	"math/bits"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/heraldproject/herald/common/httpx/httpxtest"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/loki"
	"github.com/heraldproject/herald/sinks/loki/lokitest"
)

// Loki before unordered writes refuses an entry older than its stream's newest. herald sorts
// each stream's entries within a push, and gives an entry older than the last one it sent that
// stream that last timestamp; the line keeps the event's own time. Other streams keep theirs.
func TestEntriesOfAStreamGoInOrder(t *testing.T) {
	rc := receiver(t, lokitest.Options{})
	s := build(t, "loki:"+rc.URL+"?labels=namespace")
	first := []*core.Event{event("shop", "A", "web-1", 5*time.Second), event("shop", "B", "web-2", time.Second), event("shop", "C", "web-3", 3*time.Second)}
	if err := s.Export(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	late := event("shop", "D", "web-4", 2*time.Second) // happened before the newest sent
	other := event("batch", "E", "job-1", 2*time.Second)
	next := event("shop", "F", "web-5", 9*time.Second)
	if err := s.Export(context.Background(), []*core.Event{next, late, other}); err != nil {
		t.Fatal(err)
	}
	for _, p := range rc.Pushes() {
		if p.Status != http.StatusNoContent {
			t.Errorf("a push was refused: %d %s", p.Status, p.Reply)
		}
	}
	want := map[string]time.Duration{"A": 5 * time.Second, "B": time.Second, "C": 3 * time.Second, "D": 5 * time.Second, "E": 2 * time.Second, "F": 9 * time.Second}
	got := map[string]time.Duration{}
	var shop []time.Duration
	for _, st := range rc.Stored() {
		reason := regexpReason(st.Line)
		got[reason] = st.Time.Sub(t0)
		if st.Labels["namespace"] == "shop" {
			shop = append(shop, st.Time.Sub(t0))
		}
		if reason == "D" && !strings.Contains(st.Line, `"lastTimestamp":"2026-11-23T18:53:17Z"`) {
			t.Errorf("the clamped entry's line lost the event's own time: %s", st.Line)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("entry times after t0:\n got %v\nwant %v", got, want)
	}
	if !reflect.DeepEqual(shop, []time.Duration{time.Second, 3 * time.Second, 5 * time.Second, 5 * time.Second, 9 * time.Second}) {
		t.Errorf("stream shop stored at %v, want in time order", shop)
	}
}

// regexpReason reads the reason from a default (event JSON) line.
func regexpReason(line string) string {
	_, rest, _ := strings.Cut(line, `"reason":"`)
	reason, _, _ := strings.Cut(rest, `"`)
	return reason
}

// A batch larger than one push goes as several, in timestamp order, so no push is refused for
// order by a Loki without unordered writes.
func TestLargeBatchGoesAsSeveralPushesInOrder(t *testing.T) {
	rc := receiver(t, lokitest.Options{})
	s := build(t, "loki:"+rc.URL+"?labels=reason")
	var evs []*core.Event
	for i := range 300 {
		e := event("shop", fmt.Sprintf("R%d", i%2), fmt.Sprintf("web-%d", i), time.Duration(300-i)*time.Second)
		e.Message = strings.Repeat("x", 10_000)
		evs = append(evs, e)
	}
	if err := s.Export(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	pushes := rc.Pushes()
	if len(pushes) < 3 {
		t.Errorf("%d pushes for 3 MB of lines, want at least 3 of at most %d bytes", len(pushes), loki.MaxPushBytes)
	}
	for i, p := range pushes {
		size := 0
		for _, st := range p.Streams {
			for _, e := range st.Entries {
				size += len(e.Line)
			}
		}
		if p.Status != http.StatusNoContent || size > loki.MaxPushBytes {
			t.Errorf("push %d: status %d, %d bytes of lines: %s", i, p.Status, size, p.Reply)
		}
	}
	if n := len(rc.Stored()); n != 300 {
		t.Errorf("Loki holds %d entries, want 300", n)
	}
}

// A 400 for one entry rejects that entry only: herald bisects the push, Loki stores every
// other entry once, with Loki before and after unordered writes. Loki without them refuses every
// re-sent entry but its stream's newest as out of order, so bisecting there costs more requests.
func TestOneRefusedEntryIsRejectedAlone(t *testing.T) {
	for _, c := range []struct {
		name      string
		unordered bool
		// most requests: 1 + 2 per level for one bad entry; 2n-1 when every probe is refused.
		most int
	}{
		{"unordered writes", true, 1 + 2*bits.Len(64-1)},
		{"ordered writes", false, 2*64 - 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			rc := receiver(t, lokitest.Options{Unordered: c.unordered, MaxLineSize: 4096})
			s := build(t, "loki:"+rc.URL+"?labels=namespace,reason")
			var evs []*core.Event
			for i := range 64 {
				evs = append(evs, event([]string{"shop", "batch"}[i%2], []string{"BackOff", "Failed", "Unhealthy"}[i%3], fmt.Sprintf("web-%d", i), time.Duration(i)*time.Second))
			}
			bad := evs[17]
			bad.Message = strings.Repeat("long ", 1000)
			err := s.Export(context.Background(), evs)
			retry, _, rejected, rejectErr := fates(err, evs)
			if len(retry) != 0 || len(rejected) != 1 || rejected[0] != bad {
				t.Fatalf("retry %d, rejected %v (%v), want only the long one rejected", len(retry), rejected, err)
			}
			if !strings.Contains(rejectErr.Error(), "Max entry size '4096' bytes exceeded") || !strings.Contains(rejectErr.Error(), "batch/Pod/web-17") {
				t.Errorf("the rejection does not say which event and why: %v", rejectErr)
			}
			stored := rc.Stored()
			seen := map[string]int{}
			for _, st := range stored {
				seen[st.Line]++
			}
			if len(stored) != 63 || len(seen) != 63 {
				t.Errorf("Loki holds %d entries (%d distinct), want the 63 good ones once each", len(stored), len(seen))
			}
			if n := len(rc.Pushes()); n > c.most {
				t.Errorf("%d requests, want at most %d", n, c.most)
			}
			t.Logf("%d requests to settle one refused entry of 64", len(rc.Pushes()))
		})
	}
}

// An entry too old for Loki is refused for good, named with Loki's reason; the rest of its
// stream is delivered.
func TestTooOldEntryIsRejectedAlone(t *testing.T) {
	rc := receiver(t, lokitest.Options{Unordered: true, MaxChunkAge: 1000 * time.Hour})
	s := build(t, "loki:"+rc.URL)
	old := event("shop", "BackOff", "web-0", -10*24*time.Hour)
	evs := []*core.Event{event("shop", "BackOff", "web-1", time.Second), old, event("shop", "BackOff", "web-2", 2*time.Second)}
	err := s.Export(context.Background(), evs)
	retry, _, rejected, rejectErr := fates(err, evs)
	if len(retry) != 0 || len(rejected) != 1 || rejected[0] != old || !strings.Contains(rejectErr.Error(), "has timestamp too old") {
		t.Fatalf("retry %v, rejected %v: %v", retry, rejected, rejectErr)
	}
	if n := len(rc.Stored()); n != 2 {
		t.Errorf("Loki holds %d entries, want 2", n)
	}
}

// Another writer (or an earlier herald) put a newer entry in a stream: Loki refuses herald's
// older entries there as out of order. herald rejects exactly those and delivers the rest.
func TestOrderRefusalFromAnotherWriter(t *testing.T) {
	rc := receiver(t, lokitest.Options{})
	rc.Seed("", map[string]string{"namespace": "shop"}, lokitest.Entry{Time: t0.Add(10 * time.Second), Line: "from another writer"})
	s := build(t, "loki:"+rc.URL+"?labels=namespace")
	late1, late2 := event("shop", "A", "web-1", time.Second), event("shop", "B", "web-2", 2*time.Second)
	evs := []*core.Event{late1, event("batch", "C", "job-1", time.Second), late2, event("shop", "D", "web-3", 20*time.Second)}
	err := s.Export(context.Background(), evs)
	retry, _, rejected, rejectErr := fates(err, evs)
	if len(retry) != 0 || !sameEvents(rejected, late1, late2) {
		t.Fatalf("retry %v, rejected %v, want the two late ones: %v", retry, rejected, err)
	}
	if !strings.Contains(rejectErr.Error(), "entry out of order") {
		t.Errorf("the rejection does not give Loki's reason: %v", rejectErr)
	}
	var got []string
	for _, st := range rc.Stored() {
		got = append(got, regexpReason(st.Line))
	}
	if !reflect.DeepEqual(got, []string{"", "D", "C"}) {
		t.Errorf("Loki holds %q, want the other writer's entry, D, C", got)
	}
}

func sameEvents(got []*core.Event, want ...*core.Event) bool {
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			return false
		}
	}
	return true
}

// 429 is retried after Retry-After, and the retry sends the very same entries (timestamps and
// lines), which Loki stores once.
func TestRateLimitIsRetriedWithTheSameEntries(t *testing.T) {
	rc := receiver(t, lokitest.Options{RequireTenant: true})
	rc.Fail(1, http.StatusTooManyRequests, "7", "Ingestion rate limit exceeded for user team-a (limit: 4194304 bytes/sec) while attempting to ingest '3' lines totaling '1422' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased")
	s := build(t, "loki:"+rc.URL+"?tenant=team-a")
	evs := []*core.Event{event("shop", "BackOff", "web-1", 3*time.Second), event("shop", "BackOff", "web-2", time.Second), event("batch", "Failed", "job-1", 0)}
	err := s.Export(context.Background(), evs)
	httpxtest.CheckOutcome(t, httpxtest.StatusCase{Status: 429, RetryAfter: "7", Want: httpxtest.Retry, Wait: 7 * time.Second}, err)
	retry, _, rejected, _ := fates(err, evs)
	if len(retry) != 3 || len(rejected) != 0 {
		t.Fatalf("retry %d, rejected %d: want all three retried", len(retry), len(rejected))
	}
	// Meanwhile a later event of the same stream is not in this retry: the pipeline retries the
	// failed batch alone.
	if err := s.Export(context.Background(), retry); err != nil {
		t.Fatal(err)
	}
	pushes := rc.Pushes()
	if len(pushes) != 2 {
		t.Fatalf("%d pushes, want 2", len(pushes))
	}
	for i, st := range pushes[0].Streams {
		again := pushes[1].Streams[i]
		if st.Raw != again.Raw || !reflect.DeepEqual(st.Entries, again.Entries) {
			t.Errorf("the retry differs from the first push:\n%+v\n%+v", st, again)
		}
	}
	if n := len(rc.Stored()); n != 3 {
		t.Errorf("Loki holds %d entries, want 3", n)
	}
}

// A failure in the middle of a bisection keeps what was decided: the entries Loki took are
// delivered, the undecided rest retried, and the retry settles it.
func TestFailureDuringBisectionRetriesOnlyTheUndecided(t *testing.T) {
	rc := receiver(t, lokitest.Options{Unordered: true, MaxLineSize: 4096})
	rc.FailFrom(3, 1, http.StatusServiceUnavailable, "", "no ingester")
	s := build(t, "loki:"+rc.URL)
	var evs []*core.Event
	for i := range 8 {
		evs = append(evs, event("shop", "BackOff", fmt.Sprintf("web-%d", i), time.Duration(i)*time.Second))
	}
	evs[6].Message = strings.Repeat("long ", 1000)
	// Push 1: the batch, 400. Push 2: entries 0-3, taken. Push 3: entries 4-7, 503.
	err := s.Export(context.Background(), evs)
	retry, retryErr, rejected, _ := fates(err, evs)
	if len(rejected) != 0 || !sameEvents(retry, evs[4:]...) || core.IsPermanent(retryErr) {
		t.Fatalf("retry %v (%v), rejected %v: want 4-7 retried", retry, retryErr, rejected)
	}
	err = s.Export(context.Background(), retry)
	retry, _, rejected, _ = fates(err, retry)
	if len(retry) != 0 || !sameEvents(rejected, evs[6]) {
		t.Fatalf("retry %v, rejected %v: want the long one rejected", retry, rejected)
	}
	if n := len(rc.Stored()); n != 7 {
		t.Errorf("Loki holds %d entries, want 7", n)
	}
}

// A refused credential is an outage, never a verdict: every event is kept for retry, the error
// names the status and the fix, and no secret appears in it.
func TestRefusedCredentialIsAnOutage(t *testing.T) {
	rc := receiver(t, lokitest.Options{RequireTenant: true, User: "12345", Password: "right-password-1"})
	host := strings.TrimPrefix(rc.URL, "http://")
	for _, c := range []struct{ value, secret string }{
		{"loki:http://12345:wrong-password-2@" + host + "?tenant=a", "wrong-password-2"},
		{"loki:http://" + host + "?tenant=a&token=wrong-token-3", "wrong-token-3"},
		{"loki:http://12345:right-password-1@" + host, "right-password-1"}, // no tenant: "no org id"
	} {
		s := build(t, c.value)
		evs := []*core.Event{event("shop", "BackOff", "web-1", 0), event("shop", "BackOff", "web-2", 0)}
		err := s.Export(context.Background(), evs)
		if !core.IsCredential(err) || !strings.Contains(err.Error(), "401") {
			t.Errorf("%s: got %v, want a credential outage naming 401", c.value, err)
			continue
		}
		if retry, _, _, _ := fates(err, evs); len(retry) != 2 {
			t.Errorf("%s: %d events kept for retry, want 2", c.value, len(retry))
		}
		httpxtest.AssertNoSecret(t, err, c.secret)
	}
	if n := len(rc.Stored()); n != 0 {
		t.Errorf("Loki holds %d entries after refusing every credential", n)
	}
}

// Every status of the shared table, for a one-event batch: one request, and the outcome every
// HTTP sink reports (a 400 for a single entry is its rejection).
func TestStatuses(t *testing.T) {
	httpxtest.CheckStatuses(t, func(t *testing.T, serverURL string) error {
		s := build(t, "loki:"+serverURL)
		return s.Export(context.Background(), []*core.Event{event("shop", "BackOff", "web-1", 0)})
	})
}

// A status that says the URL is wrong (404) refuses every entry at once: no bisection.
func TestWrongPathIsNotBisected(t *testing.T) {
	srv := receiver(t, lokitest.Options{})
	s := build(t, "loki:"+srv.URL+"/wrong/loki/api/v1/push")
	evs := []*core.Event{event("shop", "BackOff", "web-1", 0), event("shop", "BackOff", "web-2", 0), event("shop", "BackOff", "web-3", 0)}
	err := s.Export(context.Background(), evs)
	_, _, rejected, rejectErr := fates(err, evs)
	if len(rejected) != 3 || !strings.Contains(rejectErr.Error(), "404") {
		t.Errorf("rejected %d: %v; want all three refused with the 404", len(rejected), rejectErr)
	}
	if n := len(srv.Pushes()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// An event whose line does not render (here: larger than a render may be) is rejected alone;
// the rest of the batch is delivered.
func TestUnrenderableLineRejectsOnlyItsEvent(t *testing.T) {
	rc := receiver(t, lokitest.Options{MaxLineSize: 4 << 20})
	s := build(t, "loki:"+rc.URL+"?body_template="+url.QueryEscape("msg={{ .Message }}"))
	huge := event("shop", "BackOff", "web-2", time.Second)
	huge.Message = strings.Repeat("x", 2<<20)
	evs := []*core.Event{event("shop", "BackOff", "web-1", 0), huge, event("shop", "BackOff", "web-3", 2*time.Second)}
	err := s.Export(context.Background(), evs)
	retry, _, rejected, rejectErr := fates(err, evs)
	if len(retry) != 0 || !sameEvents(rejected, huge) || !strings.Contains(rejectErr.Error(), "the line does not render") {
		t.Fatalf("retry %v, rejected %v: %v", retry, rejected, rejectErr)
	}
	if n := len(rc.Stored()); n != 2 {
		t.Errorf("Loki holds %d entries, want 2", n)
	}
}

// herald forgets a stream an hour after its last push, as Loki closes idle streams: an older
// entry for it then keeps its own timestamp instead of the last one sent.
func TestIdleStreamsAreForgotten(t *testing.T) {
	now := t0.Add(time.Minute)
	at := func() time.Time { return now }
	rc := receiver(t, lokitest.Options{Unordered: true, MaxChunkAge: 1000 * time.Hour, Now: at})
	b, err := sinks.Build(1, "loki:"+rc.URL+"?labels=namespace", sinks.Env{Now: at})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Sink.Close()
	export := func(e *core.Event) time.Time {
		t.Helper()
		if err := b.Sink.Export(context.Background(), []*core.Event{e}); err != nil {
			t.Fatal(err)
		}
		st := rc.Stored()
		return st[len(st)-1].Time
	}
	export(event("shop", "A", "web-1", 30*time.Second))
	if got := export(event("shop", "B", "web-2", 10*time.Second)); !got.Equal(t0.Add(30 * time.Second)) {
		t.Errorf("within the hour: entry at %s, want the stream's last, t0+30s", got)
	}
	now = now.Add(2 * time.Hour)
	if got := export(event("shop", "C", "web-3", 20*time.Second)); !got.Equal(t0.Add(20 * time.Second)) {
		t.Errorf("after two idle hours: entry at %s, want its own time, t0+20s", got)
	}
}

// Loki stored a push but its answer was lost (a 502 from a proxy): the retry re-sends the same
// entries, which a Loki without unordered writes refuses as out of order, all but the newest.
// herald counts them delivered, since the earlier attempt stored them, and rejects nothing.
func TestLostAnswerThenOrderRefusalIsDelivered(t *testing.T) {
	rc := receiver(t, lokitest.Options{})
	rc.StoreThenFail(1, http.StatusBadGateway, "upstream timed out")
	s := build(t, "loki:"+rc.URL+"?labels=namespace")
	evs := []*core.Event{event("shop", "A", "web-1", time.Second), event("shop", "B", "web-2", 2*time.Second), event("shop", "C", "web-3", 3*time.Second)}
	err := s.Export(context.Background(), evs)
	retry, _, _, _ := fates(err, evs)
	if len(retry) != 3 {
		t.Fatalf("retry %d events after the 502, want 3", len(retry))
	}
	err = s.Export(context.Background(), retry)
	retry, _, rejected, _ := fates(err, retry)
	if len(retry) != 0 || len(rejected) != 0 {
		t.Fatalf("retry %v, rejected %v: want all delivered (%v)", retry, rejected, err)
	}
	if n := len(rc.Stored()); n != 3 {
		t.Errorf("Loki holds %d entries, want 3", n)
	}
	if p := rc.Pushes(); len(p) < 3 || !strings.Contains(p[1].Reply, "entry out of order") {
		t.Errorf("the retry was not refused for order as the test means it to be: %d pushes", len(p))
	}
}
