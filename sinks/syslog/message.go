package syslog

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldproject/herald/core"
)

// Severities (RFC 5424 Table 2) herald sends. A Warning event is a warning. A Normal event is
// informational, not a notice: most are routine lifecycle steps (Scheduled, Pulled, Started),
// and receivers commonly forward *.notice and above, where they would bury the warnings. A type
// Kubernetes does not define is a notice: unusual, not known to be a problem.
const (
	SeverityWarning = 4
	SeverityNotice  = 5
	SeverityInfo    = 6
)

// Severity is the syslog severity of an event of type typ.
func Severity(typ string) int {
	switch typ {
	case "Warning":
		return SeverityWarning
	case "Normal":
		return SeverityInfo
	}
	return SeverityNotice
}

// bom starts an RFC 5424 MSG that is UTF-8 (section 6.4).
const bom = "\xef\xbb\xbf"

// truncated ends a MSG that was cut to fit max_message_size.
const truncated = "...[truncated]"

// message holds the parts of one event's syslog message before framing.
type message struct {
	pri      int
	time     time.Time
	hostname string
	msgID    string
	object   []sdParam // the involved object's SD element (rfc5424)
	restart  []sdParam // the restart's, if any
	text     string    // MSG, valid UTF-8
}

type sdParam struct{ name, value string }

// appendRFC5424 appends m as an RFC 5424 message of at most max bytes: MSG is cut to fit (and
// the structured data dropped if even an empty MSG would not).
//
//	<PRI>1 TIMESTAMP HOSTNAME APP-NAME - MSGID [SD-ID k="v" ...] BOM MSG
func (c *Config) appendRFC5424(b []byte, m *message) []byte {
	start := len(b)
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(m.pri), 10)
	b = append(b, ">1 "...)
	b = m.time.UTC().AppendFormat(b, "2006-01-02T15:04:05.999999Z07:00")
	b = append(b, ' ')
	b = appendHeaderField(b, m.hostname, 255)
	b = append(b, ' ')
	b = append(b, c.Tag...)
	b = append(b, " - "...)
	b = appendHeaderField(b, m.msgID, 32)
	b = append(b, ' ')
	head := len(b)
	b = appendSD(b, c.SDID, m.object)
	if len(m.restart) > 0 {
		b = appendSD(b, c.RestartSDID, m.restart)
	}
	if len(b) == head {
		b = append(b, '-')
	}
	if m.text == "" {
		if len(b)-start > c.MaxMessageSize {
			b = append(b[:head], '-')
		}
		return b
	}
	room := c.MaxMessageSize - (len(b) - start) - 1 - len(bom)
	if room < len(m.text) && room < len(truncated)+1 {
		// Not even a cut MSG fits beside the structured data: send the MSG without it.
		b = append(b[:head], '-')
		room = c.MaxMessageSize - (len(b) - start) - 1 - len(bom)
	}
	b = append(b, ' ')
	b = append(b, bom...)
	return appendCut(b, m.text, room)
}

// appendRFC3164 appends m as a BSD syslog message of at most max bytes, MSG cut to fit:
//
//	<PRI>Mmm dd hh:mm:ss HOSTNAME TAG: MSG
func (c *Config) appendRFC3164(b []byte, m *message) []byte {
	start := len(b)
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(m.pri), 10)
	b = append(b, '>')
	b = m.time.In(c.Location).AppendFormat(b, time.Stamp)
	b = append(b, ' ')
	b = appendHeaderField(b, m.hostname, 255)
	b = append(b, ' ')
	b = append(b, c.Tag...)
	b = append(b, ": "...)
	return appendCut(b, m.text, c.MaxMessageSize-(len(b)-start))
}

// appendCut appends s, or as much of it as fits in room bytes followed by the truncation marker,
// cut at a UTF-8 boundary.
func appendCut(b []byte, s string, room int) []byte {
	if len(s) <= room {
		return append(b, s...)
	}
	keep := room - len(truncated)
	if keep <= 0 {
		return b
	}
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return append(append(b, s[:keep]...), truncated...)
}

