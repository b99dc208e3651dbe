package feishu_test

import (
	"testing"

	"k8s.io/utils/clock"

	"github.com/heraldproject/herald/sinks/chat/chattest"
	"github.com/heraldproject/herald/sinks/feishu"
)

func TestMain(m *testing.M) { chattest.Main(m) }

// kind builds the Feishu sink without the registry, on a fake clock (sinks/chat/chattest).
var kind = chattest.Kind[*feishu.Sink]{Scheme: "feishu", Name: "Feishu", Params: feishu.Params,
	New: chattest.Builder(feishu.ParseConfig, feishu.New, func(c *feishu.Config, clk clock.Clock) { c.Clock = clk })}
