package image_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"herald.local/hack/release/image"
)

const root = "../../.."

// buildHerald builds herald for goos/goarch the way `make release` does, with version in its
// ldflags.
func buildHerald(t *testing.T, goarch, version string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "herald")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags",
		"-s -w -X main.version="+version+" -X main.commit=abc1234 -X main.date=2026-12-01T00:00:00Z",
		"-o", bin, "./cmd/herald")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func options(bins map[string]string) image.Options {
	return image.Options{
		Version: "v9.8.7", Revision: "abc1234", Source: "https://github.com/heraldproject/herald",
		Created:  time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		Binaries: bins,
		CACerts:  "/etc/ssl/certs/ca-certificates.crt", CACertsCopyright: "/usr/share/doc/ca-certificates/copyright",
		ZoneinfoZip: image.GoZoneinfo(),
		License:     filepath.Join(root, "LICENSE"), Notice: filepath.Join(root, "NOTICE"),
	}
}

// TestImage builds the image from a real herald binary, writes the OCI layout tarball, reads
// it back as `crane push DIR` and `skopeo copy oci:DIR` read it, and checks what a kubelet
// would run: entrypoint, user, files, and that the binary in it reports the version.
func TestImage(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Fatalf("this test runs the image's linux/amd64 binary; it needs a linux/amd64 machine, not %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	bin := buildHerald(t, "amd64", "v9.8.7")
	o := options(map[string]string{"linux/amd64": bin})
	idx, err := image.Build(o)
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "herald_oci.tar")
	if err := image.WriteArchive(archive, idx, o.Version, o.Created); err != nil {
		t.Fatal(err)
	}

	// Unpack the tarball and read it as an OCI layout: one entry, the index, named v9.8.7.
	dir := t.TempDir()
	untar(t, archive, dir)
	for _, f := range []string{"oci-layout", "index.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the archive lacks %s: %v", f, err)
		}
	}
	lp, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	top, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	tm, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(tm.Manifests) != 1 || !tm.Manifests[0].MediaType.IsIndex() || tm.Manifests[0].Annotations[image.RefName] != "v9.8.7" {
		t.Fatalf("layout index.json: want one image index named v9.8.7, got %+v", tm.Manifests)
	}
	got, err := top.ImageIndex(tm.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	im, err := got.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if im.MediaType != types.OCIImageIndex || len(im.Manifests) != 1 || im.Manifests[0].Platform == nil ||
		im.Manifests[0].Platform.OS != "linux" || im.Manifests[0].Platform.Architecture != "amd64" {
		t.Fatalf("image index: want one linux/amd64 manifest, got %+v", im)
	}
	img, err := got.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cf.Config.Entrypoint, []string{"/herald"}) || cf.Config.User != "65532:65532" || cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("config: entrypoint %q user %q platform %s/%s; want [/herald] 65532:65532 linux/amd64",
			cf.Config.Entrypoint, cf.Config.User, cf.OS, cf.Architecture)
	}
	if cf.Config.Labels["org.opencontainers.image.version"] != "v9.8.7" || cf.Config.Labels["org.opencontainers.image.licenses"] != "Apache-2.0" {
		t.Errorf("labels %v lack the version or the licence", cf.Config.Labels)
	}
	if _, ok := cf.Config.ExposedPorts["8084/tcp"]; !ok {
		t.Errorf("exposed ports %v lack 8084/tcp", cf.Config.ExposedPorts)
	}

	// The filesystem as a container runtime unpacks it.
	fsDir := t.TempDir()
	headers := unpackImage(t, img, fsDir)
	for name, want := range map[string]string{
		"etc/passwd":                              "nonroot:x:65532:65532:",
		"etc/group":                               "nonroot:x:65532:",
		"etc/ssl/certs/ca-certificates.crt":       "-----BEGIN CERTIFICATE-----",
		"usr/share/zoneinfo/Asia/Shanghai":        "TZif",
		"usr/share/zoneinfo/Europe/Berlin":        "TZif",
		"usr/share/doc/herald/LICENSE":            "Apache License",
		"usr/share/doc/herald/NOTICE":             "herald",
		"usr/share/doc/ca-certificates/copyright": "MPL-2.0",
	} {
		b, err := os.ReadFile(filepath.Join(fsDir, name))
		if err != nil || !bytes.Contains(b, []byte(want)) {
			t.Errorf("/%s: want it to contain %q (err %v)", name, want, err)
		}
	}
	if h := headers["herald"]; h == nil || h.Typeflag != tar.TypeReg || h.Mode&0o111 == 0 {
		t.Errorf("/herald: want an executable file, got %+v", h)
	}
	for _, alias := range []string{"kube-eventer", "eventer"} {
		if h := headers[alias]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "herald" {
			t.Errorf("/%s: want a symlink to herald, got %+v", alias, h)
		}
	}
	if h := headers["home/nonroot"]; h == nil || h.Uid != image.UID || h.Gid != image.GID {
		t.Errorf("/home/nonroot: want owned by %d:%d, got %+v", image.UID, image.GID, h)
	}
	if h := headers["tmp"]; h == nil || h.Mode&0o1777 != 0o1777 {
		t.Errorf("/tmp: want mode 1777, got %+v", h)
	}
	for name, h := range headers {
		if !h.ModTime.Equal(o.Created) {
			t.Errorf("/%s: mtime %s, want the image's creation time %s (reproducible layers)", name, h.ModTime, o.Created)
			break
		}
	}

	// The extracted binary runs and reports the version, under each name a Deployment may use.
	for _, name := range []string{"herald", "kube-eventer", "eventer"} {
		out, err := exec.Command(filepath.Join(fsDir, name), "version").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "v9.8.7") {
			t.Errorf("/%s version: %v\n%s\nwant v9.8.7", name, err, out)
		}
	}
	// The zone files are valid TZif data Go can load (TZ=Asia/Shanghai is UTC+8).
	tz, err := os.ReadFile(filepath.Join(fsDir, "usr/share/zoneinfo/Asia/Shanghai"))
	if err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocationFromTZData("Asia/Shanghai", tz)
	if err != nil {
		t.Fatalf("the image's Asia/Shanghai: %v", err)
	}
	if _, off := time.Date(2026, 1, 1, 0, 0, 0, 0, loc).Zone(); off != 8*3600 {
		t.Errorf("the image's Asia/Shanghai: offset %d s, want 28800", off)
	}

	// Publishing: push the layout's entry to a registry (on 127.0.0.1) the way `crane push DIR
	// REF` does, pull it back by tag and compare digests.
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ref, err := name.ParseReference(strings.TrimPrefix(srv.URL, "http://")+"/heraldproject/herald:v9.8.7", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, got); err != nil {
		t.Fatalf("push: %v", err)
	}
	pulled, err := remote.Index(ref)
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	wantDigest, _ := got.Digest()
	if d, _ := pulled.Digest(); d != wantDigest {
		t.Errorf("pulled index %s, pushed %s", d, wantDigest)
	}
	pimg, err := remote.Image(ref, remote.WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64"}))
	if err != nil {
		t.Fatalf("pull linux/amd64: %v", err)
	}
	if d, _ := pimg.Digest(); d != im.Manifests[0].Digest {
		t.Errorf("pulled linux/amd64 image %s, want %s", d, im.Manifests[0].Digest)
	}

	// The same inputs give the same bytes.
	again := filepath.Join(t.TempDir(), "again.tar")
	idx2, err := image.Build(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := image.WriteArchive(again, idx2, o.Version, o.Created); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(archive)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Errorf("two builds of the same inputs differ (%d and %d bytes)", len(a), len(b))
	}
}

