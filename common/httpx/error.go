package httpx

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRetryAfter caps a receiver's Retry-After, so a broken reply cannot park a sink for days.
const MaxRetryAfter = 10 * time.Minute

// Error is a delivery that did not succeed: a network failure, a status herald does not accept,
// or a 2xx reply whose body reports an error. Its text is scrubbed of secrets. Do returns it as
// is when a retry may help, wrapped in core.Credential when the receiver refused herald's
// credential (retried until it works), and wrapped in core.Permanent when no retry can help.
type Error struct {
	// Method and Endpoint ("https://host", never the path or query) name the request.
	Method   string
	Endpoint string
	// StatusCode is the reply's status; 0 when no reply came.
	StatusCode int
	// Code is the service's error code from a 2xx reply's body ("45009"), "" otherwise.
	Code string
	// Detail is the network error, or the start of the reply, scrubbed.
	Detail string
	// Retryable reports whether trying again later may succeed.
	Retryable bool
	// Credential reports a refused credential or authorisation (401, 403, a robot's "invalid
	// key" code): retried until someone fixes it. Fix says what to fix.
	Credential bool
	Fix        string
	// Wait is how long the receiver asked herald to wait (Retry-After), 0 when it did not say.
	Wait time.Duration
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: ", e.Method, e.Endpoint)
	switch {
	case e.StatusCode == 0:
		b.WriteString(e.Detail)
	case e.Code != "":
		fmt.Fprintf(&b, "HTTP %d with error code %s", e.StatusCode, e.Code)
		if e.Detail != "" {
			fmt.Fprintf(&b, ": %s", e.Detail)
		}
	default:
		fmt.Fprintf(&b, "HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
		if e.Detail != "" {
			fmt.Fprintf(&b, ": %s", e.Detail)
		}
	}
	if e.Wait > 0 {
		fmt.Fprintf(&b, " (receiver asks to retry after %s)", e.Wait)
	}
	return b.String()
}

// RetryAfter is how long the receiver asked herald to wait before the next attempt; 0 when it
// did not say. The pipeline finds it with errors.As(err, &interface{ RetryAfter() time.Duration }).
func (e *Error) RetryAfter() time.Duration { return e.Wait }

// RetryableStatus reports, for sinks whose client library reads the reply (elasticsearch,
// influxdb), whether a status is worth retrying, as Do decides it.
func RetryableStatus(code int) bool { return retryableStatus(code) }

// CredentialStatus reports whether a status refuses herald's credential (401, 403), as Do
// decides it: an outage of the sink, not a verdict on the events.
func CredentialStatus(code int) bool { return credentialStatus(code) }

// retryableStatus reports whether a non-2xx status is worth retrying: the receiver timed out,
// is rate limiting, or failed on its side. 401 and 403 are refused credentials (see
// credentialStatus); any other 4xx means the request itself is wrong.
func retryableStatus(code int) bool {
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code == http.StatusTooManyRequests:
		return true
	case code >= 500:
		return true
	}
	return false
}

// ParseRetryAfter reads a Retry-After header (delay-seconds or an HTTP-date, capped at
// MaxRetryAfter); 0 when there is none or it cannot be read.
func ParseRetryAfter(v string, now time.Time) time.Duration { return parseRetryAfter(v, now) }

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP-date (RFC 9110 10.2.3).
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d <= 0 {
		return 0
	}
	return min(d, MaxRetryAfter)
}

// credentialStatus reports a status that refuses herald's credential or authorisation rather
// than the request: 401 (no valid credential) and 403 (not allowed). Both are outages until
// someone fixes the credential, never a verdict on the events.
func credentialStatus(code int) bool {
	return code == http.StatusUnauthorized || code == http.StatusForbidden
}

// CredentialStatusFix is the fix for a 401 or 403 reply.
func CredentialStatusFix(code int) string {
	if code == http.StatusForbidden {
		return "the receiver knows the credential but does not allow this request: grant it the permission, or use a credential that has it"
	}
	return "the receiver does not accept the credential: check the token, key or password the sink sends"
}
