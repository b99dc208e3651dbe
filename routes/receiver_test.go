package routes

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldproject/herald/routes/api"
	_ "github.com/heraldproject/herald/sinks/all"
)

// secrets is Objects over a map of namespace/name -> data.
type secrets map[string]map[string][]byte

func (s secrets) Secret(ns, name string) (map[string][]byte, error) {
	d, ok := s[ns+"/"+name]
	if !ok {
		return nil, fmt.Errorf("not found: create it in namespace %s", ns)
	}
	return d, nil
}

func receiver(ns, name string, spec api.ReceiverSpec) *api.Receiver {
	return &api.Receiver{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
}

// A Secret's value stands for itself wherever ${KEY} is: user info, path or query, whatever
// characters it holds.
func TestSecretValuesKeepEveryCharacter(t *testing.T) {
	odd := "p@ss:w/rd?#&=%+ é\"'`$"
	objs := secrets{"team-a/creds": {"PASS": []byte(odd + "\n"), "TOKEN": []byte(odd), "KEY": []byte(odd)}}
	r := receiver("team-a", "hook", api.ReceiverSpec{
		Sink:      "webhook:https://bot:${PASS}@hooks.example.test/x/${TOKEN}/y?key=${KEY}&method=POST",
		SecretRef: &api.LocalObjectReference{Name: "creds"},
	})
	res, err := resolveReceiver(r, objs, "receiver")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(strings.TrimPrefix(res.raw, "webhook:"))
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := u.User.Password(); p != odd {
		t.Errorf("password %q, want %q (the newline a file or echo leaves is trimmed)", p, odd)
	}
	// In the path a '/' separates segments (a Slack webhook's T000/B000/XXXX); everything
	// else stands for itself.
	if got := strings.TrimSuffix(strings.TrimPrefix(u.Path, "/x/"), "/y"); got != odd {
		t.Errorf("path %q, want %q between /x/ and /y", got, odd)
	}
	if !strings.Contains(u.EscapedPath(), "%3Aw/rd%3F%23") {
		t.Errorf("escaped path %q: the '/' of the value should separate segments, '?' and '#' be escaped", u.EscapedPath())
	}
	if k := u.Query().Get("key"); k != odd {
		t.Errorf("query value %q, want %q", k, odd)
	}
	if u.Query().Get("method") != "POST" {
		t.Error("the parameters after the secret were lost")
	}
	if res.origin.ID != "receiver/team-a/hook" || res.origin.Key != "receiver=team-a/hook" {
		t.Errorf("sink id %q, key %q", res.origin.ID, res.origin.Key)
	}
}

func TestReceiverErrors(t *testing.T) {
	objs := secrets{"team-a/creds": {"TOKEN": []byte("s3cr3t-value"), "OTHER": []byte("x")}}
	ref := &api.LocalObjectReference{Name: "creds"}
	for _, tc := range []struct {
		spec api.ReceiverSpec
		want string
	}{
		{api.ReceiverSpec{}, "spec.sink is empty"},
		{api.ReceiverSpec{Sink: "slack:https://hooks.slack.com/services/${TOKEN}"}, "spec.secretRef is not set"},
		{api.ReceiverSpec{Sink: "slack:https://hooks.slack.com/services/${NOPE}", SecretRef: ref}, "Secret team-a/creds has no key NOPE (its keys: OTHER, TOKEN)"},
		{api.ReceiverSpec{Sink: "slack:https://hooks.slack.com/services/${TOKEN}", SecretRef: &api.LocalObjectReference{Name: "gone"}}, "spec.secretRef: Secret team-a/gone: not found"},
		{api.ReceiverSpec{Sink: "webhook:https://h.test/", Template: "{}", TemplateRef: &api.LocalObjectReference{Name: "t"}}, "both set"},
		{api.ReceiverSpec{Sink: "webhook:https://h.test/?body_template=x", Template: "{}"}, "keep one"},
		{api.ReceiverSpec{Sink: "kafka:?brokers=127.0.0.1:9092", Template: "{}"}, "sink type kafka has no body template"},
		{api.ReceiverSpec{Sink: "webhook:https://h.test/?custom_body_configmap=t&custom_body_configmap_namespace=kube-system"}, "must be the Receiver's own namespace (team-a)"},
	} {
		_, err := resolveReceiver(receiver("team-a", "r", tc.spec), objs, "receiver")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one containing %q", tc.spec, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("the error quotes the secret: %v", err)
		}
	}
}

// A Receiver's template becomes its sink's body template; a templateRef is read in the
// Receiver's own namespace.
func TestReceiverTemplates(t *testing.T) {
	res, err := resolveReceiver(receiver("team-a", "r", api.ReceiverSpec{Sink: "webhook:https://h.test/hook?method=POST", Template: `{"t":"{{ .Reason }}&"}`}), nil, "receiver")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(strings.TrimPrefix(res.raw, "webhook:"))
	if got := u.Query().Get("body_template"); got != `{"t":"{{ .Reason }}&"}` {
		t.Errorf("body_template %q", got)
	}
	res, err = resolveReceiver(receiver("team-a", "r", api.ReceiverSpec{Sink: "webhook:https://h.test/hook", TemplateRef: &api.LocalObjectReference{Name: "body"}}), nil, "receiver")
	if err != nil {
		t.Fatal(err)
	}
	u, _ = url.Parse(strings.TrimPrefix(res.raw, "webhook:"))
	if u.Query().Get("custom_body_configmap") != "body" || u.Query().Get("custom_body_configmap_namespace") != "team-a" {
		t.Errorf("templateRef gave %s", u.RawQuery)
	}
}

// The shipped examples load as herald reads them: the Receiver's Slack path keeps its
// slashes, the Route compiles.
func TestShippedExamples(t *testing.T) {
	var text []byte
	for _, f := range []string{"receiver.yaml", "route.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "deploy", "crds", "examples", f))
		if err != nil {
			t.Fatal(err)
		}
		text = append(append(text, b...), "\n---\n"...)
	}
	snap, err := Parse(text, "payments")
	if err != nil {
		t.Fatal(err)
	}
	res, err := resolveReceiver(&snap.Receivers[0], secrets{"payments/payments-slack": {"WEBHOOK_PATH": []byte("T000/B000/XXXX")}}, "receiver")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.raw, "slack:https://hooks.slack.com/services/T000/B000/XXXX?") {
		t.Errorf("the Slack webhook became %s", res.raw)
	}
	labels := func(corev1.ObjectReference) (map[string]string, error) {
		return map[string]string{"team": "payments"}, nil
	}
	if _, err := compileRoute(&snap.Routes[0], "herald", labels); err != nil {
		t.Errorf("the example Route is refused: %v", err)
	}
}
