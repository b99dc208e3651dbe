package teams_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/heraldproject/herald/sinks/chat/chattest"
)

// teamsMaxBody is Microsoft's documented message size limit ("28 KB"), read generously as
// 28 KiB: a sink that overshoots even that is caught.
const teamsMaxBody = 28 * 1024

type acFact struct {
	Title *string `json:"title"`
	Value *string `json:"value"`
}

// acElement holds the TextBlock and FactSet properties herald may send; others are refused.
type acElement struct {
	Type      string   `json:"type"`
	Text      *string  `json:"text"`
	Weight    string   `json:"weight"`
	Size      string   `json:"size"`
	Color     string   `json:"color"`
	FontType  string   `json:"fontType"`
	IsSubtle  bool     `json:"isSubtle"`
	Wrap      bool     `json:"wrap"`
	Separator bool     `json:"separator"`
	Spacing   string   `json:"spacing"`
	Facts     []acFact `json:"facts"`
}

type acCard struct {
	Schema  string `json:"$schema"`
	Type    string `json:"type"`
	Version string `json:"version"`
	MSTeams *struct {
		Width string `json:"width"`
	} `json:"msteams"`
	Body []acElement `json:"body"`
}

type teamsMessage struct {
	Type        string `json:"type"`
	Attachments []struct {
		ContentType string  `json:"contentType"`
		ContentURL  *string `json:"contentUrl"`
		Content     acCard  `json:"content"`
	} `json:"attachments"`
}

func oneOf(v string, allowed ...string) bool { return v == "" || slices.Contains(allowed, v) }

