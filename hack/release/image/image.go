// Package image builds herald's container image without a Docker engine: the static binary on
// an empty base, plus CA certificates, time zones, a non-root user and the licences, as a
// multi-arch OCI image index written to an OCI layout tarball (what `skopeo copy
// oci-archive:` and, unpacked, `crane push` publish as it is). The Dockerfile lays out the same
// files from RootFS.
package image

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// UID and GID of the image's user, as distroless's "nonroot" (the manifests and the chart set
// runAsUser to the same).
const (
	UID  = 65532
	GID  = 65532
	User = "65532:65532"
)

// Entrypoint is the image's entrypoint; Aliases are the same binary under kube-eventer's names,
// so a kube-eventer Deployment whose command is /kube-eventer or /eventer runs herald.
var (
	Entrypoint = "/herald"
	Aliases    = []string{"/kube-eventer", "/eventer"}
)

// Options say what goes into the image.
type Options struct {
	// Version, Revision and Source label the image (org.opencontainers.image.*).
	Version, Revision, Source string
	// Created is the image's creation time and every file's mtime (the commit's time, so the
	// same commit builds the same image).
	Created time.Time
	// Binaries maps "linux/amd64" to the path of a static herald built for it.
	Binaries map[string]string
	// CACerts is a PEM bundle (Debian's /etc/ssl/certs/ca-certificates.crt), CACertsCopyright
	// its licence text; ZoneinfoZip is Go's lib/time/zoneinfo.zip.
	CACerts, CACertsCopyright, ZoneinfoZip string
	// License and Notice are herald's LICENSE and NOTICE files.
	License, Notice string
}

// File is one entry of the image's root filesystem.
type File struct {
	Name     string // absolute path, e.g. /etc/passwd
	Mode     int64  // permission bits
	Dir      bool
	Link     string // for a symlink: its target
	UID, GID int
	Data     []byte
}

// RootFS returns the files every platform's image shares: /etc/passwd and /etc/group with the
// non-root user, the CA bundle at /etc/ssl/certs/ca-certificates.crt (where Go and OpenSSL
// look), the IANA time zones under /usr/share/zoneinfo (for TZ and --timezone), a writable
// /tmp, the user's home and the licences under /usr/share/doc.
func RootFS(o Options) ([]File, error) {
	read := func(what, p string) ([]byte, error) {
		if p == "" {
			return nil, fmt.Errorf("%s: no path given", what)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", what, err)
		}
		return b, nil
	}
	certs, err := read("CA certificates (Debian: apt-get install ca-certificates)", o.CACerts)
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(certs, []byte("-----BEGIN CERTIFICATE-----")) {
		return nil, fmt.Errorf("CA certificates %s: no PEM certificate in it", o.CACerts)
	}
	certsCopyright, err := read("CA certificates' copyright", o.CACertsCopyright)
	if err != nil {
		return nil, err
	}
	license, err := read("LICENSE", o.License)
	if err != nil {
		return nil, err
	}
	notice, err := read("NOTICE", o.Notice)
	if err != nil {
		return nil, err
	}
	files := []File{
		{Name: "/etc", Dir: true, Mode: 0o755},
		{Name: "/etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{Name: "/etc/group", Mode: 0o644, Data: []byte("root:x:0:\nnonroot:x:65532:\n")},
		{Name: "/etc/ssl", Dir: true, Mode: 0o755},
		{Name: "/etc/ssl/certs", Dir: true, Mode: 0o755},
		{Name: "/etc/ssl/certs/ca-certificates.crt", Mode: 0o644, Data: certs},
		{Name: "/home", Dir: true, Mode: 0o755},
		{Name: "/home/nonroot", Dir: true, Mode: 0o700, UID: UID, GID: GID},
		{Name: "/tmp", Dir: true, Mode: 0o1777},
		{Name: "/usr", Dir: true, Mode: 0o755},
		{Name: "/usr/share", Dir: true, Mode: 0o755},
		{Name: "/usr/share/doc", Dir: true, Mode: 0o755},
		{Name: "/usr/share/doc/ca-certificates", Dir: true, Mode: 0o755},
		{Name: "/usr/share/doc/ca-certificates/copyright", Mode: 0o644, Data: certsCopyright},
		{Name: "/usr/share/doc/herald", Dir: true, Mode: 0o755},
		{Name: "/usr/share/doc/herald/LICENSE", Mode: 0o644, Data: license},
		{Name: "/usr/share/doc/herald/NOTICE", Mode: 0o644, Data: notice},
	}
	zones, err := zoneinfo(o.ZoneinfoZip)
	if err != nil {
		return nil, err
	}
	return append(files, zones...), nil
}

// zoneinfo unpacks Go's zoneinfo.zip (the IANA database, as the Go release ships it) into
// /usr/share/zoneinfo, one file per zone, the layout Go's time.LoadLocation reads.
func zoneinfo(zipPath string) ([]File, error) {
	if zipPath == "" {
		return nil, fmt.Errorf("time zones: no zoneinfo.zip given (it is $(go env GOROOT)/lib/time/zoneinfo.zip)")
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, fmt.Errorf("time zones: %v", err)
	}
	defer zr.Close()
	dirs := map[string]bool{"/usr/share/zoneinfo": true}
	var files []File
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		name := path.Join("/usr/share/zoneinfo", path.Clean("/"+f.Name))
		for d := path.Dir(name); d != "/usr/share"; d = path.Dir(d) {
			dirs[d] = true
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("time zones: %s: %v", f.Name, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("time zones: %s: %v", f.Name, err)
		}
		files = append(files, File{Name: name, Mode: 0o644, Data: b})
	}
	if len(files) < 100 {
		return nil, fmt.Errorf("time zones: %s holds %d zones; is it Go's lib/time/zoneinfo.zip?", zipPath, len(files))
	}
	for d := range dirs {
		files = append(files, File{Name: d, Dir: true, Mode: 0o755})
	}
	return files, nil
}

// BinaryFiles are the per-platform files: the binary at /herald and its aliases as symlinks.
func BinaryFiles(bin []byte) []File {
	files := []File{{Name: Entrypoint, Mode: 0o755, Data: bin}}
	for _, a := range Aliases {
		files = append(files, File{Name: a, Link: strings.TrimPrefix(Entrypoint, "/")})
	}
	return files
}

// ReadBinary reads the binary at path and checks it with CheckBinary.
func ReadBinary(platform, path string) ([]byte, error) {
	bin, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := CheckBinary(platform, bin); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return bin, nil
}

// CheckBinary verifies that bin is a static ELF executable for platform ("linux/amd64"): an
// image whose binary is for another architecture or needs a dynamic loader does not start on
// an empty base.
func CheckBinary(platform string, bin []byte) error {
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return fmt.Errorf("%s binary: not an ELF executable (%v); build it with GOOS=linux", platform, err)
	}
	defer f.Close()
	want := map[string]elf.Machine{"linux/amd64": elf.EM_X86_64, "linux/arm64": elf.EM_AARCH64}[platform]
	if want == 0 {
		return fmt.Errorf("platform %q: herald's image is built for linux/amd64 and linux/arm64", platform)
	}
	if f.Machine != want {
		return fmt.Errorf("%s binary is for %s, not %s; build it with GOARCH=%s", platform, f.Machine, want, path.Base(platform))
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s binary is dynamically linked (it needs a loader the empty base lacks); build it with CGO_ENABLED=0", platform)
		}
	}
	return nil
}

