package template

import (
	"text/template"
	"text/template/parse"
	"unicode/utf8"
)

// escaperName is the function JSON mode appends to every interpolating pipeline. It is
// registered with the other helpers; the odd name keeps it out of people's way.
const escaperName = "_herald_json_string"

// jsonProducers are helpers whose result is already a JSON document or JSON string literal, so
// a pipeline ending in one of them is left alone (escaping it again would double-escape).
var jsonProducers = map[string]bool{"toJson": true, "quote": true}

// escapeTemplates rewrites every template in the set the way html/template does: each action
// that writes output gets the JSON string escaper appended to its pipeline. Actions that only
// assign a variable write nothing and are left alone, as are control structures' conditions.
func escapeTemplates(t *template.Template) {
	for _, tt := range t.Templates() {
		if tt.Tree != nil && tt.Tree.Root != nil {
			escapeNode(tt.Tree.Root)
		}
	}
}

func escapeNode(n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			escapeNode(c)
		}
	case *parse.ActionNode:
		escapePipe(n.Pipe)
	case *parse.IfNode:
		escapeNode(n.List)
		escapeNode(n.ElseList)
	case *parse.RangeNode:
		escapeNode(n.List)
		escapeNode(n.ElseList)
	case *parse.WithNode:
		escapeNode(n.List)
		escapeNode(n.ElseList)
	}
	// TextNode, CommentNode, TemplateNode (the called template is escaped on its own),
	// BreakNode and ContinueNode write nothing that needs escaping.
}

func escapePipe(p *parse.PipeNode) {
	if p == nil || len(p.Decl) > 0 || len(p.Cmds) == 0 {
		return // {{ $x := ... }} writes nothing
	}
	last := p.Cmds[len(p.Cmds)-1]
	if id, ok := last.Args[0].(*parse.IdentifierNode); ok {
		if id.Ident == escaperName || jsonProducers[id.Ident] {
			return
		}
	}
	p.Cmds = append(p.Cmds, &parse.CommandNode{
		NodeType: parse.NodeCommand,
		Pos:      p.Position(),
		Args:     []parse.Node{parse.NewIdentifier(escaperName).SetTree(nil).SetPos(p.Position())},
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
