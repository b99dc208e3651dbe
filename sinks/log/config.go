package log

import (
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/sinks"
)

// Params are the log sink's own parameters.
var Params = []uri.Param{
	{Name: "format", Default: "text", Example: "json",
		Help: `"text": one glog line per event (time, type, namespace/kind/name, reason, count, message); "json": one JSON object per line on stdout (the Kubernetes Event's fields plus "cluster")`},
}

// Config is a parsed log sink value.
type Config struct {
	// JSON writes one JSON object per line on stdout (format=json), else a glog line.
	JSON bool
}

// ParseConfig reads the log sink's parameters.
func ParseConfig(t sinks.Target, _ sinks.Env) (*Config, error) {
	format := t.Params.OneOf("format", "text", "json")
	if err := t.Params.Err(); err != nil {
		return nil, err
	}
	return &Config{JSON: format == "json"}, nil
}
