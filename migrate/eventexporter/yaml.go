package eventexporter

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ynode is one node of a kubernetes-event-exporter config, with its path in the config
// ("route.routes[1].match[0].labels") so every finding can name where it comes from.
type ynode struct {
	n    *yaml.Node
	path string
}

// configError is a config the exporter itself could not load (wrong type where a map or list
// belongs): herald migrate stops with exit code 2.
type configError struct {
	path string
	line int
	msg  string
}

func (e *configError) Error() string {
	return fmt.Sprintf("%s (line %d): %s", e.path, e.line, e.msg)
}

func (y ynode) resolved() *yaml.Node {
	n := y.n
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func (y ynode) line() int { return y.n.Line }

func (y ynode) isNull() bool {
	n := y.resolved()
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func (y ynode) fail(format string, args ...any) {
	panic(&configError{path: y.path, line: y.line(), msg: fmt.Sprintf(format, args...)})
}

// field is one key of a mapping.
type field struct {
	key string
	val ynode
}

// fields returns a mapping's keys in file order; a null node has none. Anything else is a
// configError.
func (y ynode) fields() []field {
	if y.isNull() {
		return nil
	}
	n := y.resolved()
	if n.Kind != yaml.MappingNode {
		y.fail("must be a mapping (key: value), not %s", kindName(n))
	}
	var out []field
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		p := k
		if y.path != "" {
			p = y.path + "." + k
		}
		out = append(out, field{key: k, val: ynode{n: n.Content[i+1], path: p}})
	}
	return out
}

// items returns a sequence's items; a null node has none.
func (y ynode) items() []ynode {
	if y.isNull() {
		return nil
	}
	n := y.resolved()
	if n.Kind != yaml.SequenceNode {
		y.fail("must be a list, not %s", kindName(n))
	}
	out := make([]ynode, len(n.Content))
	for i, c := range n.Content {
		out[i] = ynode{n: c, path: fmt.Sprintf("%s[%d]", y.path, i)}
	}
	return out
}

// str returns a scalar's text ("" for null).
func (y ynode) str() string {
	if y.isNull() {
		return ""
	}
	n := y.resolved()
	if n.Kind != yaml.ScalarNode {
		y.fail("must be a single value, not %s", kindName(n))
	}
	return n.Value
}

// strs returns a list of scalars.
func (y ynode) strs() []string {
	var out []string
	for _, it := range y.items() {
		out = append(out, it.str())
	}
	return out
}

// boolean reads true/false as the exporter's YAML library does.
func (y ynode) boolean() bool {
	s := y.str()
	switch strings.ToLower(s) {
	case "", "false", "no", "off":
		return false
	case "true", "yes", "on":
		return true
	}
	y.fail("must be true or false, not %q", s)
	return false
}

// integer reads a whole number.
func (y ynode) integer() int64 {
	s := y.str()
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		y.fail("must be a whole number, not %q", s)
	}
	return n
}

// stringMap reads a mapping of scalars, sorted by key (the exporter's maps have no order).
func (y ynode) stringMap() []field {
	fs := y.fields()
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].key < fs[j].key })
	for _, f := range fs {
		f.val.str() // type check
	}
	return fs
}

// maxExpandedNodes bounds the nodes a config may hold once its aliases are expanded. The largest
// real config is a few hundred; a few aliases that each repeat the one before ("billion laughs")
// would otherwise make the walk of the route tree take for ever.
const maxExpandedNodes = 100_000

// checkAliases refuses what the exporter's own YAML reader refuses and herald migrate could not
// walk: an anchor whose value contains an alias to itself (the walk would never end), and aliases
// that expand to more than maxExpandedNodes nodes.
func checkAliases(root *yaml.Node) error {
	onPath := map[*yaml.Node]bool{}
	count := 0
	var walk func(n *yaml.Node) error
	walk = func(n *yaml.Node) error {
		if n == nil {
			return nil
		}
		if count++; count > maxExpandedNodes {
			return fmt.Errorf("line %d: the aliases (*name) expand to more than %d values; write the config out without them", n.Line, maxExpandedNodes)
		}
		if n.Kind == yaml.AliasNode {
			if onPath[n.Alias] {
				return fmt.Errorf("line %d: alias *%s refers to a value that contains it, which never ends; the exporter refuses it too", n.Line, n.Value)
			}
			n = n.Alias
			if n == nil {
				return nil
			}
		}
		onPath[n] = true
		defer delete(onPath, n)
		for _, c := range n.Content {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(root)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("the value %q", n.Value)
	}
}
