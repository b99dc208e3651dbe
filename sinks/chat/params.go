package chat

import (
	"fmt"
	"slices"

	"github.com/heraldproject/herald/common/httpx"
	"github.com/heraldproject/herald/common/template"
	"github.com/heraldproject/herald/common/uri"
)

// PacingParams are the pacing parameters every chat sink declares.
var PacingParams = []uri.Param{
	{Name: "max_per_minute", Default: fmt.Sprint(DefaultPerMinute), Example: "10",
		Help: "most messages sent to this robot in any 60-second window (the services allow about 20); when events come faster they are merged into digest messages. Sinks that post to the same robot share it"},
	{Name: "burst", Default: fmt.Sprint(DefaultBurst), Example: "1",
		Help: "messages that may go out back to back after a quiet spell (below max_per_minute); the slot refills at max_per_minute minus burst a minute"},
}

// Params are the parameters every chat sink declares besides its own: pacing, the body
// template override (template.Params) and HTTP settings (httpx.Params).
var Params = slices.Concat(PacingParams, template.Params, httpx.Params)

// PacingFromParams reads PacingParams; problems are recorded in p.
func PacingFromParams(p *uri.Params) PacerOptions {
	o := PacerOptions{PerMinute: p.Int("max_per_minute", 1, 10_000)}
	if p.Has("burst") {
		o.Burst = p.Int("burst", 1, 10_000)
		if o.PerMinute > 1 && o.Burst >= o.PerMinute {
			p.Errorf("burst", fmt.Sprintf("write a number below max_per_minute (%d)", o.PerMinute), "%d leaves no room to refill within a minute", o.Burst)
		}
	}
	return o.withDefaults()
}
