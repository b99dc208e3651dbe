package sinks

import (
	"github.com/heraldproject/herald/common/redact"
	"github.com/heraldproject/herald/common/uri"
)

// RedactURI returns a --sink value with every secret replaced: the always-secret names known to
// package redact plus the parameters spec marks Secret.
func RedactURI(raw string, spec []uri.Param) string {
	var names []string
	for _, p := range spec {
		if p.Secret {
			names = append(names, p.Name)
		}
	}
	return redact.Text(raw, names...)
}

func redactRaw(raw string) string { return redact.Text(raw) }
