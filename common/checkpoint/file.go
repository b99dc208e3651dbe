package checkpoint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File is a checkpoint in a local file (--checkpoint=file:PATH), replaced atomically (write to
// a temporary file in the same directory, sync, rename), so a crash leaves the old or the new
// checkpoint, never half of one.
type File struct {
	Path string
}

// Load reads the file.
func (f *File) Load() (Checkpoint, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return Checkpoint{}, ErrNotFound
	}
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%s: %w", f, err)
	}
	c, err := Decode(b)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%s: %w", f, err)
	}
	return c, nil
}

// Save writes the file atomically.
func (f *File) Save(c Checkpoint) error {
	dir := filepath.Dir(f.Path)
	tmp, err := os.CreateTemp(dir, ".herald-checkpoint-*")
	if err != nil {
		return fmt.Errorf("%s: %w (the directory must exist and be writable)", f, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this does nothing
	if _, err := tmp.Write(Encode(c)); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %w", f, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %w", f, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%s: %w", f, err)
	}
	if err := os.Rename(tmp.Name(), f.Path); err != nil {
		return fmt.Errorf("%s: %w", f, err)
	}
	return nil
}

func (f *File) String() string { return "file:" + f.Path }
