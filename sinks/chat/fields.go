package chat

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldproject/herald/core"
)

// TimeLayout is how chat layouts print an event's time, in the user's --timezone.
const TimeLayout = "2006-01-02 15:04:05 MST"

// Caps on the short fields, so that a digest's headers always fit a robot's smallest limit
// whatever the cluster sends. Kubernetes' own limits are lower for names and kinds; reasons
// and cluster names are free text.
const (
	maxShortField = 256
	// MaxMessageBytes bounds the message kept per event; layouts truncate further to fit.
	MaxMessageBytes = 64 << 10
)

// Fields are what every default chat layout shows for one event, cleaned for display: valid
// UTF-8, short fields capped, the time in the user's time zone.
type Fields struct {
	Cluster   string
	Type      string // Warning or Normal
	Namespace string // empty for cluster-scoped objects (Node)
	Kind      string
	Name      string // the involved object's name, not the event's
	Reason    string
	Message   string
	// Count is how often the event occurred (the event's count or series count, at least 1).
	Count int32
	// Host is the node that reported the event, when known.
	Host string
	// Time is the last occurrence in the user's time zone; zero when the event has no time.
	Time time.Time
	// Restart is the restart enrichment of a ContainerRestarted event, nil otherwise. Layouts
	// read its facts through RestartHeader, RestartFacts and RecentEvents, and its logs from
	// PreviousLog and CurrentLog below, which FitSingle cuts to the service's limit.
	Restart *core.PodRestart
	// PreviousLog and CurrentLog are the restart's log tails, cleaned, at most MaxLogBytes each
	// and ending where the log ends; "" for plain events.
	PreviousLog, CurrentLog string
}

// FieldsOf extracts the layout fields of e. cluster is used when the event carries none;
// loc is --timezone (nil means UTC). The event is not changed.
func FieldsOf(e *core.Event, cluster string, loc *time.Location) Fields {
	if loc == nil {
		loc = time.UTC
	}
	f := Fields{Cluster: clean(cluster, maxShortField)}
	if e == nil || e.Event == nil {
		return f
	}
	if e.Cluster != "" {
		f.Cluster = clean(e.Cluster, maxShortField)
	}
	o := e.InvolvedObject
	ns := o.Namespace
	if ns == "" && o.Kind != "Node" && o.Kind != "Namespace" {
		ns = e.Namespace
	}
	f.Type = clean(e.Type, maxShortField)
	f.Namespace = clean(ns, maxShortField)
	f.Kind = clean(o.Kind, maxShortField)
	f.Name = clean(o.Name, maxShortField)
	f.Reason = clean(e.Reason, maxShortField)
	f.Message = clean(strings.TrimSpace(e.Message), MaxMessageBytes)
	if r := &e.Route; r.Summary != "" || len(r.Metadata) > 0 {
		// A team Route's summary and metadata lead the message, in every chat layout.
		f.Message = clean(routeLines(r)+f.Message, MaxMessageBytes)
	}
	if e.Folded > 0 {
		// Noise control folded other events into this one (group_by, repeat_interval).
		f.Message = clean(f.Message+fmt.Sprintf("\n(+%d more like this, folded)", e.Folded), MaxMessageBytes)
	}
	f.Host = clean(e.Source.Host, maxShortField)
	if f.Host == "" {
		f.Host = clean(e.ReportingInstance, maxShortField)
	}
	f.Count = max(e.Count, 1)
	if e.Series != nil && e.Series.Count > f.Count {
		f.Count = e.Series.Count
	}
	switch {
	case !e.LastTimestamp.IsZero():
		f.Time = e.LastTimestamp.Time
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		f.Time = e.Series.LastObservedTime.Time
	case !e.EventTime.IsZero():
		f.Time = e.EventTime.Time
	case !e.FirstTimestamp.IsZero():
		f.Time = e.FirstTimestamp.Time
	default:
		f.Time = e.Observed
	}
	if !f.Time.IsZero() {
		f.Time = f.Time.In(loc)
	}
	f.Restart = e.Restart
	f.restartLogs()
	return f
}

// routeLines writes a Route's summary and its metadata, sorted by key, a line each.
func routeLines(r *core.RouteNote) string {
	var b strings.Builder
	if r.Summary != "" {
		b.WriteString(strings.TrimSpace(r.Summary) + "\n")
	}
	keys := make([]string, 0, len(r.Metadata))
	for k := range r.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(k + ": " + r.Metadata[k] + "\n")
	}
	return b.String()
}

// Object names the involved object: "Pod shop/web-1", or "Node node-1" when cluster-scoped.
func (f Fields) Object() string {
	if f.Namespace == "" {
		return strings.TrimSpace(f.Kind + " " + f.Name)
	}
	return strings.TrimSpace(f.Kind + " " + f.Namespace + "/" + f.Name)
}

// When is the event's time as layouts print it (TimeLayout), or "" when unknown.
func (f Fields) When() string {
	if f.Time.IsZero() {
		return ""
	}
	return f.Time.Format(TimeLayout)
}

// OneLine is the message on one line, for digests and titles.
func (f Fields) OneLine() string { return OneLine(f.Message) }

// OneLine joins the lines of s with spaces and collapses runs of blanks.
func OneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// clean makes s valid UTF-8 without NUL bytes and cuts it to max bytes with a marker.
func clean(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return Truncate(s, max)
}

// Marker ends every text herald cut short.
const Marker = "…"

// Truncate returns s cut to at most max bytes at a character boundary, ending in Marker when
// cut. Invalid UTF-8 in s is replaced first, so the result is always valid UTF-8.
func Truncate(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	keep := max - len(Marker)
	if keep < 0 {
		return cutRunes(s, max)
	}
	return cutRunes(s, keep) + Marker
}

// cutRunes returns the longest prefix of s of at most n bytes that ends on a character boundary.
func cutRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
