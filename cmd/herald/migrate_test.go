package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/heraldproject/herald/core"
	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/test/golden"
)

// Configs modeled on the examples in kubernetes-event-exporter's README and config.example.yaml.

// exactConfig uses only constructs herald can express.
const exactConfig = `
clusterName: prod-eu
leaderElection:
  enabled: true
route:
  routes:
    # everything to Elasticsearch
    - match:
        - receiver: dump
    # critical events: no kube-system, no Normal
    - drop:
        - namespace: "^kube-system$"
        - type: "Normal"
      match:
        - receiver: critical
    - match:
        - namespace: "^(payments|checkout)$"
          kind: "^Pod$"
          reason: "BackOff|OOMKilling"
          receiver: team-slack
receivers:
  - name: dump
    elasticsearch:
      hosts: [https://es-0:9200, https://es-1:9200]
      indexFormat: "kube-events-{2006.01.02}"
      username: exporter
      password: s3cr3t-es-password
      tls: {caFile: /etc/ca.pem}
  - name: critical
    kafka:
      topic: kube-critical
      brokers: [kafka-0:9092, kafka-1:9092]
      compressionCodec: zstd
      tls: {enable: true, caFile: /etc/kafka/ca.pem}
      sasl: {enable: true, username: herald, password: kafka-pass-123, mechanism: sha512}
  - name: team-slack
    slack:
      token: xoxb-1111-secret-token
      channel: "C0123456789"
`

// nestedConfig has a drop at the root and a nested route whose parent rules must all match.
const nestedConfig = `
route:
  drop:
    - kind: "^Lease$"
  routes:
    - match:
        - namespace: "prod"
        - type: "Warning"
      routes:
        - match:
            - reason: "BackOff"
              receiver: hook
    - match:
        - namespace: "default|ops"
          receiver: hook
receivers:
  - name: hook
    webhook:
      endpoint: "https://hooks.example/k8s?tenant=a&token=tok-abc-123"
      headers:
        Authorization: "Bearer very-secret-bearer"
        User-Agent: kube-event-exporter 1.0
`

// readmeConfig is the README's routing example with constructs herald cannot express.
const readmeConfig = `
logLevel: error
maxEventAgeSeconds: 60
kubeQPS: 100
route:
  routes:
    - match:
        - receiver: dump
    - drop:
        - namespace: "*test*"
        - type: "Normal"
      match:
        - receiver: "alerts"
    - match:
        - kind: "Pod|Deployment|ReplicaSet"
          labels:
            version: "dev"
          receiver: "pipe"
    - drop:
        - namespace: "kube-system"
          reason: "Unhealthy"
      match:
        - minCount: 5
          receiver: "pipe"
receivers:
  - name: dump
    stdout: {}
  - name: alerts
    opsgenie:
      apiKey: opsgenie-key-xyz
      priority: "P3"
  - name: pipe
    webhook:
      endpoint: "http://receiver.monitoring:3000"
      headers:
        X-API-KEY: "123-456-OPSGENIE-789-ABC"
      layout:
        eventType: "kube-event"
        createdAt: "{{ .GetTimestampMs }}"
        details:
          message: "{{ .Message }}"
`

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func migrate(t *testing.T, content string, extra ...string) (stdout, stderr string, rc int) {
	t.Helper()
	var out, errb bytes.Buffer
	rc = runMigrate(append(append([]string{"event-exporter"}, extra...), writeConfig(t, content)), &out, &errb)
	return out.String(), errb.String(), rc
}

// argLines splits the shell-ready output back into arguments.
func argLines(t *testing.T, out string) []string {
	t.Helper()
	var args []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		line = strings.TrimSuffix(line, " \\")
		if !strings.HasPrefix(line, "'") || !strings.HasSuffix(line, "'") {
			t.Fatalf("not a single-quoted argument: %q", line)
		}
		args = append(args, strings.ReplaceAll(line[1:len(line)-1], `'\''`, `'`))
	}
	return args
}

