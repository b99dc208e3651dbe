// Command chartdoc writes the Helm chart's values.schema.json and README.md from the comments
// in its values.yaml (helm-docs style), and copies the alert rules, the Grafana dashboard and
// the CRDs into the chart, so the chart serves the same files deploy/ ships; it also writes
// deploy/kubernetes/crds.yaml, the CRDs of deploy/crds in one file for kubectl apply -f.
//
//	go run ./hack/chartdoc            write them
//	go run ./hack/chartdoc -check     fail, naming the file, when one is stale
//
// In values.yaml, the comment block right above a key (after its last blank comment line) is
// its description; a line "# @schema {JSON}" in it replaces the schema inferred from the
// default value (for lists, free-form objects, enums and patterns). A mapping without
// @schema becomes an object that refuses unknown keys (additionalProperties: false), so a typo
// such as `sink:` for `sinks:` fails `helm install` instead of being ignored.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

const (
	chartDir = "deploy/helm/herald"
	schemaID = "https://github.com/heraldproject/herald/deploy/helm/herald/values.schema.json"
)

// copies are files of deploy/ that the chart serves through .Files.Get, and the CRDs, which
// Helm installs from the chart's crds/ directory as they are (they are not templates).
var copies = map[string]string{
	"deploy/prometheus/herald-rules.yaml":   chartDir + "/files/herald-rules.yaml",
	"deploy/grafana/herald.json":            chartDir + "/files/herald-dashboard.json",
	"deploy/crds/herald.dev_receivers.yaml": chartDir + "/crds/herald.dev_receivers.yaml",
	"deploy/crds/herald.dev_routes.yaml":    chartDir + "/crds/herald.dev_routes.yaml",
}

// bundles are files made of several files of deploy/, one YAML document each, after a header.
var bundles = map[string]struct {
	header string
	parts  []string
}{
	"deploy/kubernetes/crds.yaml": {
		header: "# herald's CustomResourceDefinitions (team routes: Receiver, Route), applied before\n" +
			"# herald.yaml by kubectl apply -f deploy/kubernetes/. Generated from deploy/crds by\n" +
			"# make chart-docs: edit those files, not this one.\n",
		parts: []string{"deploy/crds/herald.dev_receivers.yaml", "deploy/crds/herald.dev_routes.yaml"},
	},
}

func main() {
	check := flag.Bool("check", false, "compare instead of writing; exit 1 when a file is stale")
	flag.Parse()
	if err := run(*check); err != nil {
		fmt.Fprintln(os.Stderr, "chartdoc:", err)
		os.Exit(1)
	}
}

func run(check bool) error {
	src, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return err
	}
	vals, err := parseValues(src)
	if err != nil {
		return err
	}
	schema, err := json.MarshalIndent(rootSchema(vals), "", "  ")
	if err != nil {
		return err
	}
	want := map[string][]byte{
		filepath.Join(chartDir, "values.schema.json"): append(schema, '\n'),
		filepath.Join(chartDir, "README.md"):          readme(vals),
	}
	for from, to := range copies {
		b, err := os.ReadFile(from)
		if err != nil {
			return err
		}
		want[to] = b
	}
	for to, bundle := range bundles {
		b := []byte(bundle.header)
		for _, from := range bundle.parts {
			part, err := os.ReadFile(from)
			if err != nil {
				return err
			}
			b = append(append(b, "---\n"...), part...)
		}
		want[to] = b
	}
	var stale []string
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		have, err := os.ReadFile(name)
		if err == nil && bytes.Equal(have, want[name]) {
			continue
		}
		if check {
			stale = append(stale, name)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(name, want[name], 0o644); err != nil {
			return err
		}
	}
	if len(stale) > 0 {
		return fmt.Errorf("out of date with values.yaml and deploy/ (run `make chart-docs` and commit the result): %s", strings.Join(stale, ", "))
	}
	return nil
}

// value is one key of values.yaml.
type value struct {
	path        string // dotted, e.g. image.tag
	node        *yaml.Node
	description string
	schema      map[string]any // from @schema, or nil
	children    []*value       // for a mapping without @schema
}

func parseValues(src []byte) ([]*value, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("values.yaml: %v", err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("values.yaml: the top level is not a mapping")
	}
	var errs []error
	vals := mapping(doc.Content[0], "", &errs)
	return vals, errors.Join(errs...)
}

func mapping(n *yaml.Node, prefix string, errs *[]error) []*value {
	var out []*value
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		val := &value{path: prefix + k.Value, node: v}
		desc, schema, err := parseComment(k.HeadComment)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("values.yaml line %d, %s: %v", k.Line, val.path, err))
		}
		if lc := strings.TrimSpace(strings.TrimPrefix(k.LineComment, "#")); lc != "" {
			desc = strings.TrimSpace(desc + " " + lc)
		}
		val.description, val.schema = desc, schema
		if schema == nil && v.Kind == yaml.MappingNode && len(v.Content) > 0 {
			val.children = mapping(v, val.path+".", errs)
		}
		if desc == "" && val.children == nil {
			*errs = append(*errs, fmt.Errorf("values.yaml line %d: %s has no description: write a comment right above it", k.Line, val.path))
		}
		out = append(out, val)
	}
	return out
}