// appendHeaderField appends a HOSTNAME or MSGID: printable ASCII (others become '_'), at most
// limit bytes, "-" (NILVALUE) when empty.
func appendHeaderField(b []byte, s string, limit int) []byte {
	if s == "" {
		return append(b, '-')
	}
	n := 0
	for i := 0; i < len(s) && n < limit; i++ {
		c := s[i]
		if c < 33 || c > 126 {
			c = '_'
		}
		b = append(b, c)
		n++
	}
	return b
}

// appendSD appends one SD-ELEMENT with the non-empty params, each value escaped as RFC 5424
// section 6.3.3 says: '"', '\' and ']' get a backslash. Nothing when every value is empty.
func appendSD(b []byte, id string, params []sdParam) []byte {
	open := false
	for _, p := range params {
		if p.value == "" {
			continue
		}
		if !open {
			b = append(b, '[')
			b = append(b, id...)
			open = true
		}
		b = append(b, ' ')
		b = append(b, p.name...)
		b = append(b, '=', '"')
		for i := 0; i < len(p.value); i++ {
			switch c := p.value[i]; c {
			case '"', '\\', ']':
				b = append(b, '\\', c)
			default:
				b = append(b, c)
			}
		}
		b = append(b, '"')
	}
	if open {
		b = append(b, ']')
	}
	return b
}

// compose gathers the parts of e's message; text is MSG before framing.
func (c *Config) compose(e *core.Event, text string, now time.Time) *message {
	o := e.InvolvedObject
	cluster := e.Cluster
	if cluster == "" {
		cluster = c.Cluster
	}
	m := &message{
		pri:   c.Facility*8 + Severity(e.Type),
		time:  e.LastSeen(now),
		msgID: e.Reason,
		text:  validUTF8(text),
	}
	switch {
	case c.Hostname == HostnameCluster:
		m.hostname = cluster
	case e.Source.Host != "":
		m.hostname = e.Source.Host
	case e.ReportingInstance != "":
		m.hostname = e.ReportingInstance
	default:
		m.hostname = cluster
	}
	if c.Format != FormatRFC5424 {
		return m
	}
	count := e.Count
	if e.Series != nil && e.Series.Count > count {
		count = e.Series.Count
	}
	component := e.Source.Component
	if component == "" {
		component = e.ReportingController
	}
	m.object = []sdParam{
		{"kind", validUTF8(o.Kind)},
		{"namespace", validUTF8(o.Namespace)},
		{"name", validUTF8(o.Name)},
		{"uid", validUTF8(string(o.UID))},
		{"apiVersion", validUTF8(o.APIVersion)},
		{"fieldPath", validUTF8(o.FieldPath)},
		{"type", validUTF8(e.Type)},
		{"count", countText(count)},
		{"component", validUTF8(component)},
		{"cluster", validUTF8(cluster)},
	}
	if r := e.Restart; r != nil {
		m.restart = []sdParam{
			{"container", validUTF8(r.Container)},
			{"restartCount", strconv.Itoa(int(r.RestartCount))},
		}
		if ls := r.LastState; ls != nil {
			m.restart = append(m.restart, sdParam{"exitCode", strconv.Itoa(int(ls.ExitCode))}, sdParam{"reason", validUTF8(ls.Reason)})
		}
	}
	return m
}

func countText(n int32) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(int(n))
}

// validUTF8 replaces what is not UTF-8 with U+FFFD: RFC 5424 declares MSG and PARAM-VALUE UTF-8.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// defaultText is MSG without a template: the event's message (rfc5424, where the rest is in the
// header and structured data), or the object, reason and count in front of it (rfc3164, which
// has neither):
//
//	shop/Pod/web-1 BackOff (count 3): Back-off restarting failed container
func (c *Config) defaultText(e *core.Event) string {
	if c.Format == FormatRFC5424 {
		return e.Message
	}
	o := e.InvolvedObject
	var b strings.Builder
	if o.Namespace != "" {
		b.WriteString(o.Namespace)
		b.WriteByte('/')
	}
	b.WriteString(o.Kind)
	b.WriteByte('/')
	b.WriteString(o.Name)
	b.WriteByte(' ')
	b.WriteString(e.Reason)
	if e.Count > 1 {
		b.WriteString(" (count ")
		b.WriteString(strconv.Itoa(int(e.Count)))
		b.WriteByte(')')
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}
