// Package syslog sends events to a syslog receiver: RFC 5424 (or RFC 3164) messages over UDP,
// TCP or TLS, octet-counted on streams, the involved object in structured data, the severity from
// the event's type.
package syslog

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang/glog"

	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
)

func init() {
	sinks.Register(sinks.Definition{
		Scheme:  "syslog",
		Summary: "syslog receiver (rsyslog, syslog-ng, a SIEM): RFC 5424 or 3164 over UDP, TCP or TLS, octet-counted, the object in structured data, severity from the type",
		Example: "syslog://rsyslog.logging:6514?network=tls&facility=local0&level=Normal",
		Params:  Params,
		New:     sinks.Constructor(ParseConfig, New),
	})
}

// Sink sends events to one syslog receiver.
type Sink struct {
	cfg  *Config
	body *template.Body // nil: MSG is the event's message
	now  func() time.Time

	mu   sync.Mutex // one Export at a time: one connection, frames in order
	conn conn
	buf  []byte // the batch's frames, reused
	msg  []byte // one message before framing, reused
	ends []int  // where each frame of buf ends
}

// New loads the template, if any. It connects to nothing: the first batch dials.
func New(cfg *Config, env sinks.Env) (*Sink, error) {
	s := &Sink{cfg: cfg, now: env.Clock(), conn: conn{cfg: cfg}}
	if cfg.Template != nil {
		ctx := env.Ctx
		if ctx == nil {
			ctx = context.Background()
		}
		body, err := template.New(ctx, *cfg.Template)
		if err != nil {
			return nil, err
		}
		s.body = body
	}
	framing := ""
	if cfg.Network != NetworkUDP {
		framing = ", " + cfg.Framing + " framing"
	}
	glog.Infof("%s: %s messages to %s://%s%s, facility %s, APP-NAME %s, at most %d bytes each",
		cfg.ID, cfg.Format, cfg.Network, cfg.Address, framing, Facilities[cfg.Facility], cfg.Tag, cfg.MaxMessageSize)
	return s, nil
}

// Name implements core.Sink.
func (s *Sink) Name() string { return "syslog" }

// Export sends one message per event, in order, over one kept connection. An event whose MSG
// template fails is refused alone. A connect, handshake or write that fails is an outage: the
// events the kernel did not take are retried, and the connection is dialled again.
//
// Syslog has no acknowledgement (RFC 6587 and RFC 5426 define none): a message counts as
// delivered once the kernel took it. Before each batch a kept connection is checked, so a
// receiver that closed it gets a new connection rather than a batch it will never read.
func (s *Sink) Export(ctx context.Context, events []*core.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out core.Outcomes
	now := s.now()
	s.buf, s.ends = s.buf[:0], s.ends[:0]
	kept := make([]*core.Event, 0, len(events))
	for _, e := range events {
		b, err := s.appendFrame(s.buf, e, now)
		if err != nil {
			out.Reject(core.Permanent(fmt.Errorf("%s: event %s (%s): %w", s.cfg.ID, e.Key(), e.Reason, err)), e)
			continue
		}
		s.buf = b
		s.ends = append(s.ends, len(b))
		kept = append(kept, e)
	}
	if len(kept) == 0 {
		return out.Err(len(events))
	}
	c, err := s.conn.get(ctx)
	if err != nil {
		out.Retry(fmt.Errorf("%s: %w", s.cfg.ID, err), kept...)
		return out.Err(len(events))
	}
	if s.cfg.Network == NetworkUDP {
		start := 0
		for i, end := range s.ends {
			if _, err := s.conn.write(ctx, c, s.buf[start:end]); err != nil {
				out.Retry(fmt.Errorf("%s: %w", s.cfg.ID, err), kept[i:]...)
				break
			}
			start = end
		}
		return out.Err(len(events))
	}
	if n, err := s.conn.write(ctx, c, s.buf); err != nil {
		// The frames the kernel took whole count as sent; the rest, the one cut included, are
		// sent again on a new connection.
		sent := 0
		for sent < len(s.ends) && s.ends[sent] <= n {
			sent++
		}
		out.Retry(fmt.Errorf("%s: %w", s.cfg.ID, err), kept[sent:]...)
	}
	return out.Err(len(events))
}

// appendFrame appends e's message, framed for the transport, to b.
func (s *Sink) appendFrame(b []byte, e *core.Event, now time.Time) ([]byte, error) {
	text := ""
	if s.body != nil {
		out, err := s.body.Render(e)
		if err != nil {
			return b, fmt.Errorf("the MSG template does not render: %v; fix the template", err)
		}
		text = string(out)
	} else {
		text = s.cfg.defaultText(e)
	}
	lf := s.cfg.Network != NetworkUDP && s.cfg.Framing == FramingLF
	if lf {
		text = oneLine.Replace(text)
	}
	m := s.cfg.compose(e, text, now)
	msg := s.msg[:0]
	if s.cfg.Format == FormatRFC3164 {
		msg = s.cfg.appendRFC3164(msg, m)
	} else {
		msg = s.cfg.appendRFC5424(msg, m)
	}
	s.msg = msg
	switch {
	case s.cfg.Network == NetworkUDP:
		b = append(b, msg...)
	case lf:
		start := len(b)
		b = append(b, msg...)
		for i := start; i < len(b); i++ {
			if b[i] == '\n' || b[i] == '\r' {
				b[i] = ' ' // a line break left in a structured data value
			}
		}
		b = append(b, '\n')
	default:
		// RFC 6587 3.4.1: MSG-LEN SP SYSLOG-MSG.
		b = strconv.AppendInt(b, int64(len(msg)), 10)
		b = append(b, ' ')
		b = append(b, msg...)
	}
	return b, nil
}

// oneLine keeps MSG on one line for framing=lf: a line break becomes the two characters \n (\r
// for a lone carriage return), as in herald's log and file sinks.
var oneLine = strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\r`)

// Close closes the connection and stops the template's ConfigMap watch.
func (s *Sink) Close() error {
	if s.body != nil {
		s.body.Close()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conn.close()
	return nil
}

// Preview shows the frame the sink would send for e (herald check); the BOM before an RFC 5424
// MSG is shown as <BOM>.
func (s *Sink) Preview(e *core.Event) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.appendFrame(nil, e, s.now())
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("to %s://%s:\n%s\n", s.cfg.Network, s.cfg.Address, bytes.ReplaceAll(bytes.TrimSuffix(b, []byte("\n")), []byte(bom), []byte("<BOM>"))), nil
}
