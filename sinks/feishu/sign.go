package feishu

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"time"
)

// Sign is Feishu's custom bot signature for a message sent at t: base64 of HMAC-SHA256 keyed
// with "timestamp\nsecret" over an empty message, the timestamp in seconds. Both go into the
// request body as "timestamp" and "sign".
func Sign(secret string, t time.Time) (timestamp, sign string) {
	timestamp = strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(timestamp+"\n"+secret))
	return timestamp, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
