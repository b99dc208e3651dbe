package template

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	texttemplate "text/template"
	"text/template/parse"
	"time"
)

// FuzzRender renders a fuzzed message through a fuzzed template, in JSON and text mode.
// Always: nothing panics (Render and New report a panic as an error saying "panicked"), and
// New and Render return within their time budget (and a little).
// And when the template passed New in JSON mode (its sample render was valid JSON) and the
// message reaches the output only by interpolation, the render of any message is valid JSON.
//
// The second promise cannot hold for templates that compute on the message and print the
// result outside a string ({{ if .Message }}{}{{ end }} is valid JSON for the sample and
// empty for an empty message; so is "[{{ len .Message }}0]" for a message of length 0):
// those are checked for panics only. See interpolatesMessageOnly.
func FuzzRender(f *testing.F) {
	for _, text := range jsonTemplates(f) {
		for _, msg := range []string{"", `say "hi"`, "a\nb\\c\td", "\xff\xfe", "中文 🔥", "</script>"} {
			f.Add(text, msg)
		}
	}
	f.Add(`{"m":{{ .Message | quote }},"n":{{ .Count }},"o":{{ toJson .InvolvedObject }}}`, "x")
	f.Add(`{"m":"{{ .Message | truncate 10 | upper }}"}`, "héllo wörld, long enough")
	f.Add(`{{ if .Message }}{"m":"{{ .Message }}"}{{ else }}{}{{ end }}`, "")
	f.Add(`{"t":"{{ .LastTimestamp | date "2006-01-02" }}","d":"{{ .Action | default "none" }}"}`, "x")
	f.Add(`{{ define "m" }}{{ .Message }}{{ end }}{"m":"{{ template "m" . }}"}`, "y")
	f.Add(`{"r":{{ with .Restart }}"{{ .Container }}"{{ else }}null{{ end }}}`, "z")

	const budget = 50 * time.Millisecond
	late := func(t *testing.T, what string, start time.Time) {
		// Two samples at load; the slack is for a machine busy with other work.
		if took := time.Since(start); took > 2*budget+2*time.Second {
			t.Fatalf("%s took %v with a budget of %v", what, took, budget)
		}
	}
	f.Fuzz(func(t *testing.T, text, msg string) {
		if tooCostly(text) {
			return
		}
		for _, jsonMode := range []bool{true, false} {
			start := time.Now()
			b, err := New(context.Background(), Options{Owner: "fuzz", Inline: text, JSON: jsonMode, MaxBytes: 64 << 10, Timeout: budget})
			late(t, "New", start)
			if err != nil {
				if strings.Contains(err.Error(), "panicked") {
					t.Fatalf("New panicked (json=%v) on %q: %v", jsonMode, text, err)
				}
				continue
			}
			e := SampleEvent()
			e.Message = msg
			start = time.Now()
			out, err := b.Render(e)
			late(t, "Render", start)
			if err != nil {
				if strings.Contains(err.Error(), "panicked") {
					t.Fatalf("Render panicked (json=%v) on %q, message %q: %v", jsonMode, text, msg, err)
				}
			}
			if !jsonMode || !interpolatesMessageOnly(b.cur.Load().tmpl) {
				continue
			}
			if err != nil {
				// A render may run out of time on a busy machine, whatever the template.
				if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrTimeout) {
					t.Fatalf("template %q rendered the sample event but fails on message %q: %v", text, msg, err)
				}
				continue
			}
			if !json.Valid(out) {
				t.Fatalf("template %q: sample render was valid JSON, message %q renders invalid JSON:\n%s", text, msg, out)
			}
		}
	})
}

// digitRun finds numbers long enough to make a template slow or huge (printf "%099999999d").
var digitRun = regexp.MustCompile(`[0-9]{5,}`)

// tooCostly skips templates that would allocate for minutes, which the time budget does not
// bound as it acts between actions, not within one: big numbers (printf "%099999999d" and the
// like). Loops, loops in loops and recursion are fuzzed: the load-time bounds and the time
// budget must stop them.
func tooCostly(text string) bool {
	if digitRun.MatchString(text) {
		return true
	}
	t, err := texttemplate.New("x").Funcs(funcMap(nil)).Parse(text)
	if err != nil {
		return false
	}
	costly := false
	for _, tt := range t.Templates() {
		if tt.Tree == nil {
			continue
		}
		walk(tt.Tree.Root, func(n parse.Node) {
			switch n := n.(type) {
			case *parse.NumberNode:
				big := (n.IsInt && (n.Int64 > 10000 || n.Int64 < -10000)) || (n.IsUint && n.Uint64 > 10000) ||
					(n.IsFloat && (n.Float64 > 10000 || n.Float64 < -10000))
				costly = costly || big
			}
		})
	}
	return costly
}

