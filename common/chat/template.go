package chat

import (
	"context"

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
