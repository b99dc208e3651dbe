package dingtalk

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"time"
)

// Sign is DingTalk's robot signature for a message sent at t: base64 of HMAC-SHA256 keyed
// with the secret over "timestamp\nsecret", the timestamp in milliseconds. It returns the
// timestamp and the signature, both to be sent (URL-encoded) as query parameters.
func Sign(secret string, t time.Time) (timestamp, sign string) {
	timestamp = strconv.FormatInt(t.UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "\n" + secret))
	return timestamp, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
