package teams_test

import (
	"testing"

	"k8s.io/utils/clock"

	"github.com/heraldproject/herald/sinks/chat/chattest"
	"github.com/heraldproject/herald/sinks/teams"
)

func TestMain(m *testing.M) { chattest.Main(m) }

// kit is the Teams sink and its fake service, for the tests every chat sink shares
// (sinks/chat/chattest).
var kit = chattest.Chat[*teams.Sink, teamsMessage]{
	Kind: chattest.Kind[*teams.Sink]{Scheme: "teams", Name: "Teams", Params: teams.Params,
		New: chattest.Builder(teams.ParseConfig, teams.New, func(c *teams.Config, clk clock.Clock) { c.Pacing.Clock = clk })},
	Fake: func(t testing.TB, params string) (*chattest.Receiver[teamsMessage], string) {
		f := newFakeWorkflow(t)
		return f.Receiver, chattest.WithParams("teams:"+f.hookURL(), params)
	},
	Account: account,
}

var (
	event  = chattest.Event
	build  = chattest.Build
	target = kit.Target
)
