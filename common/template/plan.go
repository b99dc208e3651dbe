package template

import (
	"errors"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
)

// A plan renders a template without text/template: it is the template's parse tree, read once
// at load, as a list of texts and actions, each action a field of the event (eventFields) piped
// through herald's helpers. Most body templates are only that (kube-eventer's default body and
// every template in testdata), and text/template spends most of a render reflecting its way
// down to the fields and boxing them for the helper calls; a plan reads them directly, appends
// to one pooled buffer, and writes the same bytes (TestPlanMatchesTextTemplate, FuzzPlan).
// A template with anything else (if, range, with, variables, template calls, other functions,
// a field not in eventFields) has no plan and renders with text/template.
type plan struct {
	parts []part
}

// part is a text written as is, or an action.
type part struct {
	text string
	act  *action
}

// action is {{ .Field | helper ... }}: the field, the helpers in order, and the JSON escaper
// herald appended (escapeTemplates), if any, applied as the value is appended.
type action struct {
	src   *field
	steps []step
	esc   helper // hNone, hEscape or hEscapeMin
}

// helper is one of the functions of funcMap a plan runs itself.
type helper uint8

const (
	hNone helper = iota
	hUpper
	hLower
	hTruncate
	hDate
	hDefault
	hQuote
	hToJSON
	hEscape    // escaperName: jsonStringFunc
	hEscapeMin // kubeEscaperName: kubeJSONStringFunc
)

// helpers maps a function name to the helper and the literal argument it takes before the
// piped value: 0 none, 'i' an integer, 's' a string.
var helpers = map[string]struct {
	h   helper
	arg byte
}{
	"upper":         {hUpper, 0},
	"lower":         {hLower, 0},
	"truncate":      {hTruncate, 'i'},
	"date":          {hDate, 's'},
	"default":       {hDefault, 's'},
	"quote":         {hQuote, 0},
	"toJson":        {hToJSON, 0},
	escaperName:     {hEscape, 0},
	kubeEscaperName: {hEscapeMin, 0},
}

// step is one helper with its literal argument.
type step struct {
	h helper
	n int    // truncate's length
	s string // date's layout, default's value
}

// errNoPlan: the plan cannot render this event as text/template would (toJson of a time
// text/template's helper fails on); the render falls back to text/template.
var errNoPlan = errors.New("no plan for this event")

// compilePlan returns the plan of t's main template, or nil when it has something a plan does
// not do. t is the template as it executes: parsed, escaped, instrumented.
func compilePlan(t *template.Template) *plan {
	if t == nil || t.Tree == nil || t.Tree.Root == nil {
		return nil
	}
	p := &plan{}
	for _, n := range t.Tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			if k := len(p.parts); k > 0 && p.parts[k-1].act == nil {
				p.parts[k-1].text += string(n.Text)
			} else {
				p.parts = append(p.parts, part{text: string(n.Text)})
			}
		case *parse.ActionNode:
			a := compileAction(n.Pipe)
			if a == nil {
				return nil
			}
			p.parts = append(p.parts, part{act: a})
		default:
			return nil
		}
	}
	return p
}

// compileAction reads {{ .F | h1 x | h2 }} or {{ h1 x .F | h2 }}; nil for anything else.
func compileAction(pipe *parse.PipeNode) *action {
	if pipe == nil || len(pipe.Decl) > 0 || pipe.IsAssign || len(pipe.Cmds) == 0 {
		return nil
	}
	a := &action{}
	first := pipe.Cmds[0].Args
	if len(first) == 1 {
		a.src = fieldOf(first[0])
	} else if len(first) > 1 {
		// A helper called with the field as its last argument.
		a.src = fieldOf(first[len(first)-1])
		s, ok := compileStep(first[:len(first)-1])
		if !ok {
			return nil
		}
		a.steps = append(a.steps, s)
	}
	if a.src == nil {
		return nil
	}
	for _, c := range pipe.Cmds[1:] {
		s, ok := compileStep(c.Args)
		if !ok {
			return nil
		}
		a.steps = append(a.steps, s)
	}
	// date takes only a time: text/template fails on anything else, and a plan does not fail.
	// After default the value may be default's string: that too is left to text/template.
	k, known := a.src.kind, true
	for _, s := range a.steps {
		switch {
		case s.h == hDate && (!known || k != kindTime):
			return nil
		case s.h == hDefault:
			known = false
		default:
			k = kindString
		}
	}
	if n := len(a.steps); n > 0 && (a.steps[n-1].h == hEscape || a.steps[n-1].h == hEscapeMin) {
		a.esc = a.steps[n-1].h
		a.steps = a.steps[:n-1]
	}
	return a
}

