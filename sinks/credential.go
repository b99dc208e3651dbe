package sinks

import (
	"fmt"
	"strings"

	"github.com/heraldproject/herald/common/uri"
)

// credentialHint says where a sink's credential comes from, for the log line of a refused
// credential: the Secret behind the ${VAR}s of its --sink value, read when herald starts.
func credentialHint(raw string) string {
	refs := uri.EnvRefs(raw)
	if len(refs) == 0 {
		return "the credential is written in the --sink value itself: fix it there (better, move it into a Secret and write ${NAME}); herald keeps the events held for this sink across the restart (with --checkpoint)"
	}
	vars := "${" + strings.Join(refs, "}, ${") + "}"
	return fmt.Sprintf("the --sink value takes %s from the environment: fix the value in the Secret that sets it and restart herald (the environment is read at start); the events held for this sink are delivered after the restart (with --checkpoint), or by this process if the receiver starts accepting the old credential again", vars)
}
