package sinks_test

import (
	"strings"
	"testing"

	"github.com/heraldproject/herald/sinks"
	_ "github.com/heraldproject/herald/sinks/all"
)

func TestSuggestScheme(t *testing.T) {
	for in, want := range map[string]string{
		"wehcat": "wechat", "wecom": "wechat", "WeCom": "wechat", "workwechat": "wechat", "wxwork": "wechat",
		"lark": "feishu", "dingding": "dingtalk", "dingtlak": "dingtalk", "msteams": "teams",
		"elasticsaerch": "elasticsearch", "opensearch": "elasticsearch", "es": "elasticsearch",
		"influx": "influxdb", "mariadb": "mysql", "kafak": "kafka", "slak": "slack", "webhok": "webhook",
		"alertmanger": "alertmanager", "stdout": "log",
		// Nothing close: no guess.
		"foo": "", "pagerduty": "", "x": "",
	} {
		if got := sinks.SuggestScheme(in); got != want {
			t.Errorf("SuggestScheme(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestUnknownSchemeError: the error names the --sink, the bad type, the suggestion and the
// known types, and never the secret in the URI.
func TestUnknownSchemeError(t *testing.T) {
	for raw, want := range map[string]string{
		"wehcat:https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=s3cr3t-key": `unknown sink type "wehcat"; did you mean "wechat"?`,
		"wecom:https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=s3cr3t-key":  `unknown sink type "wecom"; did you mean "wechat"? (herald's name for wecom)`,
		"lark:https://open.feishu.cn/open-apis/bot/v2/hook/s3cr3t-key":           `unknown sink type "lark"; did you mean "feishu"? (herald's name for lark)`,
		"https://example.invalid/hook?key=s3cr3t-key":                            `(for a plain HTTP receiver write --sink=webhook:https://example.invalid/hook?key=<redacted>)`,
		"pagerduty:https://events.example/v2?token=s3cr3t-key":                   `unknown sink type "pagerduty"; known types: alertmanager,`,
	} {
		_, err := sinks.Build(1, raw, sinks.Env{CheckOnly: true})
		if err == nil {
			t.Errorf("%s: no error", raw)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, want) || !strings.HasPrefix(msg, "--sink #1: ") {
			t.Errorf("%s:\n got %s\nwant it to contain %s", raw, msg, want)
		}
		if strings.Contains(msg, "s3cr3t") {
			t.Errorf("the error prints the secret: %s", msg)
		}
	}
}
