package redact

import "regexp"

// webhookPathRes match chat webhook URLs whose path, not their query, is the secret: whoever
// holds the path can post to the channel. The part after the match's first group is replaced.
var webhookPathRes = []*regexp.Regexp{
	// Slack incoming webhooks and workflow triggers: hooks.slack.com/services/T.../B.../XXXX
	regexp.MustCompile(`(?i)(hooks\.slack(?:-gov)?\.com/(?:services|workflows|triggers)/)[^\s"'?#]+`),
	// Discord: discord.com/api/webhooks/ID/TOKEN (also discordapp.com, canary., ptb., /api/v10/)
	regexp.MustCompile(`(?i)(discord(?:app)?\.com/api/(?:v\d+/)?webhooks/[0-9]+/)[^\s"'?#/]+`),
	// Feishu and Lark custom bots: open.feishu.cn/open-apis/bot/v2/hook/TOKEN
	regexp.MustCompile(`(?i)(open\.(?:feishu\.cn|larksuite\.com)/open-apis/bot/v2/hook/)[^\s"'?#/]+`),
	// Office 365 connectors (retiring): *.webhook.office.com/webhookb2/GUID@GUID/IncomingWebhook/...
	regexp.MustCompile(`(?i)(\.webhook\.office\.com/webhookb2/)[^\s"'?#]+`),
}

// webhookPaths replaces the secret path of well-known chat webhook URLs in s.
func webhookPaths(s string) string {
	for _, re := range webhookPathRes {
		s = re.ReplaceAllString(s, "${1}"+Placeholder)
	}
	return s
}
