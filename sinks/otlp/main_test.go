package otlp_test

import (
	"flag"
	"os"
	"testing"
)

// TestMain sends glog to stderr: by default it writes log files into the temp directory.
func TestMain(m *testing.M) {
	_ = flag.Set("logtostderr", "true")
	os.Exit(m.Run())
}
