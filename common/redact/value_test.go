package redact

import (
	"strings"
	"testing"
)

// Value redacts from the structure of the value, so a secret is replaced whole whatever it
// holds; the cases are the ones pattern redaction cut short (issue: "header=<redacted> TOKEN",
// "password=<redacted>,rest") and the places a sink keeps a secret.
func TestValueRedactsWholeSecrets(t *testing.T) {
	secretParams := func(names ...string) Shape {
		return Shape{Secret: func(n string) bool {
			for _, s := range names {
				if s == n {
					return true
				}
			}
			return false
		}, Header: "header", Known: func(n string) bool {
			for _, s := range append(names, "level", "method", "brokers", "user", "nodes", "header") {
				if s == n {
					return true
				}
			}
			return false
		}}
	}
	cases := []struct {
		raw, want string
		shape     Shape
		known     []string
	}{
		{raw: "webhook:http://r/x?header=Authorization=Bearer TOKEN-abc&level=Warning",
			want: "webhook:http://r/x?header=Authorization=<redacted>&level=Warning", shape: secretParams()},
		{raw: "webhook:http://r/x?header=Content-Type=application/json&header=X-Api-Key=k, e y",
			want: "webhook:http://r/x?header=Content-Type=application/json&header=X-Api-Key=<redacted>", shape: secretParams()},
		{raw: "kafka:?brokers=b:9092&user=u&password=pa ss,rest'\"q&level=Normal",
			want: "kafka:?brokers=b:9092&user=u&password=<redacted>&level=Normal", shape: secretParams("password")},
		{raw: "elasticsearch:http://u:p@ss/w:rd@es:9200?level=Normal",
			want: "elasticsearch:http://u:<redacted>@es:9200?level=Normal", shape: secretParams()},
		{raw: "elasticsearch:?nodes=http://u:a b@es:9200&esUserSecret=x y",
			want: "elasticsearch:?nodes=http://u:<redacted>@es:9200&esUserSecret=<redacted>", shape: secretParams("esUserSecret")},
		{raw: "mysql:?root:p@ss:w/rd?x@tcp(db:3306)/kube?charset=utf8mb4&level=Normal",
			want: "mysql:?root:<redacted>@tcp(db:3306)/kube?charset=utf8mb4&level=Normal", shape: Shape{DSN: true}},
		{raw: "slack:http://127.0.0.1:8080/services/T0/B0/to ken/x@y?level=Normal",
			want: "slack:http://127.0.0.1:8080/services/<redacted>?level=Normal", shape: Shape{PathAfter: []string{"services"}}},
		{raw: "wechat:https://q/send?key=Oi3nBv&Bv6qSe=Sx1hKw&level=Normal",
			want: "wechat:https://q/send?key=<redacted>&<redacted>&level=Normal", shape: secretParams("key")},
		{raw: "webhook:http://r/x?token=abc#rest-of-it",
			want: "webhook:http://r/x?token=<redacted>#<redacted>", shape: secretParams()},
		{raw: "webhook:http://r/x?code=${FN_CODE}&level=Normal",
			want: "webhook:http://r/x?code=<redacted>&level=Normal", shape: secretParams("code")},
		{raw: "log:", want: "log:", shape: Shape{}},
		{raw: "webhook:http://r/plain-Path-Secret-9?level=Normal", known: []string{"Path-Secret-9"},
			want: "webhook:http://r/plain-<redacted>?level=Normal", shape: Shape{}},
	}
	for _, c := range cases {
		if got := Value(c.raw, c.shape, c.known...); got != c.want {
			t.Errorf("Value(%q)\n got %q\nwant %q", c.raw, got, c.want)
		}
	}
}

// Malformed names and values never panic and never survive in the output.
func TestValueNeverPanics(t *testing.T) {
	for _, raw := range []string{"", ":", "x", "webhook:?%E9=1", "webhook:?%80", "webhook:http://[::1", "mysql:?@@@", "a:b?c=d=e&&&=",
		"webhook:http://u:\xff@h/?\xfe=\xfd"} {
		_ = Value(raw, Shape{DSN: strings.HasPrefix(raw, "mysql"), Header: "header", PathAfter: []string{"hook"}})
	}
}

func TestScrubForms(t *testing.T) {
	got := Scrub("a Wm8zJq3kYt b  Wm8z%2BJ c dTpXbTh6K0o= d", "  Wm8z+J  ", "u:Wm8z+J", "Wm8zJq3kYt")
	if strings.Contains(got, "Wm8z") || strings.Contains(got, "dTpX") {
		t.Errorf("Scrub left a form: %q", got)
	}
}
