package chat

import (
	"bytes"
	"context"
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
