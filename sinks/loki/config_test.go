package loki_test

import (
	"strings"
	"testing"

	"github.com/heraldproject/herald/sinks"
	"github.com/heraldproject/herald/sinks/loki"
)

// Bad input is refused at start, each problem naming the parameter and the fix; secrets are
// never quoted.
func TestBadParametersAreRefusedAtStart(t *testing.T) {
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"label=1abc=x", []string{`parameter "label": "1abc" is not a valid Loki label name`, "use letters, digits and _"}},
		{"label=team-a=x", []string{`"team-a" is not a valid Loki label name`}},
		{"label=__name__=x", []string{`"__name__": names starting with __ are reserved`}},
		{"label=job", []string{`parameter "label": "job" has no NAME=VALUE`, "label=job=herald"}},
		{"label=job=a&label=job=b", []string{`"job" is given twice`}},
		{"label=reason=x", []string{`"reason" is also an event field in labels=`}},
		{"labels=nmespace", []string{`parameter "labels": "nmespace" is not an event field herald knows`, `did you mean "namespace"?`}},
		{"labels=reason,reason", []string{`"reason" is given twice`}},
		{"labels=", []string{`parameter "labels": no label: Loki refuses a stream without one`}},
		{"metadata=node", []string{`parameter "metadata": "node" is not an event field`}},
		{"labels=namespace,kind,reason,type,component,host,cluster,name,uid&label=a=1&label=b=2&label=c=3&label=d=4&label=e=5&label=f=6&label=g=7",
			[]string{`parameter "labels": 16 labels; use at most 15`}},
		{"tenant=team%20a", []string{`parameter "tenant": the tenant ID holds ' '`}},
		{"tenant=a|b", []string{`the tenant ID holds '|'`}},
		{"tenant=..", []string{`".." is not a tenant ID`}},
		{"header=Content-Type=text/plain", []string{`parameter "header": header #1 sets Content-Type`}},
		{"header=X-Scope-OrgID=a", []string{`sets X-Scope-OrgID; write tenant=... instead`}},
		{"header=NoValue", []string{`header #1 is not NAME=VALUE`}},
		{"format=xml", []string{`parameter "format": "xml" is not allowed; write one of protobuf, json`}},
		{"labls=namespace", []string{`unknown parameter "labls"; did you mean "labels"?`}},
		{"body_template=%7B%7B%20.Nope%20%7D%7D", []string{"body_template", "Nope"}},
		{"timeout=0", []string{`parameter "timeout"`}},
	} {
		_, err := sinks.Build(2, "loki:http://127.0.0.1:3100?"+c.query, sinks.Env{CheckOnly: true})
		if err == nil {
			t.Errorf("%s: built, want an error", c.query)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error lacks %q:\n%v", c.query, w, err)
			}
		}
		if !strings.HasPrefix(err.Error(), "--sink #2 (loki)") {
			t.Errorf("%s: the error does not name the sink: %v", c.query, err)
		}
	}
}

// The target and the credentials: Loki's base URL or its push URL, one Authorization.
func TestTargetAndCredentials(t *testing.T) {
	for _, c := range []struct{ value, want string }{
		{"loki:?tenant=a", "the target must be Loki's http:// or https:// URL"},
		{"loki:ftp://loki:3100", "the target must be Loki's http:// or https:// URL"},
		{"loki:http://u:pw-secret-1@loki:3100?token=tok-secret-2", "give either user:password@ in the URL (basic auth) or token= (bearer), not both"},
		{"loki:http://loki:3100?token=tok-secret-2&header=Authorization=Basic%20abcdef", "Authorization is set by user:password@ or token="},
	} {
		_, err := sinks.Build(1, c.value, sinks.Env{CheckOnly: true})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.value, err, c.want)
			continue
		}
		for _, secret := range []string{"pw-secret-1", "tok-secret-2", "abcdef"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: the error quotes a secret: %v", c.value, err)
			}
		}
	}
	for value, want := range map[string]string{
		"loki:http://loki:3100":                                 "http://loki:3100/loki/api/v1/push",
		"loki:http://loki:3100/":                                "http://loki:3100/loki/api/v1/push",
		"loki:https://logs.example/loki/api/v1/push?tenant=a":   "https://logs.example/loki/api/v1/push",
		"loki:https://gw.example/tenant-7/?label=job=herald":    "https://gw.example/tenant-7/loki/api/v1/push",
		"loki:https://gw.example/loki/api/v1/push/?format=json": "https://gw.example/loki/api/v1/push",
	} {
		b, err := sinks.Build(1, value, sinks.Env{CheckOnly: true})
		if err != nil {
			t.Errorf("%s: %v", value, err)
			continue
		}
		out, _ := b.Sink.(sinks.Previewer).Preview(event("shop", "BackOff", "web-1", 0))
		if !strings.Contains(out, "POST "+want+" ") {
			t.Errorf("%s: preview %q, want a push to %s", value, out, want)
		}
		_ = b.Sink.Close()
	}
}

// Every default label is an event field, and none of them names one object.
func TestDefaultLabelsAreFewValued(t *testing.T) {
	for _, f := range strings.Split(loki.DefaultLabels, ",") {
		if f == string(loki.FieldName) || f == string(loki.FieldUID) || f == string(loki.FieldHost) {
			t.Errorf("default label %q has a value per object or node", f)
		}
		known := false
		for _, n := range loki.FieldNames() {
			known = known || n == f
		}
		if !known {
			t.Errorf("default label %q is not a field", f)
		}
	}
}
