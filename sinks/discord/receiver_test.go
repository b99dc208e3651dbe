package discord_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/heraldproject/herald/sinks/chat/chattest"
)

// Discord's documented limits (Execute Webhook; Message resource, "Embed Limits"), written
// here apart from the sink's constants so that a sink that miscounts is caught.
const (
	dcMaxContent    = 2000
	dcMaxEmbeds     = 10
	dcMaxTitle      = 256
	dcMaxDesc       = 4096
	dcMaxFields     = 25
	dcMaxFieldName  = 256
	dcMaxFieldValue = 1024
	dcMaxFooter     = 2048
	dcMaxAuthor     = 256
	dcMaxTotal      = 6000
)

func chars(s string) int { return len(utf16.Encode([]rune(s))) }

type dcField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline"`
}

type dcEmbed struct {
	Title       string    `json:"title"`
	Description string    `json:"description"`
	URL         string    `json:"url"`
	Color       *int      `json:"color"`
	Timestamp   string    `json:"timestamp"`
	Fields      []dcField `json:"fields"`
	Footer      *struct {
		Text string `json:"text"`
	} `json:"footer"`
	Author *struct {
		Name string `json:"name"`
	} `json:"author"`
}

type dcAllowed struct {
	Parse []string `json:"parse"`
	Roles []string `json:"roles"`
	Users []string `json:"users"`
}

// dcMessage is what the receiver decodes; unknown fields are refused.
type dcMessage struct {
	Content         string     `json:"content"`
	Username        string     `json:"username"`
	AvatarURL       string     `json:"avatar_url"`
	TTS             bool       `json:"tts"`
	Embeds          []dcEmbed  `json:"embeds"`
	AllowedMentions *dcAllowed `json:"allowed_mentions"`
}

