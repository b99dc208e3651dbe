package discord_test

import (
	"testing"

	"k8s.io/utils/clock"

	"github.com/heraldproject/herald/sinks/chat/chattest"
	"github.com/heraldproject/herald/sinks/discord"
)

func TestMain(m *testing.M) { chattest.Main(m) }

// kit is the Discord sink and its fake service, for the tests every chat sink shares
// (sinks/chat/chattest).
var kit = chattest.Chat[*discord.Sink, dcMessage]{
	Kind: chattest.Kind[*discord.Sink]{Scheme: "discord", Name: "Discord", Params: discord.Params,
		New: chattest.Builder(discord.ParseConfig, discord.New, func(c *discord.Config, clk clock.Clock) { c.Pacing.Clock = clk })},
	Fake: func(t testing.TB, params string) (*chattest.Receiver[dcMessage], string) {
		f := newFakeDiscord(t)
		return f.Receiver, chattest.WithParams("discord:"+f.hookURL(), params)
	},
	Account: account,
}

var (
	event  = chattest.Event
	build  = chattest.Build
	target = kit.Target
)
