package routes

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

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
	// The '/' in the value stays %2F: one path segment, as written.
	if seg, _ := url.PathUnescape(strings.Split(u.EscapedPath(), "/")[2]); seg != odd {
		t.Errorf("path segment %q, want %q", seg, odd)
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
