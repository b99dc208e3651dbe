// Package file appends events to a file, one line each (JSON, or a template rendered per event),
// rotated by size with a bounded number of old files, and synced to disk before a batch counts
// as delivered.
package file

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
		Scheme:  "file",
		Summary: "append events to a file (or /dev/stdout), one JSON object or rendered template per line, rotated by size, synced to disk per batch",
		Example: "file:/var/log/herald/events.log?max_size=100&max_backups=5&level=Normal",
		Params:  Params,
		New:     sinks.Constructor(ParseConfig, New),
	})
}

// Sink appends events to one file.
type Sink struct {
	cfg  *Config
	body *template.Body // nil: herald.event/v1 records
	now  func() time.Time

	mu   sync.Mutex // one Export at a time: lines stay whole and in order
	w    *rotator
	data bytes.Buffer // the batch's lines, reused
	ends []int        // where each line of data ends
}

// New loads the template and opens the file (creating it), so that a directory that does not
// exist or may not be written is refused at start with the fix. With env.CheckOnly it opens
// nothing.
func New(cfg *Config, env sinks.Env) (*Sink, error) {
	s := &Sink{cfg: cfg, now: env.Clock()}
	s.w = &rotator{
		path: cfg.Path, maxSize: cfg.MaxSize, maxBackups: cfg.MaxBackups, maxAge: cfg.MaxAge,
		compress: cfg.Compress, now: s.now, sync: dataSync,
	}
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
	if env.CheckOnly {
		return s, nil
	}
	if err := s.w.open(); err != nil {
		s.closeBody()
		return nil, err
	}
	if !s.w.regular {
		if len(cfg.Rotation) > 0 {
			s.Close()
			return nil, fmt.Errorf("parameter %q: %s is not a regular file, so it cannot be rotated; remove %s", cfg.Rotation[0], cfg.Path, strings.Join(cfg.Rotation, ", "))
		}
		glog.Infof("%s: appends %s to %s (not a regular file: no rotation, no sync)", cfg.ID, s.what(), cfg.Path)
		return s, nil
	}
	s.w.triggerMill() // the limits apply to backups left by an earlier run too
	glog.Infof("%s: appends %s to %s, synced per batch, rotated at %s keeping %s", cfg.ID, s.what(), cfg.Path, size(cfg.MaxSize), s.keeps())
	return s, nil
}

func (s *Sink) what() string {
	switch {
	case s.body == nil:
		return "one herald.event/v1 JSON object per line"
	case s.cfg.Format == FormatJSON:
		return "one JSON line per event from " + s.body.Source()
	}
	return "one text line per event from " + s.body.Source()
}

func (s *Sink) keeps() string {
	var parts []string
	if s.cfg.MaxBackups > 0 {
		parts = append(parts, fmt.Sprintf("the newest %d backups", s.cfg.MaxBackups))
	} else {
		parts = append(parts, "every backup")
	}
	if s.cfg.MaxAge > 0 {
		parts = append(parts, fmt.Sprintf("none older than %d days", int(s.cfg.MaxAge/(24*time.Hour))))
	}
	if s.cfg.Compress {
		parts = append(parts, "gzipped")
	}
	return strings.Join(parts, ", ")
}

// size is n bytes in MiB when whole, else in bytes.
func size(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Name implements core.Sink.
func (s *Sink) Name() string { return "file" }

// Export appends one line per event, in order, and syncs the file before it returns: a nil
// error means every line is on disk. An event whose line cannot be made (its template fails, it
// is larger than max_size) is refused alone; a write or sync that fails (a full disk) is an
// outage: the events not yet on disk are retried, and a partly written line is cut off first.
func (s *Sink) Export(ctx context.Context, events []*core.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out core.Outcomes
	now := s.now()
	s.data.Reset()
	s.ends = s.ends[:0]
	kept := make([]*core.Event, 0, len(events))
	for _, e := range events {
		start := s.data.Len()
		err := s.appendLine(&s.data, e, now)
		if err == nil && s.w.regular && int64(s.data.Len()-start) > s.cfg.MaxSize {
			err = fmt.Errorf("its line is %d bytes, more than max_size (%s) allows in one file; raise max_size, or shorten the template's output", s.data.Len()-start, size(s.cfg.MaxSize))
		}
		if err != nil {
			s.data.Truncate(start)
			out.Reject(core.Permanent(fmt.Errorf("%s: event %s (%s): %w", s.cfg.ID, e.Key(), e.Reason, err)), e)
			continue
		}
		s.ends = append(s.ends, s.data.Len())
		kept = append(kept, e)
	}
	done, err := s.w.write(s.data.Bytes(), s.ends)
	if err != nil {
		out.Retry(fmt.Errorf("%s: %w", s.cfg.ID, err), kept[done:]...)
	}
	return out.Err(len(events))
}

// appendLine appends e's line, newline included, to buf.
func (s *Sink) appendLine(buf *bytes.Buffer, e *core.Event, now time.Time) error {
	if s.body == nil {
		return appendRecord(buf, e, now)
	}
	body, err := s.body.Render(e)
	if err != nil {
		return fmt.Errorf("the template does not render: %v; fix the template", err)
	}
	if s.cfg.Format == FormatJSON {
		// In JSON a line break can only stand between tokens (the values the template prints in
		// strings are escaped): a space there means the same.
		body = bytes.Map(func(r rune) rune {
			if r == '\n' || r == '\r' {
				return ' '
			}
			return r
		}, body)
		if !json.Valid(body) {
			return errors.New("the template renders no valid JSON for it; put printed values inside JSON strings (\"{{ .Message }}\") or print them with toJson")
		}
		buf.Write(body)
	} else {
		oneLine.WriteString(buf, string(body))
	}
	buf.WriteByte('\n')
	return nil
}

// oneLine keeps a text line one line, as the log sink does: a line break is written as the two
// characters \n (\r for a lone carriage return).
var oneLine = strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\r`)

// Close stops the template's ConfigMap watch and the clean-up of old backups, and closes the
// file.
func (s *Sink) Close() error {
	s.closeBody()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.close()
}

func (s *Sink) closeBody() {
	if s.body != nil {
		s.body.Close()
	}
}

// Preview shows the line the sink would append for e (herald check).
func (s *Sink) Preview(e *core.Event) (string, error) {
	var buf bytes.Buffer
	if err := s.appendLine(&buf, e, s.now()); err != nil {
		return "", err
	}
	return fmt.Sprintf("appended to %s:\n%s", s.cfg.Path, buf.String()), nil
}