// fieldOf returns the field .A.B (or $.A.B) names, or nil.
func fieldOf(n parse.Node) *field {
	switch n := n.(type) {
	case *parse.FieldNode:
		return eventFields[strings.Join(n.Ident, ".")]
	case *parse.VariableNode:
		// $ is the data at the top of a template, and a plan is only the top.
		if len(n.Ident) > 1 && n.Ident[0] == "$" {
			return eventFields[strings.Join(n.Ident[1:], ".")]
		}
	}
	return nil
}

// compileStep reads a helper call without its piped value: the name and its literal argument.
func compileStep(args []parse.Node) (step, bool) {
	id, ok := args[0].(*parse.IdentifierNode)
	if !ok {
		return step{}, false
	}
	h, ok := helpers[id.Ident]
	if !ok {
		return step{}, false
	}
	s := step{h: h.h}
	switch h.arg {
	case 0:
		return s, len(args) == 1
	case 'i':
		// text/template takes an integer constant for an int parameter, as Int64.
		n, ok := args[len(args)-1].(*parse.NumberNode)
		if len(args) != 2 || !ok || !n.IsInt || int64(int(n.Int64)) != n.Int64 {
			return step{}, false
		}
		s.n = int(n.Int64)
	case 's':
		str, ok := args[len(args)-1].(*parse.StringNode)
		if len(args) != 2 || !ok {
			return step{}, false
		}
		s.s = str.Text
	}
	return s, true
}

// render appends the body to dst. It fails with ErrTooLarge once the body is over max bytes,
// and with errNoPlan when text/template must render this event.
func (p *plan) render(dst []byte, v *view, loc *time.Location, max int) ([]byte, error) {
	for i := range p.parts {
		pt := &p.parts[i]
		if pt.act == nil {
			dst = append(dst, pt.text...)
		} else {
			var err error
			if dst, err = pt.act.render(dst, v, loc); err != nil {
				return dst, err
			}
		}
		if len(dst) > max {
			return dst, ErrTooLarge
		}
	}
	return dst, nil
}

// render appends the action's output to dst.
func (a *action) render(dst []byte, v *view, loc *time.Location) ([]byte, error) {
	val := a.src.get(v)
	for _, s := range a.steps {
		var err error
		if val, err = s.apply(val, v, loc); err != nil {
			return dst, err
		}
	}
	if a.esc == hNone {
		return val.appendText(dst), nil
	}
	if val.kind == kindString {
		return appendEscaped(dst, val.s, a.esc), nil
	}
	// A number or a time prints in ASCII that needs no escaping, unless a time zone's name
	// holds a character that does; then escape the printed text.
	start := len(dst)
	dst = val.appendText(dst)
	for _, c := range dst[start:] {
		if c >= 0x80 || !safeASCII[c] {
			s := string(dst[start:])
			return appendEscaped(dst[:start], s, a.esc), nil
		}
	}
	return dst, nil
}

// appendEscaped appends s as the escaper h writes it: jsonStringFunc, or kubeJSONStringFunc
// (s as is when it is valid inside a JSON string).
func appendEscaped(dst []byte, s string, h helper) []byte {
	if h == hEscapeMin && validInString(s) {
		return append(dst, s...)
	}
	return appendJSONString(dst, s)
}

// apply runs the helper on val, as the function of funcMap does.
func (s step) apply(val value, v *view, loc *time.Location) (value, error) {
	switch s.h {
	case hUpper:
		return str(strings.ToUpper(val.text())), nil
	case hLower:
		return str(strings.ToLower(val.text())), nil
	case hTruncate:
		return str(truncateString(s.n, val.text())), nil
	case hDate:
		return str(formatDate(s.s, val.t, loc)), nil
	case hDefault:
		if val.empty() {
			return str(s.s), nil
		}
		return val, nil
	case hQuote:
		return str(quoteString(val.text())), nil
	case hToJSON:
		out, err := toJSON(val.boxed(v))
		if err != nil {
			return val, errNoPlan // text/template reports the error in its words
		}
		return str(out), nil
	case hEscape:
		return str(escapeJSONString(val.text())), nil
	case hEscapeMin:
		t := val.text()
		if !validInString(t) {
			t = escapeJSONString(t)
		}
		return str(t), nil
	}
	return val, errNoPlan
}

// str is a helper's result.
func str(s string) value { return value{kind: kindString, s: s} }
