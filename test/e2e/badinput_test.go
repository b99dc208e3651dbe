package e2e

import (
	"strings"
	"testing"

	"github.com/heraldproject/herald/test/harness"
)

// TestBadInputIsRefusedAtStartup: each mistake that leaves herald no sink to run stops it
// before it watches anything, with a message naming the sink, the parameter and the fix, and
// never echoing a secret. (kube-eventer's schemes start with what kube-eventer started with,
// warning by name: TestCheckFailsOnWhatKubeEventerIgnored.)
func TestBadInputIsRefusedAtStartup(t *testing.T) {
	src := harness.SourceFlag(shared.Kubeconfig)
	cases := []struct {
		name string
		sink string
		want []string
	}{
		{"unknown parameter", "alertmanager:http://127.0.0.1:1?levl=Warning&token=SECRETVALUE",
			[]string{"--sink #1 (alertmanager)", `unknown parameter "levl"`, `did you mean "level"?`}},
		{"misspelt level", "alertmanager:http://127.0.0.1:1?level=Warnin",
			[]string{`parameter "level"`, `did you mean "Warning"?`}},
		{"bad regexp", "webhook:http://127.0.0.1:1/x?reason=Back(Off&key=SECRETVALUE",
			[]string{`parameter "reason"`, "does not compile"}},
		{"unknown sink", "webhok:http://127.0.0.1:1/x",
			[]string{`unknown sink type "webhok"`, "webhook"}},
		{"bad template", "webhook:http://127.0.0.1:1/x?body_template=%7B%7B%20.Reason",
			[]string{"--sink #1 (webhook)", "template"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, code := harness.Run(t, nil, src, "--healthz-port=0", "--sink="+c.sink)
			if code == 0 {
				t.Fatalf("herald started with %q; it must refuse\n%s", c.sink, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "SECRETVALUE") {
				t.Errorf("output leaks a secret:\n%s", out)
			}
		})
	}
}

// TestCheckFailsOnWhatKubeEventerIgnored: what kube-eventer's webhook started with despite a
// mistake, herald starts with too (warning by name), and herald check fails on it, naming the
// sink, the parameter and the fix, without echoing a secret.
func TestCheckFailsOnWhatKubeEventerIgnored(t *testing.T) {
	src := harness.SourceFlag(shared.Kubeconfig)
	cases := []struct {
		name string
		sink string
		want []string
	}{
		{"unknown parameter", "webhook:http://127.0.0.1:1/x?levl=Warning&key=SECRETVALUE",
			[]string{"--sink #1 (webhook)", `unknown parameter "levl" ignored`, `did you mean "level"?`}},
		{"misspelt level", "webhook:http://127.0.0.1:1/x?level=Warnin",
			[]string{`parameter "level"`, `"Warnin" is neither Normal nor Warning`}},
		{"unset env", "webhook:http://127.0.0.1:1/x?token=${HERALD_E2E_UNSET}",
			[]string{"HERALD_E2E_UNSET is not set"}},
		{"missing ConfigMap", "webhook:http://127.0.0.1:1/x?custom_body_configmap=nope&custom_body_configmap_namespace=default",
			[]string{"--sink #1 (webhook)", "default/nope"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, code := harness.Run(t, nil, "check", src, "--sink="+c.sink)
			if code == 0 {
				t.Fatalf("herald check passed %q; it must fail on the warning\n%s", c.sink, out)
			}
			for _, w := range append(c.want, "FAIL") {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "SECRETVALUE") {
				t.Errorf("output leaks a secret:\n%s", out)
			}
		})
	}
}

// TestCheckRendersWithoutSending: herald check prints each sink's sample body and exits 0.
func TestCheckRendersWithoutSending(t *testing.T) {
	recv := harness.NewReceiver(t)
	out, code := harness.Run(t, nil, "check", harness.SourceFlag(shared.Kubeconfig),
		"--sink=webhook:"+recv.URL+"?method=POST&key=SECRETVALUE", "--sink=log")
	if code != 0 {
		t.Fatalf("check failed (%d):\n%s", code, out)
	}
	for _, w := range []string{"sink webhook#1", "EventMessage", "sink log#2", "OK: 2 sink(s) valid"} {
		if !strings.Contains(out, w) {
			t.Errorf("check output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "SECRETVALUE") {
		t.Errorf("check output leaks a secret:\n%s", out)
	}
	if n := len(recv.Requests()); n != 0 {
		t.Errorf("check sent %d requests; it must send nothing", n)
	}
}