func TestMigrateEventExporter(t *testing.T) {
	cases := []struct {
		name     string
		config   string
		wantRC   int
		wantArgs []string
		// wantStderr are substrings of stderr, each naming a path and what happened.
		wantStderr []string
		secrets    []string
	}{
		{
			name: "exact", config: exactConfig, wantRC: 0,
			wantArgs: []string{
				"--cluster-name=prod-eu",
				"--leader-elect",
				"--sink=elasticsearch:https://es-0:9200?nodes=https://es-0:9200&nodes=https://es-1:9200&esUserName=exporter&esUserSecret=${HERALD_DUMP_PASSWORD}&ca_file=/etc/ca.pem&index=kube-events-%Y.%m.%d&name=dump&level=Normal",
				"--sink=kafka:?format=herald&eventstopic=kube-critical&brokers=kafka-0:9092&brokers=kafka-1:9092&compression=zstd&tls=true&cacert=/etc/kafka/ca.pem&user=herald&password=${HERALD_CRITICAL_SASL_PASSWORD}&mechanism=SCRAM-SHA-512&name=critical&level=Warning&exclude_namespaces=kube-system",
				"--sink=slack:?token=${HERALD_TEAM_SLACK_TOKEN}&channel=C0123456789&name=team-slack&level=Normal&namespaces=payments,checkout&kinds=Pod&reason=BackOff|OOMKilling",
			},
			wantStderr: []string{
				"secret: set HERALD_DUMP_PASSWORD from a Secret to the value of receivers[0].elasticsearch.password",
				"secret: set HERALD_CRITICAL_SASL_PASSWORD from a Secret to the value of receivers[1].kafka.sasl.password",
				"secret: set HERALD_TEAM_SLACK_TOKEN from a Secret to the value of receivers[2].slack.token",
				"everything was carried over",
			},
			secrets: []string{"s3cr3t-es-password", "kafka-pass-123", "xoxb-1111-secret-token"},
		},
		{
			name: "nested routes", config: nestedConfig, wantRC: 0,
			wantArgs: []string{
				"--sink=webhook:https://hooks.example/k8s?tenant=a&token=${HERALD_HOOK_ENDPOINT_TOKEN}&method=POST&header=Content-Type=application/json&header=Authorization=${HERALD_HOOK_HEADER_AUTHORIZATION}&header=User-Agent=kube-event-exporter%201.0&body_template={{%20toJson%20.Event%20}}&name=hook&level=Warning&namespaces=/prod/&reason=BackOff&exclude_kinds=Lease",
				"--sink=webhook:https://hooks.example/k8s?tenant=a&token=${HERALD_HOOK_ENDPOINT_TOKEN}&method=POST&header=Content-Type=application/json&header=Authorization=${HERALD_HOOK_HEADER_AUTHORIZATION}&header=User-Agent=kube-event-exporter%201.0&body_template={{%20toJson%20.Event%20}}&name=hook-2&level=Normal&namespaces=/default|ops/&cluster_scoped=true&exclude_kinds=Lease",
			},
			wantStderr: []string{
				`note: route.routes[1].match[0] (`,
				`receiver "hook" is reached by 2 rules`,
				"secret: set HERALD_HOOK_ENDPOINT_TOKEN from a Secret to the value of receivers[0].webhook.endpoint (query parameter token)",
				"secret: set HERALD_HOOK_HEADER_AUTHORIZATION from a Secret to the value of receivers[0].webhook.headers.Authorization",
				"everything was carried over",
			},
			secrets: []string{"tok-abc-123", "very-secret-bearer"},
		},
		{
			name: "README example with unmappable constructs", config: readmeConfig, wantRC: 1,
			wantArgs: []string{
				"--sink=log:?format=json&name=dump&level=Normal",
				"--sink=webhook:http://receiver.monitoring:3000?method=POST&header=Content-Type=application/json&header=X-API-KEY=${HERALD_PIPE_HEADER_X_API_KEY}&body_template={{%20toJson%20.Event%20}}&name=pipe&level=Normal&kinds=Pod,Deployment,ReplicaSet",
				"--sink=webhook:http://receiver.monitoring:3000?method=POST&header=Content-Type=application/json&header=X-API-KEY=${HERALD_PIPE_HEADER_X_API_KEY}&body_template={{%20toJson%20.Event%20}}&name=pipe-2&level=Normal",
			},
			wantStderr: []string{
				"warning: logLevel (",
				"warning: maxEventAgeSeconds (",
				"warning: kubeQPS (",
				"warning: route.routes[2].match[0].labels (",
				"warning: route.routes[3].match[0].minCount (",
				"warning: route.routes[3].drop[0] (",
				"needs 2 fields to match at once",
				"warning: receivers[1].opsgenie (",
				"herald has no opsgenie sink",
				"warning: receivers[2].webhook.layout: herald cannot use this layout",
				"GetTimestampMs",
				"could not be carried over exactly",
			},
			secrets: []string{"opsgenie-key-xyz", "123-456-OPSGENIE-789-ABC"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, rc := migrate(t, tc.config)
			if rc != tc.wantRC {
				t.Errorf("exit code %d, want %d; stderr:\n%s", rc, tc.wantRC, errs)
			}
			got := argLines(t, out)
			if strings.Join(got, "\n") != strings.Join(tc.wantArgs, "\n") {
				t.Errorf("flags:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.wantArgs, "\n"))
			}
			for _, w := range tc.wantStderr {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
			if tc.wantRC == 0 && strings.Contains(errs, "warning:") {
				t.Errorf("warnings for a config herald expresses exactly:\n%s", errs)
			}
			helm, _, _ := migrate(t, tc.config, "--format=helm")
			for _, s := range tc.secrets {
				for what, text := range map[string]string{"stdout": out, "stderr": errs, "helm values": helm} {
					if strings.Contains(text, s) {
						t.Errorf("secret %q appears in %s", s, what)
					}
				}
			}
		})
	}
}

// TestMigrateOutputParses runs every --sink herald migrate prints through herald's own parser,
// with the secrets set in the environment as the Deployment would, and checks that the filters
// route sample events the way the exporter's route tree did.
func TestMigrateOutputParses(t *testing.T) {
	out, errs, rc := migrate(t, exactConfig)
	if rc != 0 {
		t.Fatalf("exit %d: %s", rc, errs)
	}
	var raws []string
	for _, a := range argLines(t, out) {
		if v, ok := strings.CutPrefix(a, "--sink="); ok {
			// The CA files live in the exporter's pod; herald reads them at start.
			raws = append(raws, regexp.MustCompile(`&(ca_file|cacert)=[^&]*`).ReplaceAllString(v, ""))
		}
	}
	for _, name := range []string{"HERALD_DUMP_PASSWORD", "HERALD_CRITICAL_SASL_PASSWORD", "HERALD_TEAM_SLACK_TOKEN"} {
		t.Setenv(name, "from-the-secret")
	}
	built, err := sinks.BuildAll(raws, sinks.Env{Ctx: t.Context(), CheckOnly: true})
	if err != nil {
		t.Fatalf("herald refuses the migrated sinks: %v", err)
	}
	ev := func(typ, ns, kind, reason string) *core.Event {
		return &core.Event{Event: &corev1.Event{Type: typ, Reason: reason,
			InvolvedObject: corev1.ObjectReference{Namespace: ns, Kind: kind, Name: "x"}}}
	}
	want := map[string][]struct {
		ev   *core.Event
		pass bool
	}{
		"dump": {{ev("Normal", "kube-system", "Pod", "Pulled"), true}},
		"critical": {
			{ev("Warning", "prod", "Pod", "BackOff"), true},
			{ev("Warning", "kube-system", "Pod", "BackOff"), false},
			{ev("Normal", "prod", "Pod", "Pulled"), false},
		},
		"team-slack": {
			{ev("Warning", "payments", "Pod", "BackOff"), true},
			{ev("Normal", "checkout", "Pod", "OOMKilling"), true},
			{ev("Warning", "payments", "Node", "BackOff"), false},
			{ev("Warning", "shop", "Pod", "BackOff"), false},
			{ev("Warning", "payments", "Pod", "Unhealthy"), false},
		},
	}
	if len(built) != len(want) {
		t.Fatalf("%d sinks, want %d", len(built), len(want))
	}
	for _, b := range built {
		for _, c := range want[b.ID] {
			if got := b.Filter.Match(c.ev); got != c.pass {
				t.Errorf("%s: %s %s/%s %s: delivered %v, want %v", b.ID, c.ev.Type, c.ev.InvolvedObject.Namespace, c.ev.InvolvedObject.Kind, c.ev.Reason, got, c.pass)
			}
		}
		_ = b.Sink.Close()
	}
}

func TestMigrateHelmValues(t *testing.T) {
	args, _, _ := migrate(t, exactConfig)
	out, errs, rc := migrate(t, exactConfig, "--format=helm", "--secret=exporter-secrets")
	if rc != 0 {
		t.Fatalf("exit %d: %s", rc, errs)
	}
	var values struct {
		ClusterName    string                 `yaml:"clusterName"`
		LeaderElection struct{ Enabled bool } `yaml:"leaderElection"`
		Sinks          []string               `yaml:"sinks"`
		Env            []struct {
			Name      string `yaml:"name"`
			ValueFrom struct {
				SecretKeyRef struct{ Name, Key string } `yaml:"secretKeyRef"`
			} `yaml:"valueFrom"`
		} `yaml:"env"`
	}
	if err := yaml.Unmarshal([]byte(out), &values); err != nil {
		t.Fatalf("not YAML: %v\n%s", err, out)
	}
	var wantSinks []string
	for _, a := range argLines(t, args) {
		if v, ok := strings.CutPrefix(a, "--sink="); ok {
			wantSinks = append(wantSinks, v)
		}
	}
	if strings.Join(values.Sinks, "\n") != strings.Join(wantSinks, "\n") {
		t.Errorf("helm sinks:\n%s\nwant the --sink values:\n%s", strings.Join(values.Sinks, "\n"), strings.Join(wantSinks, "\n"))
	}
	if values.ClusterName != "prod-eu" || !values.LeaderElection.Enabled {
		t.Errorf("clusterName %q, leaderElection %v", values.ClusterName, values.LeaderElection.Enabled)
	}
	if len(values.Env) != 3 {
		t.Fatalf("env: %+v", values.Env)
	}
	for _, e := range values.Env {
		if e.ValueFrom.SecretKeyRef.Name != "exporter-secrets" || e.ValueFrom.SecretKeyRef.Key != e.Name || !strings.Contains(out, "${"+e.Name+"}") {
			t.Errorf("env %+v does not feed a ${%s} from Secret exporter-secrets", e, e.Name)
		}
	}
}

// TestMigrateLayout checks that a webhook layout herald can render becomes a JSON body template
// with the exporter's key order.
func TestMigrateLayout(t *testing.T) {
	out, errs, rc := migrate(t, `
route:
  match:
    - receiver: hook
receivers:
  - name: hook
    webhook:
      endpoint: http://receiver:8080/
      layout:
        source: "k8s \"prod\""
        details:
          reason: "{{ .Reason }}"
          message: "{{ .Message }}"
        count: 3
`)
	if rc != 0 {
		t.Fatalf("exit %d: %s", rc, errs)
	}
	args := argLines(t, out)
	want := `body_template={"count":null,"details":{"message":"{{%20.Message%20}}","reason":"{{%20.Reason%20}}"},"source":"k8s%20\"prod\""}`
	if len(args) != 1 || !strings.Contains(args[0], want) {
		t.Errorf("got %q, want it to contain %s", args, want)
	}
}

func TestMigrateBadInput(t *testing.T) {
	cases := []struct{ name, config, want string }{
		{"invalid yaml", "route:\n  routes:\n    - match: [\n", "line"},
		{"wrong type", "route:\n  routes: yes\nreceivers: []\n", "route.routes (line 2): must be a list"},
		{"configmap", "apiVersion: v1\nkind: ConfigMap\ndata:\n  config.yaml: |\n    route: {}\n", "give the exporter's config.yaml inside it"},
		{"empty", "", "the file is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, rc := migrate(t, tc.config)
			if rc != 2 || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", rc, errs, tc.want)
			}
		})
	}
	var out, errb bytes.Buffer
	if rc := runMigrate([]string{"kube-eventer", "x.yaml"}, &out, &errb); rc != 2 {
		t.Errorf("unknown source tool: exit %d", rc)
	}
	if rc := runMigrate([]string{"event-exporter", filepath.Join(t.TempDir(), "missing.yaml")}, &out, &errb); rc != 2 {
		t.Errorf("missing file: exit %d", rc)
	}
}

