package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// commandLine is herald's flag set as main builds it: herald's flags and glog's.
func commandLine() *flag.FlagSet {
	fs := flag.NewFlagSet("herald", flag.ContinueOnError)
	var o options
	registerFlags(fs, &o)
	flag.CommandLine.VisitAll(func(f *flag.Flag) {
		if !strings.HasPrefix(f.Name, "test.") {
			fs.Var(f.Value, f.Name, f.Usage)
		}
	})
	return fs
}

// TestEveryFlagHasAGroup: a new flag must be given a --help group in flagGroups.
func TestEveryFlagHasAGroup(t *testing.T) {
	if u := ungrouped(commandLine()); len(u) > 0 {
		t.Errorf("flags without a --help group (add them to flagGroups in usage.go): %v", u)
	}
	for name, g := range flagGroups {
		if !slices.ContainsFunc(groupOrder, func(s flagGroupSpec) bool { return s.key == g }) {
			t.Errorf("flag %s is in group %q, which groupOrder lacks", name, g)
		}
	}
}

// TestHelpShortAndGrouped: every flag appears once, under its heading, and every sink; no line
// is wider than a terminal; the kube-eventer compatibility flags have their own heading.
func TestHelpShortAndGrouped(t *testing.T) {
	fs := commandLine()
	var b bytes.Buffer
	usage(&b, fs)
	out := b.String()
	lines := strings.Split(out, "\n")
	if len(lines) > 100 {
		t.Errorf("--help has %d lines; keep it under 100 (herald help flags has the details)", len(lines))
	}
	for i, l := range lines {
		if len(l) > 100 {
			t.Errorf("--help line %d is %d characters: %q", i+1, len(l), l)
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		if n := strings.Count(out, "--"+f.Name+" ") + strings.Count(out, "--"+f.Name+"=") + strings.Count(out, "--"+f.Name+"\n"); n == 0 {
			t.Errorf("--help does not list --%s", f.Name)
		}
	})
	compat := out[strings.Index(out, "kube-eventer compatibility"):]
	compat = compat[:strings.Index(compat, "\n\n")]
	for _, name := range []string{"--frequency", "--max_procs", "--event-metrics", "--skip_headers"} {
		if !strings.Contains(compat, name) {
			t.Errorf("the kube-eventer compatibility section lacks %s:\n%s", name, compat)
		}
	}
	for _, want := range []string{"wechat ", "kafka ", "Logging:", "--log-format=FORMAT", "herald sinks"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q", want)
		}
	}

	var full bytes.Buffer
	usageFull(&full, fs)
	fs.VisitAll(func(f *flag.Flag) {
		if f.Usage != "" && !strings.Contains(strings.Join(strings.Fields(full.String()), " "), strings.Join(strings.Fields(f.Usage), " ")) {
			t.Errorf("herald help flags lacks the description of --%s", f.Name)
		}
	})
}

