package chat

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/heraldproject/herald/core"
)

type fakeMessenger struct {
	renderErr, postErr error
	posted             [][]byte
}

func (f *fakeMessenger) EventBody(e *core.Event) ([]byte, error) {
	return []byte(`{"e":"` + e.Name + `"}`), f.renderErr
}
func (f *fakeMessenger) DigestBody(events []*core.Event) ([]byte, error) {
	return []byte(`{"n":2}`), f.renderErr
}
func (f *fakeMessenger) Post(_ context.Context, body []byte) error {
	f.posted = append(f.posted, body)
	return f.postErr
}

func TestSendNamesTheEventAndClassifies(t *testing.T) {
	e := ev("prod", "web-1", "BackOff", "boom", 0)
	f := &fakeMessenger{renderErr: errors.New("template failed")}
	err := Send(f).SendEvent(context.Background(), e)
	if !core.IsPermanent(err) || !strings.Contains(err.Error(), e.Key()) || len(f.posted) != 0 {
		t.Fatalf("render failure: %v (posted %d); want a permanent error naming %s and nothing posted", err, len(f.posted), e.Key())
	}
	f = &fakeMessenger{postErr: errors.New("503")}
	err = Send(f).SendDigest(context.Background(), []*core.Event{e, e})
	if err == nil || core.IsPermanent(err) || !strings.Contains(err.Error(), "digest of 2 events") {
		t.Fatalf("post failure: %v; want a retryable error naming the digest", err)
	}
	f = &fakeMessenger{}
	if err := Send(f).SendEvent(context.Background(), e); err != nil || string(f.posted[0]) != `{"e":"`+e.Name+`"}` {
		t.Fatalf("SendEvent: %v, posted %q", err, f.posted)
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
