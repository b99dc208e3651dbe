// Command sbom writes the software bill of materials of a herald binary (CycloneDX 1.5 JSON,
// from its build information and the module cache), or with -notice herald's NOTICE file.
//
//	go run ./cmd/sbom -binary ../../bin/herald -version v0.1.0 > herald.cdx.json
//	go run ./cmd/sbom -binary ../../bin/herald -notice > ../../NOTICE
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"herald.local/hack/release/modinfo"
)

func main() {
	binary := flag.String("binary", "", "the herald binary to describe")
	version := flag.String("version", "", "herald's version (the binary's own main module says (devel) when built from a checkout)")
	notice := flag.Bool("notice", false, "write herald's NOTICE instead of the SBOM")
	created := flag.Int64("created", 0, "the SBOM's timestamp, Unix seconds (default $SOURCE_DATE_EPOCH, else now)")
	flag.Parse()
	if *binary == "" {
		fail(fmt.Errorf("-binary is required"))
	}
	cache, err := modinfo.ModCache()
	if err != nil {
		fail(err)
	}
	b, err := modinfo.Read(*binary, cache)
	if err != nil {
		fail(err)
	}
	if *notice {
		if err := writeNotice(os.Stdout, b); err != nil {
			fail(err)
		}
		return
	}
	if *version == "" {
		fail(fmt.Errorf("-version is required for the SBOM"))
	}
	ts := time.Now().UTC()
	if *created != 0 {
		ts = time.Unix(*created, 0).UTC()
	} else if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		var n int64
		if _, err := fmt.Sscan(s, &n); err == nil {
			ts = time.Unix(n, 0).UTC()
		}
	}
	if err := writeCycloneDX(os.Stdout, b, *version, ts); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sbom:", err)
	os.Exit(1)
}
