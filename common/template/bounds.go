package template

import (
	"fmt"
	"text/template"
	"text/template/parse"
)

// MaxRangeCount is the largest integer a template may range over. Since Go 1.22 a template
// ranges over an integer ({{ range 100000000000 }}{{ end }}), and text/template cannot be
// interrupted: such a loop would hold a core for ever and block every later render. No body
// template needs more than a few iterations; event data (labels, recent events) is bounded by
// the event itself.
const MaxRangeCount = 10_000

// checkBounds refuses a template that ranges over an integer literal above MaxRangeCount, or
// over a variable set to one.
func checkBounds(t *template.Template) error {
	for _, tt := range t.Templates() {
		if tt.Tree == nil || tt.Tree.Root == nil {
			continue
		}
		ints := map[string]int64{} // variable -> the integer literal it was last set to
		var err error
		walkTree(tt.Tree.Root, func(n parse.Node) {
			if err != nil {
				return
			}
			switch n := n.(type) {
			case *parse.PipeNode:
				if v, ok := intLiteral(n, ints); ok && len(n.Decl) == 1 {
					ints[n.Decl[0].Ident[0]] = v
				}
			case *parse.RangeNode:
				if v, ok := intLiteral(n.Pipe, ints); ok && v > MaxRangeCount {
					loc, _ := tt.Tree.ErrorContext(n)
					err = fmt.Errorf("ranges over %d at %s; herald allows at most %d iterations over a number (a longer loop would hold a CPU for ever): range over the event's fields instead",
						v, loc, MaxRangeCount)
				}
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// intLiteral reports the integer a pipeline yields when it is a single integer literal or a
// variable last set to one.
func intLiteral(p *parse.PipeNode, ints map[string]int64) (int64, bool) {
	if p == nil || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return 0, false
	}
	switch a := p.Cmds[0].Args[0].(type) {
	case *parse.NumberNode:
		if a.IsInt {
			return a.Int64, true
		}
		if a.IsUint {
			return int64(min(a.Uint64, 1<<62)), true
		}
	case *parse.VariableNode:
		if len(a.Ident) == 1 {
			v, ok := ints[a.Ident[0]]
			return v, ok
		}
	}
	return 0, false
}

// walkTree calls f on n and every node below it, in order.
func walkTree(n parse.Node, f func(parse.Node)) {
	if n == nil {
		return
	}
	f(n)
	switch n := n.(type) {
	case *parse.ListNode:
		for _, c := range n.Nodes {
			walkTree(c, f)
		}
	case *parse.ActionNode:
		walkTree(n.Pipe, f)
	case *parse.PipeNode:
		for _, c := range n.Cmds {
			walkTree(c, f)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walkTree(a, f)
		}
	case *parse.IfNode:
		walkBranch(&n.BranchNode, f)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, f)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, f)
	case *parse.TemplateNode:
		if n.Pipe != nil { // {{ template "name" }} has none
			walkTree(n.Pipe, f)
		}
	}
}

func walkBranch(b *parse.BranchNode, f func(parse.Node)) {
	walkTree(b.Pipe, f)
	if b.List != nil {
		walkTree(b.List, f)
	}
	if b.ElseList != nil {
		walkTree(b.ElseList, f)
	}
}
