package redact

import (
	"strings"
	"testing"
)

func TestWebhookPathsAreRedacted(t *testing.T) {
	cases := []struct{ in, secret, kept string }{
		{"slack:https://hooks.slack.com/services/T0001/B0001/s3cr3tHookToken?level=Warning", "s3cr3tHookToken", "level=Warning"},
		{`Post "https://hooks.slack.com/services/T0001/B0001/s3cr3tHookToken": EOF`, "s3cr3tHookToken", `": EOF`},
		{"discord:https://discord.com/api/webhooks/123456789012345678/wHk-T0ken_abc?wait=true", "wHk-T0ken_abc", "123456789012345678/"},
		{"https://canary.discordapp.com/api/v10/webhooks/1/wHk-T0ken_abc", "wHk-T0ken_abc", "canary.discordapp.com"},
		{"feishu:https://open.feishu.cn/open-apis/bot/v2/hook/0f1e2d3c-aaaa-bbbb", "0f1e2d3c-aaaa-bbbb", "open.feishu.cn"},
		{"teams:https://contoso.webhook.office.com/webhookb2/a-b@c-d/IncomingWebhook/e1/f2", "IncomingWebhook/e1/f2", "contoso.webhook.office.com"},
	}
	for _, c := range cases {
		got := Text(c.in)
		if strings.Contains(got, c.secret) {
			t.Errorf("Text(%q) = %q still holds %q", c.in, got, c.secret)
		}
		if !strings.Contains(got, Placeholder) || !strings.Contains(got, c.kept) {
			t.Errorf("Text(%q) = %q: want the placeholder and %q kept", c.in, got, c.kept)
		}
	}
	if in := "webhook:https://receiver.example/services/abc"; Text(in) != in {
		t.Errorf("an ordinary URL changed: %q", Text(in))
	}
}
