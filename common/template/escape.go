package template

import (
	"text/template"
	"text/template/parse"
	"unicode/utf8"
)

// escaperName is the function JSON mode appends to every pipeline whose output lands inside a
// JSON string literal of the template; kubeEscaperName is the one a kube-eventer template gets
// (escapes only a value that would otherwise break the JSON). They are registered with the
// other helpers; the odd names keep them out of people's way.
const (
	escaperName     = "_herald_json_string"
	kubeEscaperName = "_herald_json_string_min"
)

// jsonProducers are helpers whose result is already a JSON document or JSON string literal, so
// a pipeline ending in one of them is left alone (escaping it again would double-escape).
var jsonProducers = map[string]bool{"toJson": true, "quote": true}

// jsonContext is where the template's output stands in the JSON document it writes.
type jsonContext int

const (
	outsideString  jsonContext = iota // between values: a value printed here is left as is
	inString                          // inside a "..." literal: a value printed here is escaped
	afterBackslash                    // inside a literal, just after a backslash
)

// advance returns the context after the template text s, read as JSON.
func advance(c jsonContext, s string) jsonContext {
	for i := 0; i < len(s); i++ {
		switch c {
		case outsideString:
			if s[i] == '"' {
				c = inString
			}
		case inString:
			switch s[i] {
			case '\\':
				c = afterBackslash
			case '"':
				c = outsideString
			}
		case afterBackslash:
			c = inString
		}
	}
	return c
}

// escaper rewrites a template set in JSON mode, the way html/template rewrites HTML: it follows
// the JSON context through the template's text, and gives each action that prints inside a
// string literal the escaper (name) as the last command of its pipeline. An action that prints
// outside a string ({{ .Count }}, {{ printf "%q" .Message }}, {{ toJson .InvolvedObject }})
// writes its own JSON and is left as kube-eventer rendered it. The output of such an action is
// taken to be a whole JSON value, so it leaves the context as it found it.
type escaper struct {
	set  *template.Template
	name string
	// done holds the end context of each named template already rewritten; a template called
	// from several places is rewritten for its first call's context.
	done map[string]jsonContext
}

// escapeTemplates rewrites the template named t.Name() and, through their calls, the templates
// it uses. name is the escaper function to append.
func escapeTemplates(t *template.Template, name string) {
	e := &escaper{set: t, name: name, done: map[string]jsonContext{}}
	e.template(t.Name(), outsideString)
	// Templates nobody calls from the main one are never executed; rewrite them anyway, from
	// outside a string, so that none is left unescaped.
	for _, tt := range t.Templates() {
		e.template(tt.Name(), outsideString)
	}
}

func (e *escaper) template(name string, c jsonContext) jsonContext {
	if end, ok := e.done[name]; ok {
		return end
	}
	e.done[name] = c // a recursive call sees the entry context
	t := e.set.Lookup(name)
	if t == nil || t.Tree == nil || t.Tree.Root == nil {
		return c
	}
	end := e.list(t.Tree.Root, c)
	e.done[name] = end
	return end
}

func (e *escaper) list(l *parse.ListNode, c jsonContext) jsonContext {
	if l == nil {
		return c
	}
	for _, n := range l.Nodes {
		c = e.node(n, c)
	}
	return c
}

func (e *escaper) node(n parse.Node, c jsonContext) jsonContext {
	switch n := n.(type) {
	case *parse.TextNode:
		return advance(c, string(n.Text))
	case *parse.ActionNode:
		if c != outsideString {
			e.pipe(n.Pipe)
		}
		return c
	case *parse.IfNode:
		return e.branches(n.List, n.ElseList, c)
	case *parse.WithNode:
		return e.branches(n.List, n.ElseList, c)
	case *parse.RangeNode:
		// The body may run any number of times: it is taken to leave the context as it found it.
		e.list(n.List, c)
		e.list(n.ElseList, c)
		return c
	case *parse.TemplateNode:
		return e.template(n.Name, c)
	}
	// CommentNode, BreakNode and ContinueNode write nothing.
	return c
}

// branches rewrites both branches from the same context. When they end in different contexts
// the template's JSON depends on the data; the first branch's end is used, and the sample
// renders (which take both kinds of branch) catch a template that then breaks.
func (e *escaper) branches(list, elseList *parse.ListNode, c jsonContext) jsonContext {
	end := e.list(list, c)
	e.list(elseList, c)
	return end
}

func (e *escaper) pipe(p *parse.PipeNode) {
	if p == nil || len(p.Decl) > 0 || len(p.Cmds) == 0 {
		return // {{ $x := ... }} writes nothing
	}
	last := p.Cmds[len(p.Cmds)-1]
	if id, ok := last.Args[0].(*parse.IdentifierNode); ok {
		if id.Ident == escaperName || id.Ident == kubeEscaperName || jsonProducers[id.Ident] {
			return
		}
	}
	p.Cmds = append(p.Cmds, &parse.CommandNode{
		NodeType: parse.NodeCommand,
		Pos:      p.Position(),
		Args:     []parse.Node{parse.NewIdentifier(e.name).SetTree(nil).SetPos(p.Position())},
	})
}

// jsonStringFunc is the escaper JSON mode appends: it prints its argument exactly as
// text/template would have printed it, then escapes the text for the inside of a JSON string.
func jsonStringFunc(v any) (string, error) {
	s, err := printString(v)
	if err != nil {
		return "", err
	}
	return escapeJSONString(s), nil
}

// kubeJSONStringFunc is the escaper a kube-eventer template gets: a value that is already valid
// inside a JSON string is printed as is, byte for byte what kube-eventer sent; only a value that
// would break the JSON (a quote, a control character, a lone backslash, invalid UTF-8) is
// escaped. So wherever kube-eventer's body was valid JSON, herald's is the same.
func kubeJSONStringFunc(v any) (string, error) {
	s, err := printString(v)
	if err != nil {
		return "", err
	}
	if validInString(s) {
		return s, nil
	}
	return escapeJSONString(s), nil
}

// validInString reports whether s can stand inside a JSON string literal as it is: valid UTF-8,
// no quote, no control character, and every backslash starting a JSON escape.
func validInString(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == '"':
			return false
		case c == '\\':
			i++
			if i == len(s) {
				return false
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+5 > len(s) {
					return false
				}
				for _, h := range []byte(s[i+1 : i+5]) {
					if !isHex(h) {
						return false
					}
				}
				i += 4
			default:
				return false
			}
		}
	}
	return utf8.ValidString(s)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// escapeJSONString returns s escaped for the inside of a JSON string (no surrounding quotes),
// with the same choices encoding/json makes: short escapes for \n \r \t \b \f, \u00XX for the
// other control characters, \u003c \u003e \u0026 for < > & (so "</script>" is harmless), \u2028
// and \u2029, and U+FFFD for each byte that is not valid UTF-8. Text that needs no escaping is
// returned as is, without allocating.
func escapeJSONString(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if safeASCII[c] {
				i++
				continue
			}
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	return string(appendJSONString(make([]byte, 0, len(s)+16), s))
}

// appendJSONString appends s, escaped for the inside of a JSON string, to dst.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safeASCII[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default: // other control characters, and < > &
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

// safeASCII[c] is true for ASCII bytes that stand for themselves inside a JSON string.
var safeASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()
