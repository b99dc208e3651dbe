package chat

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/heraldproject/herald/core"
)

func TestSummarizeGroupsMostRecentFirst(t *testing.T) {
	events := []*core.Event{
		ev("shop", "web-1", "BackOff", "back-off 1", 1),
		ev("batch", "job-1", "FailedScheduling", "0/3 nodes", 2),
		ev("shop", "web-2", "BackOff", "back-off 2", 5),
		ev("batch", "job-2", "BackOff", "back-off 3", 3),
	}
	events[2].Count = 4
	loc := time.FixedZone("CST", 8*3600)
	d := Summarize(events, "prod", loc)
	if d.Events != 4 || d.Warnings != 4 || d.Occurrences != 7 || d.Cluster != "prod" {
		t.Fatalf("totals %+v", d)
	}
	var got []string
	for _, g := range d.Groups {
		var names []string
		for _, f := range g.Events {
			names = append(names, f.Name)
		}
		got = append(got, g.Reason+"/"+g.Namespace+":"+strings.Join(names, ","))
	}
	want := "BackOff/shop:web-2,web-1 BackOff/batch:job-2 FailedScheduling/batch:job-1"
	if strings.Join(got, " ") != want {
		t.Fatalf("groups %q, want %q", strings.Join(got, " "), want)
	}
	if d.Groups[0].Occurrences != 5 {
		t.Errorf("BackOff/shop occurrences %d, want 5", d.Groups[0].Occurrences)
	}
	if w := d.Groups[0].Events[0].When(); w != "2026-11-24 02:00:05 CST" {
		t.Errorf("time %q, want it in --timezone", w)
	}
	if d.First.UTC() != t0.Add(time.Second) || d.Last.UTC() != t0.Add(5*time.Second) {
		t.Errorf("span %s..%s", d.First, d.Last)
	}
	if events[0].Count != 1 || events[0].LastTimestamp.Location() != time.Local && events[0].LastTimestamp.Location() != time.UTC {
		t.Errorf("Summarize changed an event")
	}
}

func TestFieldsOf(t *testing.T) {
	e := ev("shop", "web-1", "BackOff", "  line one\nline two\xff ", 0)
	e.Source.Host = "node-1"
	f := FieldsOf(e, "prod", nil)
	if f.Object() != "Pod shop/web-1" || f.Host != "node-1" || f.Cluster != "prod" || f.Count != 1 {
		t.Fatalf("fields %+v", f)
	}
	if !utf8.ValidString(f.Message) || f.OneLine() != "line one line two\uFFFD" {
		t.Fatalf("message %q", f.Message)
	}
	n := ev("", "node-1", "NodeNotReady", "", 0)
	n.InvolvedObject.Kind = "Node"
	n.Namespace = "default"
	n.Cluster = "edge"
	if f := FieldsOf(n, "prod", nil); f.Object() != "Node node-1" || f.Cluster != "edge" {
		t.Fatalf("cluster-scoped %+v", f)
	}
	n.LastTimestamp.Reset()
	n.Observed = t0
	if f := FieldsOf(n, "", nil); !f.Time.Equal(t0) {
		t.Fatalf("time fallback %v", f.Time)
	}
}

