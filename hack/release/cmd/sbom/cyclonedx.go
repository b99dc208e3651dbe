package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"herald.local/hack/release/modinfo"
)

// The subset of CycloneDX 1.5 (https://cyclonedx.org/docs/1.5/json/) herald's SBOM fills.
type bom struct {
	BOMFormat    string       `json:"bomFormat"`
	SpecVersion  string       `json:"specVersion"`
	SerialNumber string       `json:"serialNumber"`
	Version      int          `json:"version"`
	Metadata     metadata     `json:"metadata"`
	Components   []component  `json:"components"`
	Dependencies []dependency `json:"dependencies"`
}

type metadata struct {
	Timestamp  string     `json:"timestamp"`
	Tools      tools      `json:"tools"`
	Component  component  `json:"component"`
	Properties []property `json:"properties,omitempty"`
}

type tools struct {
	Components []component `json:"components"`
}

type component struct {
	Type       string     `json:"type"`
	BOMRef     string     `json:"bom-ref,omitempty"`
	Name       string     `json:"name"`
	Version    string     `json:"version,omitempty"`
	PURL       string     `json:"purl,omitempty"`
	Licenses   []license  `json:"licenses,omitempty"`
	Properties []property `json:"properties,omitempty"`
}

type license struct {
	License struct {
		ID   string `json:"id,omitempty"`
		Name string `json:"name,omitempty"`
	} `json:"license"`
}

type property struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type dependency struct {
	Ref       string   `json:"ref"`
	DependsOn []string `json:"dependsOn"`
}

func purl(path, version string) string { return "pkg:golang/" + path + "@" + version }

func licenses(id string) []license {
	var l license
	if id == "" {
		l.License.Name = "unknown"
	} else {
		l.License.ID = id
	}
	return []license{l}
}

// writeCycloneDX describes the binary b as herald at version: the main component, the Go
// standard library, and every module linked in with its version, go.sum hash and licence.
func writeCycloneDX(w io.Writer, b *modinfo.Binary, version string, ts time.Time) error {
	main := component{Type: "application", Name: b.Main.Path, Version: version,
		PURL: purl(b.Main.Path, version), Licenses: licenses("Apache-2.0")}
	main.BOMRef = main.PURL
	var props []property
	for _, k := range []string{"GOOS", "GOARCH", "CGO_ENABLED", "-trimpath", "-ldflags"} {
		if v, ok := b.Settings[k]; ok {
			props = append(props, property{Name: "go:build:" + k, Value: v})
		}
	}
	props = append(props, property{Name: "go:version", Value: b.GoVersion})
	std := component{Type: "library", Name: "stdlib", Version: b.GoVersion,
		PURL: purl("stdlib", b.GoVersion), Licenses: licenses("BSD-3-Clause")}
	std.BOMRef = std.PURL
	comps := []component{std}
	for _, d := range b.Deps {
		c := component{Type: "library", Name: d.Path, Version: d.Version, PURL: purl(d.Path, d.Version), Licenses: licenses(d.License)}
		c.BOMRef = c.PURL
		if d.Sum != "" {
			c.Properties = []property{{Name: "go:sum", Value: d.Sum}}
		}
		comps = append(comps, c)
	}
	sort.Slice(comps, func(i, j int) bool { return comps[i].BOMRef < comps[j].BOMRef })
	dep := dependency{Ref: main.BOMRef}
	for _, c := range comps {
		dep.DependsOn = append(dep.DependsOn, c.BOMRef)
	}
	out := bom{
		BOMFormat: "CycloneDX", SpecVersion: "1.5", Version: 1,
		Metadata: metadata{
			Timestamp:  ts.Format(time.RFC3339),
			Tools:      tools{Components: []component{{Type: "application", Name: "herald hack/release/cmd/sbom"}}},
			Component:  main,
			Properties: props,
		},
		Components:   comps,
		Dependencies: []dependency{dep},
	}
	// A serial number derived from the content, so the same binary gives the same SBOM.
	body, err := json.Marshal(out)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	sum[6] = sum[6]&0x0f | 0x50 // a name-based (v5-style) UUID
	sum[8] = sum[8]&0x3f | 0x80
	out.SerialNumber = fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