// Layer packs files into one OCI layer (a gzipped tar), sorted, owned by root unless the file
// says otherwise, every mtime set to created.
func Layer(files []File, created time.Time) (v1.Layer, error) {
	sorted := append([]File(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range sorted {
		h := &tar.Header{Name: strings.TrimPrefix(f.Name, "/"), Mode: f.Mode, Uid: f.UID, Gid: f.GID, ModTime: created.UTC(), Format: tar.FormatPAX}
		switch {
		case f.Dir:
			h.Typeflag, h.Name = tar.TypeDir, h.Name+"/"
		case f.Link != "":
			h.Typeflag, h.Linkname, h.Mode = tar.TypeSymlink, f.Link, 0o777
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.Data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(f.Data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// Build returns the multi-arch image index: per platform, the shared base layer and a layer
// with the binary and its aliases.
func Build(o Options) (v1.ImageIndex, error) {
	if len(o.Binaries) == 0 {
		return nil, fmt.Errorf("no binaries given")
	}
	base, err := RootFS(o)
	if err != nil {
		return nil, err
	}
	baseLayer, err := Layer(base, o.Created)
	if err != nil {
		return nil, err
	}
	var platforms []string
	for p := range o.Binaries {
		platforms = append(platforms, p)
	}
	sort.Strings(platforms)
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range platforms {
		bin, err := ReadBinary(p, o.Binaries[p])
		if err != nil {
			return nil, err
		}
		binLayer, err := Layer(BinaryFiles(bin), o.Created)
		if err != nil {
			return nil, err
		}
		img, err := platformImage(o, p, baseLayer, binLayer)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		osName, arch, _ := strings.Cut(p, "/")
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: osName, Architecture: arch}},
		})
	}
	return idx, nil
}

func platformImage(o Options, platform string, layers ...v1.Layer) (v1.Image, error) {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err := mutate.AppendLayers(img, layers...)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	osName, arch, _ := strings.Cut(platform, "/")
	cf.OS, cf.Architecture = osName, arch
	cf.Created = v1.Time{Time: o.Created.UTC()}
	cf.Author = "herald"
	cf.Config = v1.Config{
		Entrypoint:   []string{Entrypoint},
		User:         User,
		WorkingDir:   "/",
		Env:          []string{"PATH=/"},
		ExposedPorts: map[string]struct{}{"8084/tcp": {}},
		Labels:       Labels(o),
	}
	for i := range cf.History {
		cf.History[i].Created = cf.Created
	}
	return mutate.ConfigFile(img, cf)
}

// Labels are the OCI annotations the image carries (also used on the index).
func Labels(o Options) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":       "herald",
		"org.opencontainers.image.description": "Kubernetes events, filtered and formatted, to chat robots, webhooks, Kafka, databases and more; a drop-in for kube-eventer",
		"org.opencontainers.image.licenses":    "Apache-2.0",
		"org.opencontainers.image.version":     o.Version,
		"org.opencontainers.image.created":     o.Created.UTC().Format(time.RFC3339),
	}
	if o.Revision != "" {
		l["org.opencontainers.image.revision"] = o.Revision
	}
	if o.Source != "" {
		l["org.opencontainers.image.source"] = o.Source
	}
	return l
}