// parseComment returns the last paragraph of a head comment as the description, and its
// @schema line as a schema.
func parseComment(c string) (string, map[string]any, error) {
	lines := strings.Split(c, "\n")
	start := 0
	for i, l := range lines {
		if strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "#")) == "" {
			start = i + 1
		}
	}
	var desc []string
	var schema map[string]any
	for _, l := range lines[start:] {
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "#"))
		if s, ok := strings.CutPrefix(l, "@schema "); ok {
			if err := json.Unmarshal([]byte(s), &schema); err != nil {
				return "", nil, fmt.Errorf("@schema: %v", err)
			}
			continue
		}
		desc = append(desc, l)
	}
	return strings.Join(desc, " "), schema, nil
}

func rootSchema(vals []*value) map[string]any {
	s := objectSchema(vals)
	// A parent chart passes global: to every subchart.
	s["properties"].(map[string]any)["global"] = map[string]any{"type": "object", "description": "values a parent chart shares with its subcharts"}
	s["$schema"] = "https://json-schema.org/draft-07/schema#"
	s["$id"] = schemaID
	s["title"] = "herald chart values"
	return s
}

func objectSchema(vals []*value) map[string]any {
	props := map[string]any{}
	for _, v := range vals {
		props[strings.TrimPrefix(v.path[strings.LastIndex(v.path, ".")+1:], ".")] = schemaOf(v)
	}
	return map[string]any{"type": "object", "additionalProperties": false, "properties": props}
}

func schemaOf(v *value) map[string]any {
	var s map[string]any
	switch {
	case v.schema != nil:
		s = map[string]any{}
		for k, x := range v.schema {
			s[k] = x
		}
	case v.children != nil:
		s = objectSchema(v.children)
	default:
		s = inferred(v.node)
	}
	if v.description != "" {
		s["description"] = v.description
	}
	return s
}

// inferred is the schema of a scalar default: its type.
func inferred(n *yaml.Node) map[string]any {
	switch n.Kind {
	case yaml.MappingNode:
		return map[string]any{"type": "object"}
	case yaml.SequenceNode:
		return map[string]any{"type": "array"}
	}
	switch n.Tag {
	case "!!bool":
		return map[string]any{"type": "boolean"}
	case "!!int":
		return map[string]any{"type": "integer"}
	case "!!float":
		return map[string]any{"type": "number"}
	case "!!null":
		return map[string]any{}
	}
	return map[string]any{"type": "string"}
}

const readmeHead = `# herald Helm chart

<!-- generated from values.yaml by ` + "`make chart-docs`" + ` (hack/chartdoc); do not edit -->

herald watches a Kubernetes cluster's events and delivers them, filtered and formatted, to chat
robots, webhooks, Kafka, databases and more; a drop-in for kube-eventer. This chart installs it
with least-privilege RBAC, a checkpoint that survives restarts, optional leader election,
ServiceMonitor, PrometheusRule and Grafana dashboard.

## Install

` + "```sh" + `
helm install herald oci://ghcr.io/heraldproject/charts/herald --version VERSION \
  --namespace herald --create-namespace \
  --set 'sinks[0]=webhook:http://receiver.example:8080/events?level=Warning'
` + "```" + `

or from a release's ` + "`herald-VERSION.tgz`" + ` (` + "`helm install herald ./herald-VERSION.tgz ...`" + `), or from a
checkout (` + "`helm install herald deploy/helm/herald ...`" + `). The chart's NOTES say how to check that it
works. Robot keys and passwords go in a Secret (` + "`envFromSecrets`" + `) and into sink URIs as ` + "`${NAME}`" + `.
values.schema.json refuses unknown keys, so a mistyped value fails the install instead of being
ignored.

The chart's ` + "`crds/`" + ` holds herald's CustomResourceDefinitions (Receiver and Route, group
herald.dev; the same files as deploy/crds). Helm installs them on the first install
(` + "`--skip-crds`" + ` leaves them out) but never upgrades or deletes them: after an upgrade that
changes them, ` + "`kubectl apply -f`" + ` the new chart's ` + "`crds/`" + `.

## Values

| Key | Type | Default | Description |
|-----|------|---------|-------------|
`

func readme(vals []*value) []byte {
	var b bytes.Buffer
	b.WriteString(readmeHead)
	var walk func([]*value)
	walk = func(vs []*value) {
		for _, v := range vs {
			if v.children != nil {
				walk(v.children)
				continue
			}
			typ := fmt.Sprint(schemaOf(v)["type"])
			if t, ok := schemaOf(v)["type"].([]any); ok {
				var ts []string
				for _, x := range t {
					ts = append(ts, fmt.Sprint(x))
				}
				typ = strings.Join(ts, " or ")
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", v.path, typ, defaultOf(v.node), cell(v.description))
		}
	}
	walk(vals)
	return b.Bytes()
}

// defaultOf renders a default value compactly, as JSON.
func defaultOf(n *yaml.Node) string {
	var x any
	if err := n.Decode(&x); err != nil {
		return ""
	}
	j, err := json.Marshal(x)
	if err != nil {
		return ""
	}
	return "`" + strings.ReplaceAll(string(j), "|", `\|`) + "`"
}

func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace(s)
}
