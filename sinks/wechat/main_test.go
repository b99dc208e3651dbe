package wechat_test

import (
	"testing"

	"k8s.io/utils/clock"

	"github.com/heraldproject/herald/sinks/chat/chattest"
	"github.com/heraldproject/herald/sinks/wechat"
)

func TestMain(m *testing.M) { chattest.Main(m) }

// kind builds the Work WeChat sink without the registry, on a fake clock (sinks/chat/chattest).
var kind = chattest.Kind[*wechat.Sink]{Scheme: "wechat", Name: "Work WeChat", Params: wechat.Params,
	New: chattest.Builder(wechat.ParseConfig, wechat.New, func(c *wechat.Config, clk clock.Clock) { c.Clock = clk })}
