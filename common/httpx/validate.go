package httpx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Codes describes how a service reports the outcome in the JSON body of a 2xx reply, and which
// of its error codes are worth retrying. Codes are compared as text: 45009 and "45009" are the
// same code, and string codes ("channel_not_found") work too.
type Codes struct {
	// Fields hold the code, tried in order; the first one present counts ("errcode", "code").
	// A reply with none of them is taken as delivered.
	Fields []string
	// MessageFields hold the service's explanation ("errmsg", "msg"), quoted in the error.
	MessageFields []string
	// OK lists the codes that mean delivered (default: "0").
	OK []string
	// RateLimited lists the codes for "too many messages". They are retried, after
	// RateLimitWait when it is set (a per-minute quota: one minute).
	RateLimited   []string
	RateLimitWait time.Duration
	// Retryable lists the codes for a passing failure on the service's side ("system busy").
	Retryable []string
	// Credential maps the codes that refuse herald's credential (a robot key the service does
	// not know, a wrong signing secret, a token that expired) to the fix: the sink is down
	// until someone fixes it, and its events are kept. CredentialCheck, when set, decides for
	// codes whose meaning depends on the message (DingTalk's 310000 is a wrong signature or a
	// missing keyword): the fix and true when the reply is about the credential.
	Credential      map[string]string
	CredentialCheck func(code, msg string) (fix string, ok bool)
	// Every other code is permanent: a refused payload, a missing keyword.
}

// JSONCodes returns a Validator for services that answer 200 with an error code in a JSON
// object (Work WeChat and DingTalk {"errcode":45009,"errmsg":"..."}, Feishu {"code":9499}).
// A reply that is not a JSON object is retried: the service always answers JSON, so something
// in between (a proxy, a captive portal) answered instead.
func JSONCodes(c Codes) Validator {
	ok := c.OK
	if ok == nil {
		ok = []string{"0"}
	}
	return func(_ *http.Response, body []byte) error {
		var obj map[string]json.RawMessage
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&obj); err != nil || obj == nil {
			return Reject("", "the reply is not the JSON object the service sends: "+oneLine(body[:min(len(body), ErrorBodyLimit)]), true, 0)
		}
		code, found := field(obj, c.Fields)
		if !found || slices.Contains(ok, code) {
			return nil
		}
		msg, _ := field(obj, c.MessageFields)
		if fix, ok := c.Credential[code]; ok {
			return RejectCredential(code, msg, fix)
		}
		if c.CredentialCheck != nil {
			if fix, ok := c.CredentialCheck(code, msg); ok {
				return RejectCredential(code, msg, fix)
			}
		}
		switch {
		case slices.Contains(c.RateLimited, code):
			return Reject(code, msg+" (rate limited)", true, c.RateLimitWait)
		case slices.Contains(c.Retryable, code):
			return Reject(code, msg, true, 0)
		}
		return Reject(code, msg, false, 0)
	}
}

// field returns the first of names present in obj, as text: strings unquoted, numbers and
// booleans as written.
func field(obj map[string]json.RawMessage, names []string) (string, bool) {
	for _, n := range names {
		raw, ok := obj[n]
		if !ok {
			continue
		}
		var v any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return string(raw), true
		}
		switch v := v.(type) {
		case string:
			return v, true
		case nil:
			continue // "errcode": null says nothing
		default:
			return fmt.Sprint(v), true
		}
	}
	return "", false
}
