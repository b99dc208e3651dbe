package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/heraldproject/herald/common/redact"
)

// setupLogging applies --log-format. Everything written to stderr (glog's lines, and
// client-go's klog routed through glog) goes through a pipe to the real stderr: each line is
// scrubbed of every secret a sink read (redact.ScrubRegistered: a receiver echoing another
// sink's credential, a library's debug dump), and with json converted to one JSON object per
// record. A Go runtime panic writes to the real stderr directly. The returned func drains the
// pipe; call it after glog.Flush, before exiting.
func setupLogging(format string) (func(), error) {
	switch format {
	case "", "text", "json":
	default:
		return nil, fmt.Errorf("--log-format=%q: write text or json", format)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("--log-format=%s: %v", format, err)
	}
	realStderr := os.Stderr
	os.Stderr = w // glog looks os.Stderr up at every write
	done := make(chan struct{})
	go func() {
		defer close(done)
		if format == "json" {
			convertGlog(r, realStderr, time.Now)
		} else {
			scrubLines(r, realStderr)
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			os.Stderr = realStderr
			w.Close()
			<-done
		})
	}, nil
}

// flushLogs drains the log pipe; whoever exits the process (os.Exit) calls it after
// glog.Flush, or the last lines are lost.
var flushLogs = func() {}

// scrubLines copies r to w line by line, scrubbing registered secrets.
func scrubLines(r io.Reader, w io.Writer) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			_, _ = io.WriteString(w, redact.ScrubRegistered(line))
		}
		if err != nil {
			return
		}
	}
}

// A glog line: "I1203 21:05:00.123456   12345 file.go:123] message".
var glogHeader = regexp.MustCompile(`^([IWEF])(\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6}) +\d+ ([^ \]]+)\] ?(.*)$`)

var levels = map[string]string{"I": "info", "W": "warning", "E": "error", "F": "fatal"}

// logRecord is one JSON log line. The keys are stable: ts, level, msg, caller.
type logRecord struct {
	TS     string `json:"ts"`
	Level  string `json:"level"`
	Msg    string `json:"msg"`
	Caller string `json:"caller"`
}

// convertGlog reads glog text from r and writes one JSON object per record to w. A record is a
// header line and the lines up to the next header (a multi-line message); text without a
// header (a stray write to stderr) becomes a record of its own, level info, no caller.
func convertGlog(r io.Reader, w io.Writer, now func() time.Time) {
	br := bufio.NewReaderSize(r, 64<<10)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	var cur *logRecord
	flush := func() {
		if cur != nil {
			cur.Msg = strings.TrimRight(cur.Msg, "\n")
			_ = enc.Encode(cur)
			cur = nil
		}
	}
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			text := strings.TrimSuffix(line, "\n")
			if m := glogHeader.FindStringSubmatch(text); m != nil {
				flush()
				cur = &logRecord{TS: glogTime(m, now()), Level: levels[m[1]], Msg: redact.ScrubRegistered(m[9]), Caller: m[8]}
			} else if cur != nil {
				cur.Msg += "\n" + redact.ScrubRegistered(text)
			} else {
				cur = &logRecord{TS: now().UTC().Format(time.RFC3339Nano), Level: "info", Msg: redact.ScrubRegistered(text)}
			}
			// glog writes each record in one write: when nothing more is buffered the record
			// is complete, so it goes out now rather than with the next one.
			if br.Buffered() == 0 {
				flush()
			}
		}
		if err != nil {
			flush()
			return
		}
	}
}

// glogTime turns glog's "MMDD hh:mm:ss.uuuuuu" (local time, no year) into RFC 3339 UTC; the
// year is now's, or the one before for a December line read in January.
func glogTime(m []string, now time.Time) string {
	var month, day, h, min, s, us int
	fmt.Sscan(m[2], &month)
	fmt.Sscan(m[3], &day)
	fmt.Sscan(m[4], &h)
	fmt.Sscan(m[5], &min)
	fmt.Sscan(m[6], &s)
	fmt.Sscan(m[7], &us)
	year := now.Year()
	if time.Month(month) > now.Month() {
		year--
	}
	t := time.Date(year, time.Month(month), day, h, min, s, us*1000, now.Location())
	return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
}
