package template

import (
	"fmt"
	"text/template"
	"text/template/parse"
)

// MaxRangeCount is the largest integer a template may range over. Since Go 1.22 a template
// ranges over an integer ({{ range 100000000000 }}{{ end }}), and text/template cannot be
// interrupted: such a loop would hold a core until the render's time budget stops it at its
// next iteration, for every event. Refusing it at load says so once, naming the line. No body
// template needs more than a few iterations; event data (labels, recent events) is bounded by
// the event itself.
const MaxRangeCount = 10_000

// MaxRangeIterations is the most iterations a template's ranges over numbers may run together
// in one render, counted when it loads: nested ranges multiply ({{ range 1000 }}{{ range 1000 }}
// runs 1,000,000), ranges one after the other add up, and a {{ template }} call counts what the
// called template runs. A range over anything but a number written in the template (the event's
// labels, its message's length) counts as one iteration here: the render time budget
// (Options.Timeout) bounds those.
const MaxRangeIterations = 100_000

// checkBounds refuses a template that ranges over an integer literal above MaxRangeCount, or
// over a variable set to one, or whose ranges over such numbers run more than
// MaxRangeIterations iterations in all.
func checkBounds(t *template.Template) error {
	if err := checkRangeCounts(t); err != nil {
		return err
	}
	return checkRangeIterations(t)
}

// checkRangeCounts refuses a range over an integer literal above MaxRangeCount, or over a
// variable set to one.
func checkRangeCounts(t *template.Template) error {
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

// checkRangeIterations refuses a template whose ranges over numbers run more than
// MaxRangeIterations iterations in one render (see MaxRangeIterations for how they count).
func checkRangeIterations(t *template.Template) error {
	c := &iterations{t: t, memo: map[string]float64{}, active: map[string]bool{}}
	for _, tt := range t.Templates() {
		total := c.of(tt.Name())
		if c.err != nil {
			return c.err
		}
		if total > MaxRangeIterations {
			// No single range runs too many: ranges one after the other do, together.
			loc := tt.Name()
			walkTree(tt.Tree.Root, func(n parse.Node) {
				if r, ok := n.(*parse.RangeNode); ok && loc == tt.Name() {
					loc, _ = tt.Tree.ErrorContext(r)
				}
			})
			return fmt.Errorf("runs %s iterations of ranges over numbers, one after the other, from the range at %s; "+
				"herald allows at most %s in one render (MaxRangeIterations), so that a render cannot hold a CPU: range over the event's fields instead",
				count3(total), loc, count3(MaxRangeIterations))
		}
	}
	return nil
}

// iterations counts the range iterations of the templates of t, each once (memo); a template
// that calls itself, directly or not, counts the call as nothing (active), as its depth is not
// known before it runs. The first range found to run too many is err.
type iterations struct {
	t      *template.Template
	memo   map[string]float64
	active map[string]bool
	err    error
}

// of returns how many range iterations the template named name runs.
func (c *iterations) of(name string) float64 {
	if n, ok := c.memo[name]; ok {
		return n
	}
	tt := c.t.Lookup(name)
	if tt == nil || tt.Tree == nil || tt.Tree.Root == nil || c.active[name] {
		return 0
	}
	c.active[name] = true
	n := c.node(tt.Tree, tt.Tree.Root, map[string]int64{})
	delete(c.active, name)
	c.memo[name] = n
	return n
}

// node returns the iterations n runs; ints holds the variables last set to an integer literal,
// as checkRangeCounts reads them. Floats, so that a product of large counts cannot overflow.
func (c *iterations) node(tree *parse.Tree, n parse.Node, ints map[string]int64) float64 {
	if c.err != nil || n == nil {
		return 0
	}
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return 0
		}
		sum := 0.0
		for _, child := range n.Nodes {
			sum += c.node(tree, child, ints)
		}
		return sum
	case *parse.ActionNode:
		if v, ok := intLiteral(n.Pipe, ints); ok && len(n.Pipe.Decl) == 1 {
			ints[n.Pipe.Decl[0].Ident[0]] = v
		}
		return 0
	case *parse.IfNode:
		return c.branch(tree, &n.BranchNode, ints)
	case *parse.WithNode:
		return c.branch(tree, &n.BranchNode, ints)
	case *parse.TemplateNode:
		return c.of(n.Name)
	case *parse.RangeNode:
		count := 1.0 // a range over the event's data: bounded by the event and the time budget
		if v, ok := intLiteral(n.Pipe, ints); ok {
			count = float64(max(v, 0))
		}
		body := c.node(tree, n.List, ints)
		total := count*(1+body) + c.node(tree, n.ElseList, ints)
		if total > MaxRangeIterations && c.err == nil {
			loc, _ := tree.ErrorContext(n)
			c.err = fmt.Errorf("runs %s iterations of ranges over numbers from the range at %s (nested ranges multiply, and a {{ template }} call counts its ranges); "+
				"herald allows at most %s in one render (MaxRangeIterations), so that a render cannot hold a CPU: range over the event's fields instead",
				count3(total), loc, count3(MaxRangeIterations))
		}
		return total
	}
	return 0
}

// branch returns the iterations of the costlier of an if's or with's branches.
func (c *iterations) branch(tree *parse.Tree, b *parse.BranchNode, ints map[string]int64) float64 {
	return max(c.node(tree, b.List, ints), c.node(tree, b.ElseList, ints))
}

// count3 prints a count with thousands separators (1,000,000), or in e-notation past 1e15.
func count3(f float64) string {
	if f >= 1e15 {
		return fmt.Sprintf("%.3g", f)
	}
	s := fmt.Sprintf("%.0f", f)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
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
