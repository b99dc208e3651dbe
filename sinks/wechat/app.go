package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks/chat"
)

// tokenErrors are the codes with which the application API refuses an access token: invalid
// (40014), expired (42001), missing (41001). herald then fetches a new token and resends once.
var tokenErrors = []string{"40014", "42001", "41001"}

// tokenMargin is how long before its announced expiry herald stops using a token.
const tokenMargin = 5 * time.Minute

// tokenCache holds the application's access token from /cgi-bin/gettoken until it expires.
type tokenCache struct {
	cfg    *Config
	client *httpx.Client

	mu      sync.Mutex
	token   string
	expires time.Time
}

// send posts an application message, with a cached token, and once more with a fresh token
// when the API says the token is invalid or expired.
func (t *tokenCache) send(ctx context.Context, body []byte) error {
	for attempt := 0; ; attempt++ {
		token, err := t.get(ctx)
		if err != nil {
			return err
		}
		u := t.cfg.Endpoint.JoinPath("/cgi-bin/message/send")
		u.RawQuery = url.Values{"access_token": {token}}.Encode()
		reply, err := chat.PostJSON(ctx, t.client, u.String(), body, chat.Validator(Codes))
		var he *httpx.Error
		if err != nil && errors.As(err, &he) && slices.Contains(tokenErrors, he.Code) {
			t.invalidate(token)
			if attempt == 0 {
				continue
			}
			return fmt.Errorf("the application API refused a fresh access token too (retrying later): %w", err)
		}
		if err == nil {
			warnUndelivered(t.cfg.ID, reply)
		}
		return err
	}
}

// get returns the cached token, fetching a new one when there is none or it is about to expire.
func (t *tokenCache) get(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.cfg.Clock.Now()
	if t.token != "" && now.Before(t.expires) {
		return t.token, nil
	}
	u := t.cfg.Endpoint.JoinPath("/cgi-bin/gettoken")
	u.RawQuery = url.Values{"corpid": {t.cfg.CorpID}, "corpsecret": {t.cfg.CorpSecret.Reveal()}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", core.Permanent(errors.New("cannot build the gettoken request; check endpoint="))
	}
	reply, err := t.client.Do(ctx, req, chat.Validator(Codes))
	if err != nil {
		if core.IsPermanent(err) || core.IsCredential(err) {
			return "", fmt.Errorf("getting an access token (check corp_id and corp_secret): %w", err)
		}
		return "", fmt.Errorf("getting an access token: %w", err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(reply, &tok); err != nil || tok.AccessToken == "" {
		return "", errors.New("getting an access token: the reply holds no access_token (retrying later)")
	}
	life := time.Duration(tok.ExpiresIn) * time.Second
	if life <= 0 {
		life = 2 * time.Hour // what the API documents
	}
	t.token = tok.AccessToken
	t.expires = now.Add(max(life-tokenMargin, life/2))
	return t.token, nil
}

// invalidate forgets token, unless another message already replaced it.
func (t *tokenCache) invalidate(token string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token == token {
		t.token = ""
	}
}
