package discord_test

import (
	"flag"
	"os"
	"testing"

	"github.com/heraldproject/herald/sinks/chat/chattest"
)

// TestMain sends glog to stderr: by default it writes log files into the temp directory.
func TestMain(m *testing.M) {
	_ = flag.Set("logtostderr", "true")
	os.Exit(m.Run())
}

// The helpers every chat sink's tests share (sinks/chat/chattest).
var (
	lastSeen = chattest.LastSeen
	event    = chattest.Event
	build    = chattest.Build
	storm    = chattest.LongStorm
	longText = chattest.LongText
)
