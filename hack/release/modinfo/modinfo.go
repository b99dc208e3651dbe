// Package modinfo reads what went into a Go binary (its build information: the main module,
// every module linked in, the Go version) and the licence of each module from the module
// cache, for the release's SBOM and NOTICE.
package modinfo

import (
	"bytes"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"unicode"
)

// Module is one module compiled into the binary.
type Module struct {
	Path, Version, Sum string
	// License is an SPDX identifier, or "" when none was recognised.
	License string
	// LicenseFile is the licence file's name in the module ("" if none was found).
	LicenseFile string
	// Notice is the text of the module's NOTICE file, if it has one (Apache-2.0 §4(d)).
	Notice string
}

// Binary is a Go binary's build information.
type Binary struct {
	GoVersion string
	Main      Module
	Deps      []Module
	Settings  map[string]string
}

// Read reads a Go binary's build information and each dependency's licence from modCache
// ($(go env GOMODCACHE)); a module missing from the cache is an error naming it (run `go mod
// download`).
func Read(binary, modCache string) (*Binary, error) {
	info, err := buildinfo.ReadFile(binary)
	if err != nil {
		return nil, fmt.Errorf("%s: %v (is it a Go binary?)", binary, err)
	}
	b := &Binary{GoVersion: info.GoVersion, Settings: map[string]string{},
		Main: Module{Path: info.Main.Path, Version: info.Main.Version}}
	for _, s := range info.Settings {
		b.Settings[s.Key] = s.Value
	}
	for _, d := range info.Deps {
		m := Module{Path: d.Path, Version: d.Version, Sum: d.Sum}
		src := d
		if d.Replace != nil {
			src = d.Replace
			m.Version, m.Sum = d.Replace.Version, d.Replace.Sum
		}
		dir := filepath.Join(modCache, escape(src.Path)+"@"+src.Version)
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("module %s@%s is not in the module cache %s: run `go mod download` in herald's checkout", src.Path, src.Version, modCache)
		}
		m.License, m.LicenseFile = detectLicense(dir)
		if n, err := os.ReadFile(filepath.Join(dir, "NOTICE")); err == nil {
			m.Notice = strings.TrimSpace(string(n))
		}
		b.Deps = append(b.Deps, m)
	}
	return b, nil
}

// ModCache returns $(go env GOMODCACHE).
func ModCache() (string, error) {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMODCACHE: %v", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// escape is the module cache's case encoding: an upper-case letter becomes '!' and its lower case.
func escape(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

var licenseFiles = []string{"LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE", "COPYING", "LICENSE-APACHE-2.0.txt", "LICENSE.MIT"}

// detectLicense recognises the common open source licences by their wording.
func detectLicense(dir string) (id, file string) {
	for _, name := range licenseFiles {
		text, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		return Classify(text), name
	}
	return "", ""
}

// Classify returns the SPDX identifier of a licence text, or "" when it is not one it knows.
func Classify(text []byte) string {
	t := strings.Join(strings.Fields(string(bytes.ToLower(text))), " ")
	has := func(s string) bool { return strings.Contains(t, s) }
	switch {
	case has("apache license") && has("version 2.0"):
		return "Apache-2.0"
	case has("mozilla public license") && has("2.0"):
		return "MPL-2.0"
	case has("permission is hereby granted, free of charge"):
		return "MIT"
	case has("permission to use, copy, modify, and/or distribute this software for any purpose"),
		has("permission to use, copy, modify, and distribute this software for any purpose"):
		return "ISC"
	case has("redistribution and use in source and binary forms"):
		if has("neither the name") || has("names of its contributors may be used") || has("name of the copyright holder nor") {
			return "BSD-3-Clause"
		}
		return "BSD-2-Clause"
	}
	return ""
}