// validateDiscord checks a body the way Discord does; it returns Discord's error code and a
// description, or 0 when Discord would post the message.
func validateDiscord(body []byte) (dcMessage, int, string) {
	var m dcMessage
	if !utf8.Valid(body) {
		return m, 50109, "the request body contains invalid JSON"
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil || dec.More() {
		return m, 50109, fmt.Sprintf("the request body contains invalid JSON: %v", err)
	}
	bad := func(format string, a ...any) (dcMessage, int, string) {
		return m, 50035, "Invalid Form Body: " + fmt.Sprintf(format, a...)
	}
	if strings.TrimSpace(m.Content) == "" && len(m.Embeds) == 0 {
		return m, 50006, "Cannot send an empty message"
	}
	if chars(m.Content) > dcMaxContent {
		return bad("content: Must be %d or fewer in length (%d)", dcMaxContent, chars(m.Content))
	}
	if m.Username != "" {
		lower := strings.ToLower(m.Username)
		if chars(m.Username) > 80 || strings.Contains(lower, "discord") || strings.Contains(lower, "clyde") {
			return bad("username: %q is not allowed", m.Username)
		}
	}
	if m.AvatarURL != "" {
		if u, err := url.Parse(m.AvatarURL); err != nil || u.Host == "" {
			return bad("avatar_url: Not a well formed URL")
		}
	}
	if len(m.Embeds) > dcMaxEmbeds {
		return bad("embeds: Must be %d or fewer in length", dcMaxEmbeds)
	}
	total := 0
	for i, e := range m.Embeds {
		where := fmt.Sprintf("embeds.%d", i)
		if chars(e.Title) > dcMaxTitle {
			return bad("%s.title: Must be %d or fewer in length", where, dcMaxTitle)
		}
		if chars(e.Description) > dcMaxDesc {
			return bad("%s.description: Must be %d or fewer in length", where, dcMaxDesc)
		}
		if e.Color != nil && (*e.Color < 0 || *e.Color > 0xFFFFFF) {
			return bad("%s.color: out of range", where)
		}
		if e.Timestamp != "" {
			if _, err := time.Parse(time.RFC3339, e.Timestamp); err != nil {
				return bad("%s.timestamp: Could not interpret %q as an ISO8601 timestamp", where, e.Timestamp)
			}
		}
		if len(e.Fields) > dcMaxFields {
			return bad("%s.fields: Must be %d or fewer in length", where, dcMaxFields)
		}
		total += chars(e.Title) + chars(e.Description)
		for j, f := range e.Fields {
			if strings.TrimSpace(f.Name) == "" || strings.TrimSpace(f.Value) == "" {
				return bad("%s.fields.%d: Must be 1 or more in length", where, j)
			}
			if chars(f.Name) > dcMaxFieldName || chars(f.Value) > dcMaxFieldValue {
				return bad("%s.fields.%d: too long", where, j)
			}
			total += chars(f.Name) + chars(f.Value)
		}
		if e.Footer != nil {
			if chars(e.Footer.Text) > dcMaxFooter {
				return bad("%s.footer.text: too long", where)
			}
			total += chars(e.Footer.Text)
		}
		if e.Author != nil {
			if chars(e.Author.Name) > dcMaxAuthor {
				return bad("%s.author.name: too long", where)
			}
			total += chars(e.Author.Name)
		}
		if e.Title == "" && e.Description == "" && len(e.Fields) == 0 {
			return bad("%s: an embed needs a title, description or fields", where)
		}
	}
	if total > dcMaxTotal {
		return bad("embeds: Embed size exceeds maximum size of %d (%d)", dcMaxTotal, total)
	}
	if a := m.AllowedMentions; a != nil {
		for _, p := range a.Parse {
			if !slices.Contains([]string{"roles", "users", "everyone"}, p) {
				return bad("allowed_mentions.parse: %q is not a valid value", p)
			}
		}
		if slices.Contains(a.Parse, "roles") && len(a.Roles) > 0 || slices.Contains(a.Parse, "users") && len(a.Users) > 0 {
			return bad("allowed_mentions: parse and an explicit list are mutually exclusive")
		}
		if len(a.Roles) > 100 || len(a.Users) > 100 {
			return bad("allowed_mentions: at most 100 roles or users")
		}
	}
	return m, 0, ""
}

// fakeDiscord serves one webhook at /api/webhooks/{id}/{token}, checking each request as
// Discord does. Reply, when set, answers instead after the checks.
type fakeDiscord struct {
	*chattest.Receiver[dcMessage]
	id, token string
}

func newFakeDiscord(t testing.TB) *fakeDiscord {
	f := &fakeDiscord{id: "123456789012345678", token: "wHk-T0ken_abcdefghijklmnopqrstuvwxyz0123456789"}
	f.Receiver = chattest.NewReceiver[dcMessage](t, "Discord", f.serve)
	return f
}

func (f *fakeDiscord) hookURL() string { return f.URL + "/api/webhooks/" + f.id + "/" + f.token }

func (f *fakeDiscord) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	fail := func(status, code int, msg string) {
		f.Refuse(fmt.Sprintf("%d %d %s", status, code, msg))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"message": %q, "code": %d}`, msg, code)
	}
	id, token, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/api/webhooks/"), "/")
	switch {
	case r.Method != http.MethodPost:
		fail(http.StatusMethodNotAllowed, 0, "405: Method Not Allowed")
		return
	case id != f.id:
		fail(http.StatusNotFound, 10015, "Unknown Webhook")
		return
	case token != f.token:
		fail(http.StatusUnauthorized, 50027, "Invalid Webhook Token")
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		fail(http.StatusBadRequest, 50006, "Cannot send an empty message")
		return
	}
	m, code, msg := validateDiscord(body)
	if code != 0 {
		fail(http.StatusBadRequest, code, msg)
		return
	}
	n, answered := f.Accept(r, body, m, w)
	if answered {
		return
	}
	if r.URL.Query().Get("wait") == "true" {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"9%017d","type":0,"content":%q,"channel_id":"1","webhook_id":%q}`, n, m.Content, f.id)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// field returns the value of an embed field.
func (e dcEmbed) field(name string) string {
	for _, f := range e.Fields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}