// herald migrate prints no secret of the exporter's config, in any form it may hold one: a
// Slack or Discord webhook path, a password in an Elasticsearch host, Azure Functions' code=, a
// header the exporter sends whatever its name. Each moves to an environment variable.
func TestMigratePrintsNoSecret(t *testing.T) {
	const config = `
route:
  routes:
    - match:
        - receiver: slack
        - receiver: discord
        - receiver: es
        - receiver: fn
receivers:
  - name: slack
    webhook:
      endpoint: "https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/SlackPathTok3nXyz"
  - name: discord
    webhook:
      endpoint: "https://discord.com/api/webhooks/123456789012345678/DiscordTok3nAbc"
  - name: es
    elasticsearch:
      hosts:
        - "https://elastic:EsHostPassw0rd@es-0:9200"
        - "https://elastic:EsHostPassw0rd@es-1:9200"
      index: kube-events
  - name: fn
    webhook:
      endpoint: "https://fn.example/api/events?code=FunctionC0deValue&tenant=a"
      headers:
        X-Custom-Route: CustomHeaderS3cret
        User-Agent: kube-event-exporter
`
	out, errOut, rc := migrate(t, config)
	if rc == 2 { // 1: converted, with warnings (the index's daily suffix)
		t.Fatalf("rc %d\n%s\n%s", rc, out, errOut)
	}
	for _, secret := range []string{"SlackPathTok3nXyz", "DiscordTok3nAbc", "EsHostPassw0rd", "FunctionC0deValue", "CustomHeaderS3cret"} {
		if strings.Contains(out+errOut, secret) {
			t.Errorf("migrate printed %q:\n%s\n%s", secret, out, errOut)
		}
	}
	for _, want := range []string{"hooks.slack.com/services/${", "discord.com/api/webhooks/${", "esUserName=elastic", "esUserSecret=${", "code=${", "X-Custom-Route=${", "tenant=a", "User-Agent=kube-event-exporter"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// The exporter's opensearch receiver has the elasticsearch receiver's fields; herald's
// elasticsearch sink writes OpenSearch (it asks the cluster), so it migrates the same way.
func TestMigrateOpenSearchReceiver(t *testing.T) {
	config := `route:
  routes:
    - match:
        - receiver: search
receivers:
  - name: search
    opensearch:
      hosts: [https://opensearch:9200]
      indexFormat: "kube-events-{2006.01.02}"
      username: herald
      password: os-secret-password
`
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	rc := runMigrate([]string{"event-exporter", path}, &stdout, &stderr)
	if rc != 0 || !strings.Contains(stdout.String(), "--sink=elasticsearch:https://opensearch:9200?") || !strings.Contains(stdout.String(), "esUserSecret=${HERALD_SEARCH_PASSWORD}") {
		t.Fatalf("rc %d\nstdout:\n%s\nstderr:\n%s", rc, stdout.String(), stderr.String())
	}
	if strings.Contains(stdout.String()+stderr.String(), "os-secret-password") {
		t.Fatal("the password was printed")
	}
}

// The exporter's loki, file and syslog receivers map to herald's sinks of those names. The
// shapes are the exporter's README's and those found in public configs (a loki receiver with
// only a url; a file receiver writing a layout to /dev/stdout), with the fields they document.
func TestMigrateLogReceivers(t *testing.T) {
	config := `route:
  routes:
    - match:
        - receiver: loki
        - receiver: dump
        - receiver: archive
        - receiver: syslog
receivers:
  - name: loki
    loki:
      url: https://loki.monitoring:3100/loki/api/v1/push
      streamLabels:
        app: kube-events
      headers:
        X-Scope-OrgID: team-a
        Content-Type: application/json
        Authorization: Bearer loki-secret-token
  - name: dump
    file:
      path: /dev/stdout
      layout:
        reason: "{{ .Reason }}"
        message: "{{ .Message }}"
  - name: archive
    file:
      path: /var/log/events/events.log
      maxsize: 50
      maxage: 7
  - name: syslog
    syslog:
      network: tcp
      address: rsyslog.logging:514
      tag: k8s-events
`
	out, errs, rc := migrate(t, config)
	if rc != 0 {
		t.Fatalf("exit %d: %s", rc, errs)
	}
	want := []string{
		"--sink=loki:https://loki.monitoring:3100/loki/api/v1/push?label=app=kube-events&tenant=team-a&header=Authorization=${HERALD_LOKI_HEADER_AUTHORIZATION}&labels=&format=json&name=loki&level=Normal",
		`--sink=file:/dev/stdout?max_backups=0&body_template={"message":"{{%20.Message%20}}","reason":"{{%20.Reason%20}}"}&name=dump&level=Normal`,
		"--sink=file:/var/log/events/events.log?max_size=50&max_age=7&max_backups=0&name=archive&level=Normal",
		"--sink=syslog://rsyslog.logging:514?tag=k8s-events&network=tcp&framing=lf&facility=local0&name=syslog&level=Normal",
	}
	if got := argLines(t, out); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("flags:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, w := range []string{
		"secret: set HERALD_LOKI_HEADER_AUTHORIZATION from a Secret to the value of receivers[0].loki.headers.Authorization",
		"note: receivers[3].syslog (",
		"everything was carried over",
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errs)
		}
	}
	if strings.Contains(out+errs, "loki-secret-token") {
		t.Error("the Authorization header's value was printed")
	}

	// herald itself takes what was printed.
	t.Setenv("HERALD_LOKI_HEADER_AUTHORIZATION", "Bearer from-the-secret")
	var raws []string
	for _, a := range argLines(t, out) {
		raws = append(raws, strings.TrimPrefix(a, "--sink="))
	}
	built, err := sinks.BuildAll(raws, sinks.Env{Ctx: t.Context(), CheckOnly: true})
	if err != nil {
		t.Fatalf("herald refuses the migrated sinks: %v", err)
	}
	for _, b := range built {
		_ = b.Sink.Close()
	}
	if len(built) != 4 {
		t.Errorf("%d sinks built, want 4", len(built))
	}
}

