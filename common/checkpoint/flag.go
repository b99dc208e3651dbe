package checkpoint

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
)

// Parse reads a --checkpoint value: "off", or a comma-separated list of "file:PATH" and
// "configmap:NAMESPACE/NAME". A file is saved after every delivered batch, a ConfigMap at most
// once per interval. It returns no targets for "off". client may be nil to check the syntax
// only (a ConfigMap store without a client cannot load or save).
func Parse(value string, client kubernetes.Interface, interval time.Duration) ([]Target, error) {
	if value == "off" {
		return nil, nil
	}
	var out []Target
	seen := map[string]bool{}
	for _, one := range strings.Split(value, ",") {
		s, err := parseOne(strings.TrimSpace(one), client)
		if err != nil {
			return nil, err
		}
		if s == nil {
			return nil, fmt.Errorf("--checkpoint=%s: off cannot be combined with a store; write --checkpoint=off alone", value)
		}
		if seen[s.String()] {
			return nil, fmt.Errorf("--checkpoint=%s: %s is given twice", value, s)
		}
		seen[s.String()] = true
		t := Target{Store: s, Interval: interval}
		if _, ok := s.(*File); ok {
			t.Interval = 0
		}
		out = append(out, t)
	}
	return out, nil
}

func parseOne(value string, client kubernetes.Interface) (Store, error) {
	const fix = "write --checkpoint=configmap:NAMESPACE/NAME, --checkpoint=file:PATH or --checkpoint=off"
	kind, rest, _ := strings.Cut(value, ":")
	switch kind {
	case "off":
		if rest != "" {
			return nil, fmt.Errorf("--checkpoint=%s: %s", value, fix)
		}
		return nil, nil
	case "file":
		if rest == "" {
			return nil, fmt.Errorf("--checkpoint=%s: no path; %s", value, fix)
		}
		return &File{Path: filepath.Clean(rest)}, nil
	case "configmap":
		ns, name, ok := strings.Cut(rest, "/")
		if !ok || ns == "" || name == "" {
			return nil, fmt.Errorf("--checkpoint=%s: want configmap:NAMESPACE/NAME, e.g. configmap:herald/herald-checkpoint", value)
		}
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return nil, fmt.Errorf("--checkpoint=%s: namespace %q: %s", value, ns, strings.Join(errs, "; "))
		}
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			return nil, fmt.Errorf("--checkpoint=%s: ConfigMap name %q: %s", value, name, strings.Join(errs, "; "))
		}
		return &ConfigMap{Client: client, Namespace: ns, Name: name}, nil
	}
	return nil, fmt.Errorf("--checkpoint=%s: unknown kind %q; %s", value, kind, fix)
}

// LoadNewest loads every target's checkpoint and returns the newest (by saved time): after a
// container restart the local file is ahead of the ConfigMap; on a new node only the ConfigMap
// has one. It returns ErrNotFound when none has one. A checkpoint that cannot be decoded (garbled,
// or written by something else) is passed over and returned in garbled, for the caller to log
// as an error and count as a gap: the positions it held are lost. Any other error (RBAC, I/O)
// is returned.
func LoadNewest(targets []Target) (best Checkpoint, from Store, garbled []error, err error) {
	for _, t := range targets {
		c, err := t.Store.Load()
		var d *DecodeError
		switch {
		case errors.Is(err, ErrNotFound):
			continue
		case errors.As(err, &d):
			garbled = append(garbled, err)
			continue
		case err != nil:
			return Checkpoint{}, nil, garbled, err
		}
		if from == nil || c.Time.After(best.Time) {
			best, from = c, t.Store
		}
	}
	if from == nil {
		return Checkpoint{}, nil, garbled, ErrNotFound
	}
	return best, from, garbled, nil
}
