package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// herald check --config checks a routes file as the daemon would load it, without a cluster:
// each object's verdict, the field and the fix, exit 1 when one fails, and no secret printed.
func TestCheckConfig(t *testing.T) {
	bin := heraldBinary(t)
	dir := t.TempDir()
	write := func(text string) string {
		p := filepath.Join(dir, "routes.yaml")
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const receiver = `apiVersion: herald.dev/v1alpha1
kind: Receiver
metadata: {name: ops}
spec:
  sink: webhook:https://hooks.example.test/x?key=${KEY}&method=POST
  secretRef: {name: robot}
---
`
	good := write(receiver + `apiVersion: herald.dev/v1alpha1
kind: Route
metadata: {name: all}
spec:
  receivers: [ops]
  groupBy: [reason]
  groupWait: 30s
`)
	stdout, _, code := runBin(t, bin, "check", "--config="+good)
	if code != 0 || !strings.Contains(stdout, "Receiver default/ops: OK") || !strings.Contains(stdout, "Route default/all: OK") || !strings.Contains(stdout, "OK: 0 sink(s) and 1 Receiver(s) valid") {
		t.Errorf("a good file: exit %d\n%s", code, stdout)
	}
	bad := write(receiver + `apiVersion: herald.dev/v1alpha1
kind: Route
metadata: {name: all}
spec:
  receivers: [ops]
  level: Info
`)
	stdout, _, code = runBin(t, bin, "check", "--config="+bad)
	if code != 1 || !strings.Contains(stdout, `Route default/all: FAIL (InvalidSpec): spec.level "Info"`) {
		t.Errorf("a bad Route: exit %d\n%s", code, stdout)
	}
	stdout, _, code = runBin(t, bin, "check", "--config="+write("apiVersion: herald.dev/v1alpha1\nkind: Route\nmetadata: {name: a}\nspec: {receiver: [a]}\n"))
	if code != 1 || !strings.Contains(stdout, `unknown field "receiver"`) {
		t.Errorf("an unknown field: exit %d\n%s", code, stdout)
	}
}