// interpolatesMessageOnly reports whether the only way the message (or anything holding it:
// dot, $, a variable, .Event) reaches the output is an action that prints it, possibly through
// helpers that keep it a string (upper, lower, truncate, default) or make it JSON (quote,
// toJson). Conditions, loops and other functions must not see it; variables and template calls
// may only pass it on unchanged.
func interpolatesMessageOnly(t *texttemplate.Template) bool {
	ok := true
	for _, tt := range t.Templates() {
		if tt.Tree == nil {
			continue
		}
		walk(tt.Tree.Root, func(n parse.Node) {
			switch n := n.(type) {
			case *parse.ActionNode:
				if len(n.Pipe.Decl) > 0 {
					ok = ok && (!pipeReaches(n.Pipe) || plainRef(n.Pipe))
				} else {
					ok = ok && safeOutputPipe(n.Pipe)
				}
			case *parse.IfNode:
				ok = ok && !pipeReaches(n.Pipe)
			case *parse.RangeNode:
				ok = ok && !pipeReaches(n.Pipe)
			case *parse.WithNode:
				ok = ok && !pipeReaches(n.Pipe)
			case *parse.TemplateNode:
				// The called template is checked too, with its dot counted as reaching.
				ok = ok && (n.Pipe == nil || !pipeReaches(n.Pipe) || plainRef(n.Pipe))
			}
		})
	}
	return ok
}

var stringKeepingHelpers = map[string]bool{"upper": true, "lower": true, "truncate": true, "default": true,
	"quote": true, "toJson": true, escaperName: true}

// safeOutputPipe: {{ X | helper ... }} where X alone may reach the message and every later
// command is a helper whose other arguments do not.
func safeOutputPipe(p *parse.PipeNode) bool {
	first := p.Cmds[0]
	if len(first.Args) != 1 || !argReaches(first.Args[0]) {
		return !pipeReaches(p)
	}
	if _, nested := first.Args[0].(*parse.PipeNode); nested {
		return false
	}
	for _, c := range p.Cmds[1:] {
		id, ok := c.Args[0].(*parse.IdentifierNode)
		if !ok || !stringKeepingHelpers[id.Ident] {
			return false
		}
		for _, a := range c.Args[1:] {
			if argReaches(a) {
				return false
			}
		}
	}
	return true
}

// plainRef: the pipeline is one reference ({{ $m := .Message }}, {{ template "t" . }}), passing
// the value on unchanged.
func plainRef(p *parse.PipeNode) bool {
	if len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return false
	}
	switch a := p.Cmds[0].Args[0].(type) {
	case *parse.DotNode, *parse.VariableNode, *parse.FieldNode:
		return true
	case *parse.ChainNode:
		_, nested := a.Node.(*parse.PipeNode)
		return !nested
	}
	return false
}

func pipeReaches(p *parse.PipeNode) bool {
	for _, c := range p.Cmds {
		for _, a := range c.Args {
			if argReaches(a) {
				return true
			}
		}
	}
	return false
}

// argReaches reports whether an argument may evaluate to the message or something holding it.
func argReaches(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.DotNode, *parse.VariableNode:
		return true
	case *parse.FieldNode:
		return fieldReaches(n.Ident)
	case *parse.ChainNode:
		return argReaches(n.Node) || fieldReaches(n.Field)
	case *parse.PipeNode:
		return pipeReaches(n)
	}
	return false
}

func fieldReaches(idents []string) bool {
	for _, id := range idents {
		if id == "Message" {
			return true
		}
	}
	return len(idents) > 0 && idents[len(idents)-1] == "Event"
}

// walk calls fn on n and every node below it.
func walk(n parse.Node, fn func(parse.Node)) {
	if n == nil {
		return
	}
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		fn(n)
		for _, c := range n.Nodes {
			walk(c, fn)
		}
		return
	case *parse.IfNode:
		fn(n)
		walk(n.Pipe, fn)
		walk(n.List, fn)
		walk(n.ElseList, fn)
		return
	case *parse.RangeNode:
		fn(n)
		walk(n.Pipe, fn)
		walk(n.List, fn)
		walk(n.ElseList, fn)
		return
	case *parse.WithNode:
		fn(n)
		walk(n.Pipe, fn)
		walk(n.List, fn)
		walk(n.ElseList, fn)
		return
	case *parse.ActionNode:
		fn(n)
		walk(n.Pipe, fn)
		return
	case *parse.TemplateNode:
		fn(n)
		if n.Pipe != nil {
			walk(n.Pipe, fn)
		}
		return
	case *parse.PipeNode:
		if n == nil {
			return
		}
		fn(n)
		for _, c := range n.Cmds {
			for _, a := range c.Args {
				walk(a, fn)
			}
		}
		return
	case *parse.ChainNode:
		fn(n)
		walk(n.Node, fn)
		return
	}
	fn(n)
}