// validateTeams checks a body the way the Workflows trigger and Teams do: the size limit, the
// message envelope with Adaptive Card attachments, and each element's required properties and
// enumerations (adaptivecards.io/explorer). It returns the HTTP status and error code the
// service answers with, or 0 when the card would be posted.
func validateTeams(body []byte) (teamsMessage, int, string) {
	var m teamsMessage
	if len(body) > teamsMaxBody {
		return m, http.StatusRequestEntityTooLarge, fmt.Sprintf("RequestEntityTooLarge: %d bytes", len(body))
	}
	if !utf8.Valid(body) {
		return m, http.StatusBadRequest, "InvalidRequestContent: not UTF-8"
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil || dec.More() {
		return m, http.StatusBadRequest, fmt.Sprintf("InvalidRequestContent: %v", err)
	}
	bad := func(format string, a ...any) (teamsMessage, int, string) {
		return m, http.StatusBadRequest, "InvalidCard: " + fmt.Sprintf(format, a...)
	}
	if m.Type != "message" || len(m.Attachments) == 0 {
		return bad("want type message with attachments, got type %q and %d attachments", m.Type, len(m.Attachments))
	}
	for i, a := range m.Attachments {
		c := a.Content
		if a.ContentType != "application/vnd.microsoft.card.adaptive" {
			return bad("attachment %d: contentType %q", i, a.ContentType)
		}
		if c.Type != "AdaptiveCard" {
			return bad("attachment %d: content type %q", i, c.Type)
		}
		major, minor, ok := strings.Cut(c.Version, ".")
		mi, _ := strconv.Atoi(minor)
		if !ok || major != "1" || mi > 5 {
			return bad("attachment %d: version %q (Teams renders 1.0 to 1.5)", i, c.Version)
		}
		if c.MSTeams != nil && !oneOf(c.MSTeams.Width, "Full") {
			return bad("msteams.width %q", c.MSTeams.Width)
		}
		if len(c.Body) == 0 {
			return bad("attachment %d: empty body", i)
		}
		for j, e := range c.Body {
			where := fmt.Sprintf("attachment %d body %d", i, j)
			switch e.Type {
			case "TextBlock":
				if e.Text == nil || *e.Text == "" {
					return bad("%s: TextBlock without text", where)
				}
				if len(e.Facts) > 0 {
					return bad("%s: a TextBlock has no facts", where)
				}
			case "FactSet":
				if len(e.Facts) == 0 {
					return bad("%s: FactSet without facts", where)
				}
				for k, f := range e.Facts {
					if f.Title == nil || f.Value == nil {
						return bad("%s fact %d: title and value are required", where, k)
					}
				}
				if e.Text != nil || e.Weight != "" || e.Size != "" || e.Color != "" || e.FontType != "" {
					return bad("%s: TextBlock properties on a FactSet", where)
				}
			default:
				return bad("%s: element type %q not expected", where, e.Type)
			}
			if !oneOf(e.Weight, "Default", "Lighter", "Bolder") || !oneOf(e.Size, "Default", "Small", "Medium", "Large", "ExtraLarge") ||
				!oneOf(e.Color, "Default", "Dark", "Light", "Accent", "Good", "Warning", "Attention") || !oneOf(e.FontType, "Default", "Monospace") ||
				!oneOf(e.Spacing, "None", "Small", "Default", "Medium", "Large", "ExtraLarge", "Padding") {
				return bad("%s: a property has a value outside its enumeration: %+v", where, e)
			}
		}
	}
	return m, 0, ""
}

// fakeWorkflow serves one Workflows webhook trigger, checking each request as the service
// does, and answers 202 Accepted. Reply, when set, answers instead after the checks.
type fakeWorkflow struct {
	*chattest.Receiver[teamsMessage]
	path, sig string
}

func newFakeWorkflow(t testing.TB) *fakeWorkflow {
	f := &fakeWorkflow{path: "/workflows/0a1b2c3d4e5f/triggers/manual/paths/invoke", sig: "S1gnatureOfTheFlow-abcdefghijklmnop"}
	f.Receiver = chattest.NewReceiver[teamsMessage](t, "Workflows", f.serve)
	return f
}

// hookURL is the URL as Teams shows it, with its query.
func (f *fakeWorkflow) hookURL() string {
	return f.URL + f.path + "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + f.sig
}

func (f *fakeWorkflow) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	fail := func(status int, msg string) {
		f.Refuse(fmt.Sprintf("%d %s", status, msg))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		code, _, _ := strings.Cut(msg, ":")
		fmt.Fprintf(w, `{"error":{"code":%q,"message":%q}}`, code, msg)
	}
	q := r.URL.Query()
	switch {
	case r.Method != http.MethodPost:
		fail(http.StatusMethodNotAllowed, "MethodNotAllowed: "+r.Method)
		return
	case r.URL.Path != f.path:
		fail(http.StatusNotFound, "WorkflowNotFound: "+r.URL.Path)
		return
	case q.Get("sig") != f.sig || q.Get("api-version") != "2016-06-01" || q.Get("sp") != "/triggers/manual/run" || q.Get("sv") != "1.0" || len(q) != 4:
		fail(http.StatusUnauthorized, "DirectApiAuthorizationRequired: the query is not the trigger's: "+r.URL.RawQuery)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		fail(http.StatusUnsupportedMediaType, "UnsupportedMediaType: "+r.Header.Get("Content-Type"))
		return
	}
	m, status, msg := validateTeams(body)
	if status != 0 {
		fail(status, msg)
		return
	}
	if _, answered := f.Accept(r, body, m, w); answered {
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// card returns the first card's body.
func (m teamsMessage) card() []acElement {
	if len(m.Attachments) == 0 {
		return nil
	}
	return m.Attachments[0].Content.Body
}

// fact returns the value of the first fact titled title.
func (m teamsMessage) fact(title string) string {
	for _, e := range m.card() {
		for _, f := range e.Facts {
			if *f.Title == title {
				return *f.Value
			}
		}
	}
	return ""
}

// texts returns every TextBlock's text.
func (m teamsMessage) texts() []string {
	var out []string
	for _, e := range m.card() {
		if e.Text != nil {
			out = append(out, *e.Text)
		}
	}
	return out
}
