// Package deploy_test checks what users install: the Helm chart (lint, template), the kustomize
// base and the plain manifests are rendered and every object is accepted by a real API server
// with server-side dry-run; the Grafana dashboard and the alert rules query only metrics herald
// exports.
package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// tool returns the path of helm or kustomize from $env (set by `source <(hack/servers.sh
// --env)`). The tests never skip without them: they fail with the command that builds them.
func tool(t *testing.T, env, script string) string {
	t.Helper()
	path := os.Getenv(env)
	if path == "" {
		t.Fatalf("$%s is not set: run hack/%s (export %s=$(hack/%s)) or source <(hack/servers.sh --env)", env, script, env, script)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("$%s=%s: %v; run hack/%s", env, path, err, script)
	}
	return path
}

func helmBin(t *testing.T) string      { return tool(t, "HERALD_HELM", "helm.sh") }
func kustomizeBin(t *testing.T) string { return tool(t, "HERALD_KUSTOMIZE", "kustomize.sh") }

// run runs a command and returns its stdout; on failure the error carries stderr.
func run(name string, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, errors.New(strings.TrimSpace(err.Error() + ": " + stderr.String() + stdout.String()))
	}
	return stdout.Bytes(), nil
}

const chart = "helm/herald"

// helmTemplate renders the chart as release name in namespace ns with extra helm arguments.
func helmTemplate(t *testing.T, name, ns string, args ...string) []*unstructured.Unstructured {
	t.Helper()
	out, err := run(helmBin(t), append([]string{"template", name, chart, "--namespace", ns}, args...)...)
	if err != nil {
		t.Fatalf("helm template %s: %v", strings.Join(args, " "), err)
	}
	return decode(t, out)
}

// kustomizeBuild renders the kustomize base.
func kustomizeBuild(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	out, err := run(kustomizeBin(t), "build", "kustomize/base")
	if err != nil {
		t.Fatalf("kustomize build kustomize/base: %v", err)
	}
	return decode(t, out)
}

// readManifests decodes every object of the YAML files matching glob.
func readManifests(t *testing.T, glob string) []*unstructured.Unstructured {
	t.Helper()
	paths, err := filepath.Glob(glob)
	if err != nil || len(paths) == 0 {
		t.Fatalf("no manifests match %s (%v)", glob, err)
	}
	var objs []*unstructured.Unstructured
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, decode(t, data)...)
	}
	return objs
}

// decode splits a multi-document YAML stream into objects, dropping empty documents.
func decode(t *testing.T, data []byte) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode YAML: %v\n%s", err, data)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetKind() == "" || u.GetAPIVersion() == "" {
			t.Fatalf("a document without kind or apiVersion: %v", m)
		}
		objs = append(objs, u)
	}
	if len(objs) == 0 {
		t.Fatalf("no objects in:\n%s", data)
	}
	return objs
}

// find returns the one object of kind; the test fails if there is not exactly one.
func find(t *testing.T, objs []*unstructured.Unstructured, kind string) *unstructured.Unstructured {
	t.Helper()
	var found []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one %s, got %d among %s", kind, len(found), kinds(objs))
	}
	return found[0]
}

func has(objs []*unstructured.Unstructured, kind string) bool {
	for _, o := range objs {
		if o.GetKind() == kind {
			return true
		}
	}
	return false
}

func kinds(objs []*unstructured.Unstructured) string {
	var ks []string
	for _, o := range objs {
		ks = append(ks, o.GetKind()+"/"+o.GetName())
	}
	return strings.Join(ks, ", ")
}

// container returns the Deployment's herald container.
func container(t *testing.T, objs []*unstructured.Unstructured) map[string]any {
	t.Helper()
	cs, _, err := unstructured.NestedSlice(find(t, objs, "Deployment").Object, "spec", "template", "spec", "containers")
	if err != nil || len(cs) != 1 {
		t.Fatalf("want one container in the Deployment, got %d (%v)", len(cs), err)
	}
	return cs[0].(map[string]any)
}

func args(t *testing.T, objs []*unstructured.Unstructured) []string {
	t.Helper()
	a, _, err := unstructured.NestedStringSlice(container(t, objs), "args")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// findNamed returns the object of kind with name; the test fails if there is none.
func findNamed(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s among %s", kind, name, kinds(objs))
	return nil
}
