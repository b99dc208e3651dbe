package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/heraldproject/herald/core"
)

// Limits on what Do reads of a reply.
const (
	// MaxReplyBody is the most of a 2xx reply Do reads for the validator and the caller.
	MaxReplyBody = 1 << 20
	// ErrorBodyLimit is the most of any other reply Do reads (MaxRefusedReply for a Refused),
	// and the most it quotes in the error.
	ErrorBodyLimit = 1 << 10
	// drainLimit is the most Do discards of an unread reply to keep the connection reusable.
	drainLimit = 64 << 10
)

// Validator checks the body of a 2xx reply, for services that answer 200 and report failure
// inside (WeChat and DingTalk errcode, Slack ok:false). It returns nil when the message was
// delivered; an *Error (see Reject) to say whether a retry may help; core.Permanent(err) for a
// failure no retry can fix; any other error for a failure worth retrying.
type Validator func(resp *http.Response, body []byte) error

// Do sends req once, within the client's timeout and ctx, and returns the 2xx reply's body (at
// most MaxReplyBody bytes). The reply is always drained and closed. Network errors and 408, 425,
// 429 and 5xx replies return a retryable *Error carrying the receiver's Retry-After; 401, 403
// and a validator's credential rejection return core.Credential(*Error); any other status, and
// any failure validate calls permanent, returns core.Permanent(*Error). Every error's
// text is scrubbed of the secrets req carries (URL query values, path tokens, credentials,
// authorization headers) and of secret-looking parameters.
func (c *Client) Do(ctx context.Context, req *http.Request, validate Validator) ([]byte, error) {
	return c.DoWith(ctx, req, Replies{Validate: validate})
}

// Refused reads a non-2xx reply (a redirect excepted) for a protocol that says more than its
// status code, such as OTLP's Status message, retry delay and retryable codes. Do has already
// classified the reply as for any receiver: e holds the status, the start of the reply as
// Detail, Retryable, the Retry-After Wait, Credential and Fix. Refused may change those fields
// (Do scrubs Detail after it) and gets the first MaxRefusedReply bytes of the reply.
type Refused func(resp *http.Response, reply []byte, e *Error)

// MaxRefusedReply is the most of a non-2xx reply Do reads for a Refused.
const MaxRefusedReply = 64 << 10

// Replies are the protocol's readers of a reply, for DoWith.
type Replies struct {
	// Validate checks a 2xx reply's body (nil: any 2xx is delivered).
	Validate Validator
	// Refused refines the error of a non-2xx reply (nil: the status decides).
	Refused Refused
}

// DoWith is Do with the protocol's own reading of refused replies as well.
func (c *Client) DoWith(ctx context.Context, req *http.Request, r Replies) ([]byte, error) {
	validate := r.Validate
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req = req.Clone(ctx)
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", UserAgent)
	}
	// The scrubber is built on the first error only: parsing the request's secrets out of its
	// URL and headers costs more than a delivered request's own work on loopback.
	var s lazyScrubber
	s.req, s.extra = req, c.secrets
	base := Error{Method: req.Method, Endpoint: endpoint(req.URL)}

	resp, err := c.http.Do(req)
	if err != nil {
		e := base
		e.Detail = s.scrub(c.networkDetail(ctx, err))
		e.Retryable = true
		return nil, &e
	}
	defer drainClose(resp.Body)

	e := base
	e.StatusCode = resp.StatusCode
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		limit := int64(ErrorBodyLimit)
		if r.Refused != nil {
			limit = MaxRefusedReply
		}
		reply, _ := io.ReadAll(io.LimitReader(resp.Body, limit))
		e.Detail = oneLine(reply[:min(len(reply), ErrorBodyLimit)])
		if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
			// Not followed (see CheckRedirect): say where to, without the target's path and query.
			e.Detail = redirectDetail(req.URL, resp.Header.Get("Location"))
			return nil, core.Permanent(&e)
		}
		switch {
		case credentialStatus(resp.StatusCode):
			e.Credential, e.Fix = true, CredentialStatusFix(resp.StatusCode)
		case retryableStatus(resp.StatusCode):
			e.Retryable = true
			e.Wait = parseRetryAfter(resp.Header.Get("Retry-After"), c.now())
		}
		if r.Refused != nil {
			r.Refused(resp, reply, &e)
		}
		e.Detail = s.scrub(e.Detail)
		switch {
		case e.Credential:
			return nil, core.Credential(&e, e.Fix)
		case e.Retryable:
			return nil, &e
		}
		return nil, core.Permanent(&e)
	}

	body, readErr := io.ReadAll(io.LimitReader(resp.Body, MaxReplyBody))
	if validate == nil {
		// The receiver accepted the request; a reply cut short changes nothing.
		return body, nil
	}
	if readErr != nil {
		e.Detail = s.scrub("reading the reply: " + readErr.Error())
		e.Retryable = true
		return nil, &e
	}
	verr := validate(resp, body)
	if verr == nil {
		return body, nil
	}
	var rejected *Error
	switch {
	case errors.As(verr, &rejected):
		e.Code = rejected.Code
		e.Detail = s.scrub(rejected.Detail)
		e.Retryable = rejected.Retryable
		e.Credential, e.Fix = rejected.Credential, rejected.Fix
		e.Wait = rejected.Wait
	default:
		e.Detail = s.scrub(verr.Error())
		e.Retryable = !core.IsPermanent(verr)
	}
	switch {
	case e.Credential:
		return body, core.Credential(&e, e.Fix)
	case !e.Retryable:
		return body, core.Permanent(&e)
	}
	return body, &e
}