func TestSummary(t *testing.T) {
	for in, want := range map[string]string{
		"short": "short",
		"Work WeChat: a group robot (text or markdown, @mentions) or the application message API (kube-eventer's wechat:?corp_id=...)": "Work WeChat: a group robot (text or markdown, @mentions) or the application ...",
		"each Warning event becomes an Alertmanager alert (API v2); repeats refresh the same alert, which resolves later":              "each Warning event becomes an Alertmanager alert (API v2)",
	} {
		if got := summary(in, 82); got != want {
			t.Errorf("summary(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCLIErrorsAndHelp runs the binary: --help and herald help go to stdout and exit 0; a bad
// flag or command is one line on stderr with a hint, exit 2, and never the whole help.
func TestCLIErrorsAndHelp(t *testing.T) {
	bin := heraldBinary(t)
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		stdout, stderr, code := runBin(t, bin, args...)
		if code != 0 || !strings.Contains(stdout, "Events in and out:") || stderr != "" {
			t.Errorf("herald %v: exit %d, stdout %d bytes, stderr %q; want the help on stdout, exit 0", args, code, len(stdout), stderr)
		}
	}
	stdout, _, code := runBin(t, bin, "help", "flags")
	if code != 0 || !strings.Contains(stdout, "Source parameters") || !strings.Contains(stdout, "kube-eventer's form") {
		t.Errorf("herald help flags: exit %d\n%s", code, stdout)
	}
	for args, want := range map[string]string{
		"--sinkk=log":       "herald: unknown flag --sinkk; did you mean --sink? (herald --help lists the flags)",
		"--leader_elect":    "herald: unknown flag --leader_elect; did you mean --leader-elect?",
		"--frequency=often": `herald: invalid value "often" for flag --frequency`,
		"--sink":            "herald: flag --sink needs a value: write --sink=URI",
		"chek":              `herald: unknown command "chek"; did you mean "check"?`,
		"--log-format=xml":  `herald: --log-format="xml": write text or json`,
		"help nonsense":     `herald help: "nonsense" is not a help topic`,
		"--sink=log extra":  `herald: unexpected argument "extra"`,
	} {
		stdout, stderr, code := runBin(t, bin, strings.Fields(args)...)
		if code != 2 || stdout != "" || !strings.HasPrefix(stderr, want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("herald %s: exit %d, stdout %q, stderr %q; want exit 2 and the one line %q", args, code, stdout, stderr, want)
		}
	}
}

// TestLogFormatJSON: with --log-format=json every line on stderr is one JSON object with the
// keys ts, level, msg and caller; herald's own lines and client-go's (klog) are there; secrets
// are redacted as in the text format.
func TestLogFormatJSON(t *testing.T) {
	bin := heraldBinary(t)
	const secret = "0d1e2f3a-robot-key"
	cmd := exec.Command(bin, "--log-format=json", "--v=4", "--healthz-port=0", "--healthz-ip=127.0.0.1",
		"--source=kubernetes:https://127.0.0.1:1?inClusterConfig=false",
		"--sink=webhook:http://127.0.0.1:1/hook?key="+secret+"&level=Warning")
	cmd.Env = []string{"HOME=" + t.TempDir()}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	seen := map[string]bool{}
	want := map[string]func(r map[string]any) bool{
		"herald's version line": func(r map[string]any) bool { return strings.HasPrefix(r["msg"].(string), "herald v9.8.7-test") },
		"the sink, redacted":    func(r map[string]any) bool { return strings.Contains(r["msg"].(string), "key=<redacted>") },
		"a warning from the source": func(r map[string]any) bool {
			return r["level"] == "warning" && strings.Contains(r["msg"].(string), "cannot watch events")
		},
		"client-go's log, via klog": func(r map[string]any) bool {
			return !strings.HasPrefix(r["caller"].(string), "klog") && strings.Contains(r["msg"].(string), "reflector")
		},
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(30 * time.Second)
	for len(seen) < len(want) {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("herald exited; saw %v", seen)
			}
			if strings.Contains(line, secret) {
				t.Errorf("a log line prints the secret: %s", line)
			}
			var r map[string]any
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("not one JSON object: %q: %v", line, err)
			}
			keys := []string{}
			for k := range r {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if !slices.Equal(keys, []string{"caller", "level", "msg", "ts"}) {
				t.Fatalf("keys %v, want caller level msg ts: %s", keys, line)
			}
			if _, err := time.Parse(time.RFC3339Nano, r["ts"].(string)); err != nil {
				t.Errorf("ts %q: %v", r["ts"], err)
			}
			for name, match := range want {
				if match(r) {
					seen[name] = true
				}
			}
		case <-deadline:
			t.Fatalf("after 30 s, saw only %v of the expected lines", seen)
		}
	}
}

func TestConvertGlog(t *testing.T) {
	in := "I1203 21:05:00.123456   12345 run.go:63] sink webhook#1: ready\n" +
		"E1203 21:05:01.000001   12345 run.go:58] herald cannot start; fix these --sink problems:\n--sink #1: bad\n--sink #2: worse\n" +
		"panic-ish stray text\n"
	var out bytes.Buffer
	now := func() time.Time { return time.Date(2026, 12, 3, 22, 0, 0, 0, time.UTC) }
	convertGlog(strings.NewReader(in), &out, now)
	var got []logRecord
	dec := json.NewDecoder(&out)
	for {
		var r logRecord
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	want := []logRecord{
		{TS: "2026-12-03T21:05:00.123456Z", Level: "info", Msg: "sink webhook#1: ready", Caller: "run.go:63"},
		{TS: "2026-12-03T21:05:01.000001Z", Level: "error", Msg: "herald cannot start; fix these --sink problems:\n--sink #1: bad\n--sink #2: worse\npanic-ish stray text", Caller: "run.go:58"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func runBin(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}
