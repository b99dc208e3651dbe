// Command image builds herald's multi-arch OCI image without a Docker engine (see package
// image), or writes the image's shared files into a directory for the Dockerfile.
//
//	go run ./cmd/image build -version v0.1.0 -out herald_v0.1.0_oci.tar \
//	    -binary linux/amd64=PATH -binary linux/arm64=PATH
//	go run ./cmd/image rootfs -out DIR [-binary linux/amd64=PATH]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"herald.local/hack/release/image"
)

type binaries map[string]string

func (b binaries) String() string { return fmt.Sprint(map[string]string(b)) }
func (b binaries) Set(v string) error {
	platform, path, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("want PLATFORM=PATH (linux/amd64=bin/herald), got %q", v)
	}
	b[platform] = path
	return nil
}

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "build" && os.Args[1] != "rootfs") {
		fmt.Fprintln(os.Stderr, "usage: image build|rootfs [flags] (image build -h for the flags)")
		os.Exit(2)
	}
	cmd := os.Args[1]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	root := repoRoot()
	o := image.Options{Binaries: binaries{}}
	fs.StringVar(&o.Version, "version", "", "the release version (vX.Y.Z); names the image in the layout and labels it")
	fs.StringVar(&o.Revision, "revision", "", "the git commit (org.opencontainers.image.revision)")
	fs.StringVar(&o.Source, "source", "https://github.com/heraldproject/herald", "org.opencontainers.image.source")
	created := fs.String("created", os.Getenv("SOURCE_DATE_EPOCH"), "creation time, Unix seconds or RFC 3339 (default $SOURCE_DATE_EPOCH, else now)")
	fs.Var(binaries(o.Binaries), "binary", "PLATFORM=PATH of a static herald, repeatable (linux/amd64, linux/arm64)")
	fs.StringVar(&o.CACerts, "ca-certs", "/etc/ssl/certs/ca-certificates.crt", "PEM bundle of CA certificates (Debian's ca-certificates)")
	fs.StringVar(&o.CACertsCopyright, "ca-certs-copyright", "/usr/share/doc/ca-certificates/copyright", "the CA bundle's licence (MPL-2.0 for Mozilla's certificates)")
	fs.StringVar(&o.ZoneinfoZip, "zoneinfo", image.GoZoneinfo(), "Go's zoneinfo.zip (the IANA time zone database)")
	fs.StringVar(&o.License, "license", filepath.Join(root, "LICENSE"), "herald's LICENSE")
	fs.StringVar(&o.Notice, "notice", filepath.Join(root, "NOTICE"), "herald's NOTICE")
	out := fs.String("out", "", "build: the OCI layout tarball to write; rootfs: the directory to fill")
	_ = fs.Parse(os.Args[2:])
	if *out == "" {
		fail(fmt.Errorf("-out is required"))
	}
	t, err := parseTime(*created)
	if err != nil {
		fail(fmt.Errorf("-created=%q: %v", *created, err))
	}
	o.Created = t
	if cmd == "rootfs" {
		files, err := image.RootFS(o)
		if err != nil {
			fail(err)
		}
		if len(o.Binaries) > 1 {
			fail(fmt.Errorf("rootfs: give at most one -binary (the directory is for one platform)"))
		}
		for p, path := range o.Binaries {
			bin, err := image.ReadBinary(p, path)
			if err != nil {
				fail(err)
			}
			files = append(files, image.BinaryFiles(bin)...)
		}
		if err := image.WriteDir(*out, files); err != nil {
			fail(err)
		}
		return
	}
	if o.Version == "" {
		fail(fmt.Errorf("-version is required"))
	}
	idx, err := image.Build(o)
	if err != nil {
		fail(err)
	}
	if err := image.WriteArchive(*out, idx, o.Version, o.Created); err != nil {
		fail(err)
	}
	d, _ := idx.Digest()
	fmt.Printf("%s: image index %s for %d platforms\n", *out, d, len(o.Binaries))
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Now().UTC().Truncate(time.Second), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Parse(time.RFC3339, s)
}

// repoRoot is herald's checkout: two levels above this module.
func repoRoot() string {
	wd, _ := os.Getwd()
	for d := wd; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "cmd", "herald")); err == nil {
			return d
		}
	}
	return wd
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "image:", err)
	os.Exit(1)
}
