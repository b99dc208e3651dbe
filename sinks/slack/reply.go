package slack

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldproject/herald/common/httpx"
)

// apiReply checks a chat.postMessage reply. Slack's Web API answers 200 with {"ok":false,
// "error":"..."} for most errors: rate limits and Slack's own failures are retried; a refused
// token (credentialErrors) makes the sink down until it is fixed, keeping its events; anything
// else (an unknown channel, refused blocks) is permanent for that message.
func apiReply(resp *http.Response, body []byte) error {
	var r struct {
		OK       *bool  `json:"ok"`
		Error    string `json:"error"`
		Metadata struct {
			Messages []string `json:"messages"`
		} `json:"response_metadata"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.OK == nil {
		// Slack always answers JSON; something in between (a proxy) answered instead.
		return httpx.Reject("", "the reply is not Slack's Web API JSON", true, 0)
	}
	if *r.OK {
		return nil
	}
	detail := r.Error
	if len(r.Metadata.Messages) > 0 {
		detail += ": " + strings.Join(r.Metadata.Messages, "; ")
	}
	if hint := apiHints[r.Error]; hint != "" {
		detail += " (" + hint + ")"
	}
	if credentialErrors[r.Error] {
		return httpx.RejectCredential(r.Error, detail, apiHints[r.Error])
	}
	switch r.Error {
	case "ratelimited", "rate_limited":
		return httpx.Reject(r.Error, detail, true, retryAfter(resp))
	case "internal_error", "fatal_error", "service_unavailable", "request_timeout", "team_added_to_org":
		return httpx.Reject(r.Error, detail, true, 0)
	}
	return httpx.Reject(r.Error, detail, false, 0)
}

// credentialErrors are the Web API's answers about the token rather than the message.
var credentialErrors = map[string]bool{
	"not_authed": true, "invalid_auth": true, "token_revoked": true, "token_expired": true,
	"account_inactive": true, "missing_scope": true, "not_allowed_token_type": true,
	"no_permission": true, "ekm_access_denied": true,
}

// apiHints say what to fix for the errors a misconfigured sink meets.
var apiHints = map[string]string{
	"not_authed":          "set token= to a bot token",
	"invalid_auth":        "token= is not a valid token; copy the Bot User OAuth Token (xoxb-...)",
	"token_revoked":       "the token was revoked; reinstall the app and update token=",
	"account_inactive":    "the token's app or workspace is gone; update token=",
	"missing_scope":       "add the chat:write scope to the app and reinstall it",
	"token_expired":       "the token expired; create a new one and update token=",
	"channel_not_found":   "check channel= (use the channel's ID) and that the bot can see it",
	"not_in_channel":      "invite the bot to the channel (/invite @app)",
	"is_archived":         "the channel is archived; choose another channel=",
	"restricted_action":   "a workspace setting stops the bot from posting in this channel",
	"invalid_blocks":      "Slack refused the blocks; if you set a body template, check its blocks",
	"msg_blocks_too_long": "the blocks are too long; if you set a body template, shorten it with truncate",
}

// retryAfter reads Retry-After in seconds, capped like httpx's own.
func retryAfter(resp *http.Response) time.Duration {
	if resp == nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After")))
	if err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, httpx.MaxRetryAfter)
}