// TestBinaryChecked: a binary for the wrong architecture, or one that needs a dynamic loader,
// is refused with the fix, since it would not start on the empty base.
func TestBinaryChecked(t *testing.T) {
	bin := buildHerald(t, "amd64", "v0.0.0-test")
	_, err := image.Build(options(map[string]string{"linux/arm64": bin}))
	if err == nil || !strings.Contains(err.Error(), "GOARCH=arm64") {
		t.Errorf("an amd64 binary as linux/arm64: err = %v, want the GOARCH fix", err)
	}
	// Any dynamically linked program of the host will do.
	dyn, err := exec.LookPath("tar")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(dyn)
	if err != nil {
		t.Fatal(err)
	}
	if err := image.CheckBinary("linux/amd64", data); err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Errorf("%s (dynamically linked): err = %v, want the CGO_ENABLED=0 fix", dyn, err)
	}
	if err := image.CheckBinary("linux/amd64", []byte("#!/bin/sh\n")); err == nil || !strings.Contains(err.Error(), "not an ELF") {
		t.Errorf("a shell script: err = %v, want 'not an ELF'", err)
	}
}

// TestDockerfileSameLayout: the Dockerfile (for those who build with Docker) lays out the same
// files from the same code, on an empty base, with the same user and entrypoint.
func TestDockerfileSameLayout(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	for _, want := range []string{
		"go run ./cmd/image rootfs",
		"FROM scratch",
		"USER " + image.User,
		`ENTRYPOINT ["` + image.Entrypoint + `"]`,
		"--chown=" + image.User + " /rootfs/home/nonroot /home/nonroot",
		"EXPOSE 8084",
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	// The rootfs command writes the binary and the aliases the image has.
	dir := t.TempDir()
	bin := buildHerald(t, "amd64", "v0.0.0-test")
	cmd := exec.Command("go", "run", "./cmd/image", "rootfs", "-out", dir, "-binary", "linux/amd64="+bin)
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("image rootfs: %v\n%s", err, out)
	}
	for _, alias := range image.Aliases {
		if l, err := os.Readlink(filepath.Join(dir, alias)); err != nil || l != "herald" {
			t.Errorf("rootfs %s: link %q, %v; want herald", alias, l, err)
		}
	}
	for _, f := range []string{"herald", "etc/passwd", "etc/ssl/certs/ca-certificates.crt", "usr/share/zoneinfo/UTC", "usr/share/doc/herald/NOTICE"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("rootfs lacks /%s: %v", f, err)
		}
	}
}

func untar(t *testing.T, archive, dir string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// unpackImage writes the image's flattened filesystem into dir and returns its tar headers by
// path (without the leading slash).
func unpackImage(t *testing.T, img v1.Image, dir string) map[string]*tar.Header {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	headers := map[string]*tar.Header{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return headers
		}
		if err != nil {
			t.Fatal(err)
		}
		clean := strings.TrimSuffix(path.Clean(h.Name), "/")
		headers[clean] = h
		p := filepath.Join(dir, filepath.FromSlash(clean))
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(p, 0o755)
		case tar.TypeSymlink:
			err = os.Symlink(h.Linkname, p)
		case tar.TypeReg:
			var b []byte
			if b, err = io.ReadAll(tr); err == nil {
				err = os.WriteFile(p, b, os.FileMode(h.Mode)&0o777)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
