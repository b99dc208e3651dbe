package chat

import (
	"context"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/common/uri"
	"github.com/heraldproject/herald/sinks"
)

// TemplateFromParams reads the template override (body_template or custom_body_configmap) of
// a chat sink. It returns nil options when the user gave none: the sink's own layout applies.
// The template renders the whole JSON body of one event's message, with every interpolated
// value escaped for JSON, so a kube-eventer webhook template written for the robot keeps
// working.
func TemplateFromParams(p *uri.Params, t sinks.Target, env sinks.Env) *template.Options {
	o := template.FromParams(p, template.Options{
		Owner:    p.Owner(),
		SinkID:   t.ID,
		JSON:     true,
		Location: env.Location,
		Kube:     env.Kube,
		Metrics:  env.TemplateMetrics,
	})
	if o.Inline == "" && o.ConfigMapName == "" {
		return nil
	}
	return &o
}

// LoadTemplate loads o (from TemplateFromParams); nil options give a nil Body.
func LoadTemplate(env sinks.Env, o *template.Options) (*template.Body, error) {
	if o == nil {
		return nil, nil
	}
	ctx := env.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	return template.New(ctx, *o)
}

// Resources are what every chat sink holds and must release: its HTTP client, its body template
// (nil: the sink's own layout) and its robot's shared pacer. A sink embeds them, and with them
// Close.
type Resources struct {
	Client *httpx.Client
	Body   *template.Body
	Pacer  *Pacer
}

// Open builds a chat sink's Resources: an HTTP client from h, the template o (see LoadTemplate)
// and the pacer shared by every sink that posts to robot (see SharedPacer).
func Open(env sinks.Env, h httpx.Options, o *template.Options, robot string, pacing PacerOptions) (Resources, error) {
	client, err := httpx.NewClient(h)
	if err != nil {
		return Resources{}, err
	}
	body, err := LoadTemplate(env, o)
	if err != nil {
		client.Close()
		return Resources{}, err
	}
	return Resources{Client: client, Body: body, Pacer: SharedPacer(robot, pacing)}, nil
}

// Close implements core.Sink's Close: it stops the template's ConfigMap watch, closes the
// client's idle connections and releases the pacer.
func (r Resources) Close() error {
	if r.Body != nil {
		r.Body.Close()
	}
	r.Client.Close()
	r.Pacer.Release()
	return nil
}
