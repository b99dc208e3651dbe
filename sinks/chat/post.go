package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/core"
)

// PostJSON posts body as application/json to target through c and checks the reply with
// validate (httpx.JSONCodes for the robots' errcode replies).
func PostJSON(ctx context.Context, c *httpx.Client, target string, body []byte, validate httpx.Validator) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		// The URL was checked at start-up; never quote it, it carries the robot's key.
		return nil, core.Permanent(errors.New("cannot build the request; check the robot's URL"))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	return c.Do(ctx, req, validate)
}

// Validator is httpx.JSONCodes(codes) for a robot's replies, except that a 204 No Content is
// taken as delivered: there is no errcode to read, and the status says the message was taken.
func Validator(codes httpx.Codes) httpx.Validator {
	v := httpx.JSONCodes(codes)
	return func(resp *http.Response, body []byte) error {
		if resp.StatusCode == http.StatusNoContent {
			return nil
		}
		return v(resp, body)
	}
}

// MarshalJSON encodes v like json.Marshal but leaves <, > and & as they are: the robots'
// markdown carries <font> tags and <@userid> mentions, and reads better unescaped.
func MarshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
