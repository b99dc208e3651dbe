// Package all links every sink type into the binary: cmd/herald imports it and names no sink.
// A new sink package adds its blank import here.
package all

import (
	_ "github.com/heraldproject/herald/sinks/log"
	_ "github.com/heraldproject/herald/sinks/webhook"
)
