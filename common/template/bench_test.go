package template

import (
	"context"
	"testing"
)

// BenchmarkRender renders the sample event (quotes, a newline and Chinese text in its message,
// so the escaper has work to do) as sinks load templates: kube-eventer's default body as the
// webhook loads it (JSON, kube-eventer mode), and two of kube-eventer's documented ConfigMaps
// as a chat robot's body_template (JSON). Each with its plan, and with text/template (the plan
// taken away: what a template that has no plan costs, and what every render cost before plans).
func BenchmarkRender(b *testing.B) {
	type bench struct {
		text        string
		kubeEventer bool
	}
	templates := map[string]bench{
		"kube-eventer default":         {KubeEventerDefault, true},
		"kube-eventer default, JSON":   {KubeEventerDefault, false},
		"feishu-v2.yaml":               {},
		"slack-attachments.yaml":       {},
		"compat/002.tmpl as ConfigMap": {},
	}
	for name, text := range kubeEventerTemplates(b) {
		if bt, ok := templates[name]; ok {
			bt.text = text
			templates[name] = bt
		}
	}
	templates["compat/002.tmpl as ConfigMap"] = bench{corpus(b)["compat/002.tmpl"], true}
	for name, bt := range templates {
		for _, engine := range []string{"plan", "text-template"} {
			b.Run(name+"/"+engine, func(b *testing.B) {
				body, err := New(context.Background(), Options{Owner: "bench", Inline: bt.text, JSON: true, KubeEventer: bt.kubeEventer,
					Warnf: func(string, string, ...any) {}})
				if err != nil {
					b.Fatal(err)
				}
				c := *body.cur.Load()
				if c.plan == nil {
					b.Fatal("no plan")
				}
				if engine == "text-template" {
					c.plan = nil
				}
				body.cur.Store(&c)
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
}