// TestMigrateRealConfigs runs herald migrate over published exporter configs
// (testdata/event-exporter, provenance in its README) and compares everything it prints with
// the reviewed golden files; every --sink it prints must also build.
func TestMigrateRealConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/event-exporter/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no configs in testdata/event-exporter: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			var out, errb bytes.Buffer
			rc := runMigrate([]string{"event-exporter", path}, &out, &errb)
			got := fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", rc, out.String(), errb.String())
			// HERALD_UPDATE_GOLDEN=1 rewrites the golden (test/golden).
			golden.Check(t, strings.TrimSuffix(path, ".yaml")+".golden", got, "herald migrate event-exporter "+path)
			if rc == 2 {
				return // the file is not a config the exporter would read either
			}
			var raws []string
			for _, a := range argLines(t, out.String()) {
				if v, ok := strings.CutPrefix(a, "--sink="); ok {
					raws = append(raws, envRef.ReplaceAllString(v, "placeholder"))
				}
			}
			built, err := sinks.BuildAll(raws, sinks.Env{Ctx: t.Context(), CheckOnly: true})
			if err != nil {
				t.Fatalf("herald refuses what migrate printed: %v", err)
			}
			for _, b := range built {
				_ = b.Sink.Close()
			}
		})
	}
}

var envRef = regexp.MustCompile(`\$\{[A-Z0-9_]+\}`)
