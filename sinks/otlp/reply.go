package otlp

import (
	"net/http"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/heraldproject/herald/common/httpx"
)

// Status is what an OTLP/HTTP receiver answers a failed request with: a protobuf-encoded
// google.rpc.Status (the specification's "Failures"). The sink reads the message, to quote it,
// and a google.rpc.RetryInfo among the details, to wait as long as it asks.
type Status struct {
	Code    int32
	Message string
	// RetryDelay is the RetryInfo's retry_delay; 0 when there is none.
	RetryDelay time.Duration
}

// retryInfoType ends the type URL of a google.rpc.RetryInfo detail.
const retryInfoType = "/google.rpc.RetryInfo"

// DecodeStatus reads a google.rpc.Status (code = 1, message = 2, details = 3, each a
// google.protobuf.Any of type_url = 1 and value = 2). It is decoded by field number rather than
// with the googleapis Go types, whose module would pull gRPC into herald. ok is false when b is
// not a well-formed Status (an HTML page from a proxy).
func DecodeStatus(b []byte) (s Status, ok bool) {
	ok = eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) bool {
		switch {
		case num == 1 && typ == protowire.VarintType:
			s.Code = int32(n)
		case num == 2 && typ == protowire.BytesType:
			s.Message = string(v)
		case num == 3 && typ == protowire.BytesType:
			if d, ok := decodeRetryInfoAny(v); ok {
				s.RetryDelay = d
			}
		}
		return true
	})
	return s, ok
}

// decodeRetryInfoAny reads an Any holding a RetryInfo: retry_delay = 1, a google.protobuf.Duration
// of seconds = 1 and nanos = 2.
func decodeRetryInfoAny(b []byte) (time.Duration, bool) {
	var typeURL string
	var value []byte
	if !eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) bool {
		switch {
		case num == 1 && typ == protowire.BytesType:
			typeURL = string(v)
		case num == 2 && typ == protowire.BytesType:
			value = v
		}
		return true
	}) || !strings.HasSuffix(typeURL, retryInfoType) {
		return 0, false
	}
	var delay time.Duration
	ok := eachField(value, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) bool {
		if num != 1 || typ != protowire.BytesType {
			return true
		}
		var secs, nanos int64
		ok := eachField(v, func(num protowire.Number, typ protowire.Type, _ []byte, n uint64) bool {
			switch {
			case num == 1 && typ == protowire.VarintType:
				secs = int64(n)
			case num == 2 && typ == protowire.VarintType:
				nanos = int64(int32(n))
			}
			return true
		})
		if ok && secs >= 0 && secs < int64(httpx.MaxRetryAfter/time.Second)+1 {
			delay = time.Duration(secs)*time.Second + time.Duration(nanos)
		} else if ok && secs > 0 {
			delay = httpx.MaxRetryAfter
		}
		return ok
	})
	if !ok || delay <= 0 {
		return 0, false
	}
	return min(delay, httpx.MaxRetryAfter), true
}

// eachField calls f for every field of the protobuf message b: its number, wire type, and its
// bytes (length-delimited fields) or number (varints). It returns false when b is malformed or
// f returns false.
func eachField(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, n uint64) bool) bool {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return false
		}
		b = b[n:]
		if !f(num, typ, v, x) {
			return false
		}
	}
	return true
}

// Retryable reports whether the OTLP/HTTP specification says a failed request with this status
// is retried: 429, 502, 503 and 504. Every other 4xx and 5xx MUST NOT be retried; herald makes
// an exception of 401 and 403, which refuse its credential: an outage until someone fixes it,
// never a verdict on the events (see httpx.CredentialStatus).
func Retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}
