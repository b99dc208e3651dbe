package image

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// RefName is the annotation naming an image in an OCI layout (skopeo's oci:DIR:REF).
const RefName = "org.opencontainers.image.ref.name"

// WriteLayout writes idx into a new OCI image layout in dir, as the layout's one entry named
// ref: `crane push DIR REPO:TAG` and `skopeo copy --all oci:DIR docker://REPO:TAG` publish it
// (every platform) as it is.
func WriteLayout(dir string, idx v1.ImageIndex, ref string) error {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendIndex(idx, layout.WithAnnotations(map[string]string{RefName: ref}))
}

// WriteArchive writes idx as an OCI layout tarball at file (skopeo's oci-archive:): the layout
// of WriteLayout, tarred with sorted names, root ownership and mtime, so the same image gives
// the same bytes.
func WriteArchive(file string, idx v1.ImageIndex, ref string, mtime time.Time) error {
	dir, err := os.MkdirTemp("", "herald-oci-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := WriteLayout(dir, idx, ref); err != nil {
		return err
	}
	return tarDir(file, dir, mtime)
}

func tarDir(file, dir string, mtime time.Time) error {
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(names)
	out, err := os.Create(file)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(out)
	for _, p := range names {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h := &tar.Header{Name: filepath.ToSlash(rel), ModTime: mtime.UTC(), Mode: 0o644, Format: tar.FormatPAX}
		if fi.IsDir() {
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, h.Name+"/", 0o755
		} else {
			h.Typeflag, h.Size = tar.TypeReg, fi.Size()
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if !fi.IsDir() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			if err != nil {
				return fmt.Errorf("%s: %v", rel, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return out.Close()
}

// WriteDir writes files under dir (for the Dockerfile, which copies the result onto scratch).
// Ownership is left to the Dockerfile (COPY --chown), since an unprivileged build cannot chown.
func WriteDir(dir string, files []File) error {
	sorted := append([]File(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, f := range sorted {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		var err error
		switch {
		case f.Dir:
			err = os.MkdirAll(p, 0o755)
			if err == nil {
				err = os.Chmod(p, fs.FileMode(f.Mode&0o777)|modeBits(f.Mode))
			}
		case f.Link != "":
			_ = os.Remove(p)
			err = os.Symlink(f.Link, p)
		default:
			err = os.WriteFile(p, f.Data, fs.FileMode(f.Mode))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func modeBits(m int64) fs.FileMode {
	if m&0o1000 != 0 {
		return fs.ModeSticky
	}
	return 0
}
