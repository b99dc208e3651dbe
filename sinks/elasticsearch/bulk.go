package elasticsearch

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/core"
)

// bulkResponse is the part of a _bulk reply herald reads.
type bulkResponse struct {
	Errors bool                        `json:"errors"`
	Items  []map[string]bulkItemResult `json:"items"`
}

type bulkItemResult struct {
	Index  string     `json:"_index"`
	ID     string     `json:"_id"`
	Status int        `json:"status"`
	Error  *itemError `json:"error,omitempty"`
}

type itemError struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

func (e *itemError) String() string {
	if e.Type == "" {
		return e.Reason
	}
	return e.Type + ": " + e.Reason
}

// UnmarshalJSON accepts an error given as an object (Elasticsearch) or as a string (some
// compatible servers).
func (e *itemError) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		e.Reason = s
		return nil
	}
	type plain itemError
	return json.Unmarshal(b, (*plain)(e))
}

// failure is one event that was not written.
type failure struct {
	event     *core.Event
	permanent bool
	status    int
	reason    string
}

// itemFailures reads each item's result; items come back in the order they were sent.
func (s *Sink) itemFailures(res *bulkResponse, sent []*core.Event) []failure {
	var out []failure
	for i, item := range res.Items {
		var r bulkItemResult
		for _, v := range item { // one key: the action ("index", "create")
			r = v
		}
		switch {
		case r.Status >= 200 && r.Status < 300:
			continue
		case r.Status == http.StatusConflict && s.cfg.DataStream:
			continue // create of an _id already in the stream: written by an earlier attempt
		}
		f := failure{event: sent[i], status: r.Status, permanent: !httpx.RetryableStatus(r.Status)}
		if r.Error != nil {
			f.reason = r.Error.String()
		}
		if f.reason == "" {
			f.reason = http.StatusText(r.Status)
		}
		f.reason = fmt.Sprintf("document %s in %s: HTTP %d %s", r.ID, r.Index, r.Status, s.scrub(f.reason))
		out = append(out, f)
	}
	return out
}

// result turns the failures into Export's error: documents Elasticsearch refused (a mapping or
// parse error) are rejected, documents it could not take now (429, 5xx) retried.
func (s *Sink) result(events []*core.Event, failures []failure) error {
	if len(failures) == 0 {
		return nil
	}
	index := make(map[*core.Event]int, len(events))
	for i, e := range events {
		index[e] = i
	}
	sort.SliceStable(failures, func(i, j int) bool { return index[failures[i].event] < index[failures[j].event] })
	var retry, rejected []*core.Event
	var refused, busy []string
	for _, f := range failures {
		if f.permanent {
			rejected = append(rejected, f.event)
			refused = append(refused, f.reason)
		} else {
			retry = append(retry, f.event)
			busy = append(busy, f.reason)
		}
	}
	var retryErr, rejectErr error
	if len(rejected) > 0 {
		rejectErr = core.Permanent(fmt.Errorf("%s: %d of %d documents refused: %s; fix the index mapping (template=true installs one that fits herald's documents) or remove the conflicting field", s.id, len(refused), len(events), first(refused, 3)))
	}
	if len(retry) > 0 {
		retryErr = fmt.Errorf("%s: %d of %d documents not written now, retrying them: %s", s.id, len(busy), len(events), first(busy, 3))
	}
	return core.Partial(len(events), retry, retryErr, rejected, rejectErr)
}

func first(list []string, n int) string {
	if len(list) <= n {
		return strings.Join(list, "; ")
	}
	return strings.Join(list[:n], "; ") + fmt.Sprintf("; and %d more", len(list)-n)
}

// errorReason extracts error.type and error.reason from an Elasticsearch error reply.
func errorReason(body []byte) string {
	var r struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &r) == nil && len(r.Error) > 0 {
		var ie itemError
		if json.Unmarshal(r.Error, &ie) == nil && (ie.Type != "" || ie.Reason != "") {
			return ie.String()
		}
	}
	return oneLine(body, 300)
}
