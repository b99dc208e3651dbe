package template

import (
	"context"
	"testing"
)

// BenchmarkRender renders the sample event (quotes, a newline and Chinese text in its message,
// so the escaper has work to do) in JSON mode.
func BenchmarkRender(b *testing.B) {
	templates := map[string]string{"kube-eventer default": KubeEventerDefault}
	for name, text := range kubeEventerTemplates(b) {
		if name == "feishu-v2.yaml" || name == "slack-attachments.yaml" {
			templates[name] = text
		}
	}
	for name, text := range templates {
		b.Run(name, func(b *testing.B) {
			body, err := New(context.Background(), Options{Owner: "bench", Inline: text, JSON: true})
			if err != nil {
				b.Fatal(err)
			}
			e := SampleEvent()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := body.Render(e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