// Reject is what a Validator returns for a reply that reports an error: the service's code,
// its explanation, whether a retry may help, and how long to wait first (0: the pipeline's
// backoff decides).
func Reject(code, detail string, retryable bool, wait time.Duration) error {
	return &Error{Code: code, Detail: detail, Retryable: retryable, Wait: wait}
}

// RejectCredential is what a Validator returns for a reply that refuses herald's credential (a
// robot key or token the service does not know, a signature made with the wrong secret): the
// sink is down until someone fixes it, and fix says what to fix.
func RejectCredential(code, detail, fix string) error {
	return &Error{Code: code, Detail: detail, Credential: true, Fix: fix}
}

// networkDetail describes a failed round trip without the URL net/http puts in its errors.
func (c *Client) networkDetail(ctx context.Context, err error) string {
	return NetworkDetail(ctx, err, c.timeout)
}

// NetworkDetail describes a failed round trip of a request made with ctx and a timeout of
// timeout, without the URL net/http puts in its errors (it may hold a token).
func NetworkDetail(ctx context.Context, err error, timeout time.Duration) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded) && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Sprintf("no complete reply within the timeout (%s); raise timeout= if the receiver is slow, or check that it is reachable", timeout)
	case errors.Is(err, context.Canceled):
		return "request canceled (herald is stopping)"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// endpoint is the part of a URL that is safe to show: scheme and host, never the userinfo, the
// path (Slack, Feishu and Discord hooks carry their token in it) or the query.
func endpoint(u *url.URL) string {
	return u.Scheme + "://" + u.Host
}

// drainClose discards what is left of a reply (up to a limit) and closes it, so the connection
// can be reused.
func drainClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, drainLimit))
	_ = body.Close()
}

// oneLine turns the start of a reply into one line of valid UTF-8 for an error message.
func oneLine(b []byte) string {
	truncated := len(b) >= ErrorBodyLimit
	// A character cut at the limit becomes "?".
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "?")), " ")
	if truncated {
		s += " …"
	}
	return s
}

// redirectDetail says where a redirect points, by scheme and host only (its path and query may
// carry the token herald sent), and what to do.
func redirectDetail(from *url.URL, location string) string {
	to, err := from.Parse(location)
	if err != nil || location == "" {
		return "the receiver redirects (no usable Location); herald does not follow redirects: write the receiver's final URL"
	}
	if to.Scheme == from.Scheme && to.Host == from.Host {
		return "the receiver redirects to another path on the same host; write the URL it redirects to, or add redirects=same-host"
	}
	return fmt.Sprintf("the receiver redirects to %s://%s; herald does not send the sink's headers and tokens to another host: write the URL it redirects to", to.Scheme, to.Host)
}
