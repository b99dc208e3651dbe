package chat

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/heraldproject/herald/core"
)

// fakeFormat lays an event out as {"e":NAME} and a digest as {"n":EVENTS}, failing with
// renderErr, and posts into *posted, failing with postErr.
func fakeFormat(renderErr, postErr error, posted *[][]byte) Format {
	return Format{
		Limit: 1000,
		Event: func(f Fields) ([]byte, int, error) {
			return []byte(`{"e":"` + f.Name + `"}`), 10, renderErr
		},
		Digest: func(v *View) ([]byte, int, error) {
			return []byte(fmt.Sprintf(`{"n":%d}`, v.Events)), 10, renderErr
		},
		DigestFix: "shorten label=",
		Post: func(_ context.Context, body []byte) error {
			*posted = append(*posted, body)
			return postErr
		},
	}
}

func TestRobotNamesTheEventAndClassifies(t *testing.T) {
	e := ev("prod", "web-1", "BackOff", "boom", 0)
	var posted [][]byte
	r := NewRobot(Resources{}, fakeFormat(errors.New("layout failed"), nil, &posted))
	err := r.SendEvent(context.Background(), e)
	if !core.IsPermanent(err) || !strings.Contains(err.Error(), e.Key()) || len(posted) != 0 {
		t.Fatalf("render failure: %v (posted %d); want a permanent error naming %s and nothing posted", err, len(posted), e.Key())
	}
	err = r.SendDigest(context.Background(), []*core.Event{e, e})
	if !core.IsPermanent(err) || !strings.Contains(err.Error(), "digest of 2 events") || len(posted) != 0 {
		t.Fatalf("digest render failure: %v; want a permanent error naming the digest", err)
	}

	r = NewRobot(Resources{}, fakeFormat(nil, errors.New("503"), &posted))
	err = r.SendDigest(context.Background(), []*core.Event{e, e})
	if err == nil || core.IsPermanent(err) || !strings.Contains(err.Error(), "digest of 2 events") {
		t.Fatalf("post failure: %v; want a retryable error naming the digest", err)
	}
	if len(posted) != 1 || string(posted[0]) != `{"n":2}` {
		t.Fatalf("posted %q, want the digest of 2", posted)
	}

	posted = nil
	r = NewRobot(Resources{}, fakeFormat(nil, nil, &posted))
	if err := r.SendEvent(context.Background(), e); err != nil || len(posted) != 1 || string(posted[0]) != `{"e":"web-1"}` {
		t.Fatalf("SendEvent: %v, posted %q", err, posted)
	}
	if got, err := r.Preview(e); err != nil || got != "{\n  \"e\": \"web-1\"\n}" {
		t.Fatalf("Preview = %q, %v", got, err)
	}
}

// A digest that cannot fit at all says so with the sink's fix.
func TestRobotDigestTooLarge(t *testing.T) {
	var posted [][]byte
	f := fakeFormat(nil, nil, &posted)
	f.Limit = 5 // below the 10 every layout reports
	r := NewRobot(Resources{}, f)
	e := ev("prod", "web-1", "BackOff", "boom", 0)
	_, err := r.PreviewDigest([]*core.Event{e, e, e})
	if err == nil || !strings.Contains(err.Error(), "digest of 3 events") || !strings.HasSuffix(err.Error(), "; shorten label=") {
		t.Fatalf("PreviewDigest: %v; want the digest named and the fix", err)
	}
}

func TestIndent(t *testing.T) {
	if got := Indent([]byte(`{"a":1}`)); got != "{\n  \"a\": 1\n}" {
		t.Errorf("Indent = %q", got)
	}
	if got := Indent([]byte("not json")); got != "not json" {
		t.Errorf("Indent of non-JSON = %q", got)
	}
}