func TestTruncate(t *testing.T) {
	cases := []struct {
		in   string
		max  int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello world", 8, "hello…"},
		{"日本語テキスト", 10, "日本…"}, // 3-byte runes: 2 fit before the marker
		{"日本語", 2, ""},
		{"abc", 0, ""},
		{"ab\xffcd", 100, "ab\uFFFDcd"},
	}
	for _, c := range cases {
		got := Truncate(c.in, c.max)
		if got != c.want || len(got) > max(c.max, len(c.in)) || !utf8.ValidString(got) {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}

func storm(n int) []*core.Event {
	reasons := []string{"BackOff", "FailedScheduling", "Unhealthy", "FailedMount"}
	nss := []string{"shop", "batch", "payments"}
	var out []*core.Event
	for i := range n {
		out = append(out, ev(nss[i%3], "pod-"+itoa(i), reasons[i%4], strings.Repeat("something went wrong ", 5), i))
	}
	return out
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

func TestFitDigestAccountsForEveryEvent(t *testing.T) {
	events := storm(1000)
	d := Summarize(events, "prod", nil)
	for _, limit := range []int{300, 2048, 4096, 20000} {
		payload, v, err := FitDigest(d, FitOptions{Limit: limit}, textLayout)
		if err != nil {
			t.Fatalf("limit %d: %v", limit, err)
		}
		var body struct{ Text string }
		if err := json.Unmarshal(payload, &body); err != nil {
			t.Fatal(err)
		}
		if len(body.Text) > limit {
			t.Fatalf("limit %d: text is %d bytes", limit, len(body.Text))
		}
		if v.Named()+v.Unnamed() != 1000 {
			t.Fatalf("limit %d: %d named + %d counted, want 1000", limit, v.Named(), v.Unnamed())
		}
		if limit >= 4096 && (len(v.Groups) != 12 || v.Named() < 12) {
			t.Errorf("limit %d: %d groups, %d named: want all 12 groups, each naming its latest event", limit, len(v.Groups), v.Named())
		}
		// Fit uses the space: one more named event would not fit.
		if limit >= 2048 && limit-len(body.Text) > 250 {
			t.Errorf("limit %d: %d bytes left unused", limit, limit-len(body.Text))
		}
		if !strings.Contains(body.Text, "more") {
			t.Errorf("limit %d: no \"and N more\" in %q", limit, body.Text)
		}
		t.Logf("limit %5d: %d groups, %d events named, %d counted, %d bytes", limit, len(v.Groups), v.Named(), v.Unnamed(), len(body.Text))
	}
	// The latest event is named first.
	_, v, _ := FitDigest(d, FitOptions{Limit: 2048}, textLayout)
	if v.Groups[0].Shown[0].Name != "pod-999" {
		t.Errorf("first named event %s, want the latest, pod-999", v.Groups[0].Shown[0].Name)
	}
}

func TestFitDigestSmallBatchNamesAll(t *testing.T) {
	d := Summarize(storm(5), "prod", nil)
	_, v, err := FitDigest(d, FitOptions{Limit: 4096}, textLayout)
	if err != nil || v.Named() != 5 || v.Unnamed() != 0 {
		t.Fatalf("named %d counted %d err %v, want all 5 named", v.Named(), v.Unnamed(), err)
	}
}

func TestFitDigestNoFit(t *testing.T) {
	d := Summarize(storm(3), "prod", nil)
	_, _, err := FitDigest(d, FitOptions{Limit: 10}, textLayout)
	if !errors.Is(err, ErrNoFit) {
		t.Fatalf("got %v, want ErrNoFit", err)
	}
	boom := errors.New("boom")
	_, _, err = FitDigest(d, FitOptions{Limit: 1000}, func(*View) ([]byte, int, error) { return nil, 0, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the render error", err)
	}
}

func TestFitSingleTruncatesTheMessage(t *testing.T) {
	e := ev("shop", "web-1", "BackOff", strings.Repeat("é", 3000), 0)
	f := FieldsOf(e, "prod", nil)
	payload, err := FitSingle(f, 2048, singleLayout)
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Text string }
	if err := json.Unmarshal(payload, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Text) > 2048 || len(body.Text) < 2040 || !strings.HasSuffix(body.Text, Marker) || !utf8.ValidString(body.Text) {
		t.Fatalf("%d bytes, suffix %q", len(body.Text), body.Text[len(body.Text)-8:])
	}
	short := FieldsOf(ev("shop", "web-1", "BackOff", "short", 0), "prod", nil)
	payload, _ = FitSingle(short, 2048, singleLayout)
	if !strings.Contains(string(payload), `short"`) {
		t.Fatalf("short message changed: %s", payload)
	}
	if _, err := FitSingle(short, 5, singleLayout); !errors.Is(err, ErrNoFit) {
		t.Fatalf("got %v, want ErrNoFit", err)
	}
}
