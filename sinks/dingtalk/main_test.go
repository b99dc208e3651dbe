package dingtalk_test

import (
	"testing"

	"k8s.io/utils/clock"

	"github.com/heraldproject/herald/sinks/chat/chattest"
	"github.com/heraldproject/herald/sinks/dingtalk"
)

func TestMain(m *testing.M) { chattest.Main(m) }

// kind builds the DingTalk sink without the registry, on a fake clock (sinks/chat/chattest).
var kind = chattest.Kind[*dingtalk.Sink]{Scheme: "dingtalk", Name: "DingTalk", Params: dingtalk.Params,
	New: chattest.Builder(dingtalk.ParseConfig, dingtalk.New, func(c *dingtalk.Config, clk clock.Clock) { c.Clock = clk })}
