package redact

import (
	"fmt"
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	cases := []struct{ in, secret string }{
		{"wechat:https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx", "693a91f6-7xxx"},
		{`Post "https://oapi.dingtalk.com/robot/send?access_token=abcdef&timestamp=1&sign=zzSIGzz": dial tcp`, "abcdef"},
		{`Post "https://oapi.dingtalk.com/robot/send?access_token=abcdef&timestamp=1&sign=zzSIGzz": dial tcp`, "zzSIGzz"},
		{"kafka:?brokers=b:9092&user=u&password=hunter2", "hunter2"},
		{"elasticsearch:http://elastic:changeme@127.0.0.1:9200?index=x", "changeme"},
		{"mysql:?root:Pa55word@tcp(127.0.0.1:3306)/kube_event?charset=utf8", "Pa55word"},
		{"wechat:?corp_id=c&corp_secret=S3CRET&agent_id=1", "S3CRET"},
		{"sls:?accessKeyId=id&accessKeySecret=AKS", "AKS"},
		{"influxdb:http://x?user=root&pw=rootpw", "rootpw"},
		{"grafana:https://g?token=glsa_abc", "glsa_abc"},
	}
	for _, c := range cases {
		got := Text(c.in)
		if strings.Contains(got, c.secret) {
			t.Errorf("Text(%q) = %q still holds %q", c.in, got, c.secret)
		}
		if !strings.Contains(got, Placeholder) {
			t.Errorf("Text(%q) = %q has no placeholder", c.in, got)
		}
	}
	if got := Text("webhook:http://r/x?level=Warning&monkey=1"); got != "webhook:http://r/x?level=Warning&monkey=1" {
		t.Errorf("non-secret parameters changed: %q", got)
	}
	if got := Text("x?webhook_url=abc", "webhook_url"); strings.Contains(got, "abc") {
		t.Errorf("extra name not redacted: %q", got)
	}
}

func TestSecretPrintsRedacted(t *testing.T) {
	s := Secret("hunter2")
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, s, s, s), fmt.Sprintf("%v", struct{ P Secret }{s})} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("secret printed: %q", out)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Error("Reveal")
	}
}
