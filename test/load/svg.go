package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// writeSVG plots latency over time: pts are (seconds since the first creation, latency ms); per
// one-second bucket of creation time it draws the p50, p99 and max as three lines.
func writeSVG(path, title string, pts [][2]float64) error {
	if len(pts) == 0 {
		return nil
	}
	buckets := map[int][]float64{}
	maxT, maxL := 0, 0.0
	for _, p := range pts {
		b := int(p[0])
		buckets[b] = append(buckets[b], p[1])
		maxT = max(maxT, b)
		maxL = max(maxL, p[1])
	}
	// y axis: round the top up to a multiple of 100 ms.
	top := math.Max(100, math.Ceil(maxL/100)*100)
	const w, h, left, right, topM, bottom = 800.0, 400.0, 60.0, 20.0, 40.0, 50.0
	x := func(t float64) float64 { return left + t/float64(max(maxT, 1))*(w-left-right) }
	y := func(l float64) float64 { return h - bottom - l/top*(h-topM-bottom) }
	series := []struct {
		name, color string
		q           float64
	}{{"p50", "#1f77b4", 0.50}, {"p99", "#ff7f0e", 0.99}, {"max", "#d62728", 1}}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="12">`+"\n", w, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%.0f" y="20" font-size="14">herald %s: creation-to-delivery latency per second of creation time</text>`+"\n", left, title)
	// Axes and grid.
	for i := 0; i <= 5; i++ {
		l := top * float64(i) / 5
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/><text x="%.1f" y="%.1f" text-anchor="end">%.0f</text>`+"\n",
			left, y(l), w-right, y(l), left-5, y(l)+4, l)
	}
	for i := 0; i <= 6; i++ {
		t := float64(maxT) * float64(i) / 6
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%.0f</text>`+"\n", x(t), h-bottom+18, t)
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">seconds since the first event was created</text>`+"\n", (left+w-right)/2, h-10)
	fmt.Fprintf(&b, `<text transform="translate(15,%.1f) rotate(-90)" text-anchor="middle">latency ms</text>`+"\n", (topM+h-bottom)/2)
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n",
		left, h-bottom, w-right, h-bottom, left, topM, left, h-bottom)
	keys := make([]int, 0, len(buckets))
	for k := range buckets {
		keys = append(keys, k)
		sort.Float64s(buckets[k])
	}
	sort.Ints(keys)
	for si, s := range series {
		var pl []string
		for _, k := range keys {
			v := buckets[k]
			l := v[min(len(v)-1, int(s.q*float64(len(v))))]
			pl = append(pl, fmt.Sprintf("%.1f,%.1f", x(float64(k)), y(l)))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", s.color, strings.Join(pl, " "))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="%s">%s</text>`+"\n", w-right-90+float64(si)*30, topM-5, s.color, s.name)
	}
	b.WriteString("</svg>\n")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
