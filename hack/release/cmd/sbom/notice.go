package main

import (
	"fmt"
	"io"
	"strings"

	"herald.local/hack/release/modinfo"
)

const noticeHead = `herald
Copyright 2026 The herald authors

herald is licensed under the Apache License, Version 2.0 (see LICENSE).

The release binaries and the container image contain the work of others:

- The Go standard library and runtime, BSD-3-Clause, Copyright The Go Authors.
- The Go modules listed below, compiled into the binary, each under its own licence (the licence
  files are in each module's source at the version given). The list is read from the binary's
  build information; ` + "`make notice`" + ` regenerates this file and ` + "`make test`" + ` checks it.
- In the container image only:
  - /etc/ssl/certs/ca-certificates.crt: Mozilla's CA certificate bundle as packaged by Debian's
    ca-certificates, MPL-2.0 (its copyright file is /usr/share/doc/ca-certificates/copyright in
    the image).
  - /usr/share/zoneinfo: the IANA time zone database as shipped in Go's lib/time/zoneinfo.zip,
    in the public domain.
`

// writeNotice writes herald's NOTICE: what the binary and the image bundle, the licence of
// every module, and the NOTICE files of the modules that carry one (Apache-2.0 §4(d)).
func writeNotice(w io.Writer, b *modinfo.Binary) error {
	var unknown []string
	width := 0
	for _, d := range b.Deps {
		width = max(width, len(d.Path)+1+len(d.Version))
		if d.License == "" {
			unknown = append(unknown, d.Path+"@"+d.Version)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("no known licence recognised for %s: read its licence file and add its wording to modinfo.Classify", strings.Join(unknown, ", "))
	}
	fmt.Fprint(w, noticeHead)
	fmt.Fprintf(w, "\nGo modules (%d):\n\n", len(b.Deps))
	for _, d := range b.Deps {
		fmt.Fprintf(w, "  %-*s  %s\n", width, d.Path+"@"+d.Version, d.License)
	}
	for _, d := range b.Deps {
		if d.Notice == "" {
			continue
		}
		fmt.Fprintf(w, "\n----- NOTICE of %s@%s -----\n\n%s\n", d.Path, d.Version, d.Notice)
	}
	return nil
}
