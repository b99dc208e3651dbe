package slack_test

import (
	"testing"

	"k8s.io/utils/clock"

	"github.com/heraldproject/herald/sinks/chat/chattest"
	"github.com/heraldproject/herald/sinks/slack"
)

func TestMain(m *testing.M) { chattest.Main(m) }

// kit is the Slack sink and its fake service, for the tests every chat sink shares
// (sinks/chat/chattest).
var kit = chattest.Chat[*slack.Sink, slackMessage]{
	Kind: chattest.Kind[*slack.Sink]{Scheme: "slack", Name: "Slack", Params: slack.Params,
		New: chattest.Builder(slack.ParseConfig, slack.New, func(c *slack.Config, clk clock.Clock) { c.Pacing.Clock = clk })},
	Fake: func(t testing.TB, params string) (*chattest.Receiver[slackMessage], string) {
		f := newFakeSlack(t)
		return f.Receiver, chattest.WithParams("slack:"+f.hookURL(), params)
	},
	Account: account,
}

var (
	event  = chattest.Event
	build  = chattest.Build
	target = kit.Target
)
