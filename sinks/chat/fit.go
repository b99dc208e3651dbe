package chat

import (
	"errors"
	"fmt"
	"sort"
)

// DefaultItemMessageBytes is how much of each event's message a digest line keeps.
const DefaultItemMessageBytes = 160

// ErrNoFit is returned when not even the smallest message fits the limit: the limit is too
// small for the layout's fixed parts (a template, mentions, labels).
var ErrNoFit = errors.New("message does not fit the size limit")

// RenderView encodes a view as the payload to send, and reports the size the service limits:
// the bytes of the message text (Work WeChat's content), or of the whole body (Feishu).
type RenderView func(v *View) (payload []byte, size int, err error)

// RenderSingle encodes one event's message, like RenderView.
type RenderSingle func(f Fields) (payload []byte, size int, err error)

// FitOptions say how large a message may be.
type FitOptions struct {
	// Limit is the largest size render may report.
	Limit int
	// ItemMessageBytes cuts each named event's message in a digest (default
	// DefaultItemMessageBytes).
	ItemMessageBytes int
}

// FitDigest chooses the largest view of d whose rendering fits o.Limit and returns its
// payload: first as many groups as fit (most recent first, each with its counts), then as many
// named events as fit, taken in turn from each group so every group shows its latest events.
// The rest are counted in "and N more". It fails with ErrNoFit only when the view with no
// group fits neither.
func FitDigest(d *Digest, o FitOptions, render RenderView) ([]byte, *View, error) {
	if o.ItemMessageBytes <= 0 {
		o.ItemMessageBytes = DefaultItemMessageBytes
	}
	items := make([][]Fields, len(d.Groups))
	for i, g := range d.Groups {
		items[i] = make([]Fields, len(g.Events))
		for j, f := range g.Events {
			f.Message = Truncate(OneLine(f.Message), o.ItemMessageBytes)
			items[i][j] = f
		}
	}
	var best []byte
	var bestView *View
	var renderErr error
	try := func(groups, named int) bool {
		if renderErr != nil {
			return false
		}
		v := buildView(d, items, groups, named)
		payload, size, err := render(v)
		if err != nil {
			renderErr = err
			return false
		}
		if size > o.Limit {
			return false
		}
		best, bestView = payload, v
		return true
	}
	if !try(0, 0) {
		if renderErr != nil {
			return nil, nil, renderErr
		}
		return nil, nil, fmt.Errorf("%w: even a digest that names no event is over %d bytes", ErrNoFit, o.Limit)
	}
	groups := largest(len(d.Groups), func(n int) bool { return try(n, 0) })
	total := 0
	for _, g := range d.Groups[:groups] {
		total += len(g.Events)
	}
	named := largest(total, func(n int) bool { return try(groups, n) })
	// The last call to try may have been a failing one: render the choice again.
	if !try(groups, named) {
		if renderErr != nil {
			return nil, nil, renderErr
		}
		return nil, nil, fmt.Errorf("%w: the renderer is not deterministic", ErrNoFit)
	}
	return best, bestView, nil
}

// largest returns the largest n in [0, max] for which ok(n) holds, assuming ok(0) holds and
// ok mostly holds for smaller n when it holds for larger ones (a binary search).
func largest(max int, ok func(int) bool) int {
	// sort.Search finds the smallest n with !ok(n).
	n := sort.Search(max+1, func(n int) bool { return n > 0 && !ok(n) })
	return n - 1
}

// buildView shows the first groups, and named events taken round-robin from them.
func buildView(d *Digest, items [][]Fields, groups, named int) *View {
	v := &View{Digest: d, Groups: make([]GroupView, groups)}
	for i := range groups {
		v.Groups[i] = GroupView{Group: d.Groups[i]}
	}
	for round := 0; named > 0; round++ {
		added := false
		for i := 0; i < groups && named > 0; i++ {
			if round < len(items[i]) {
				v.Groups[i].Shown = append(v.Groups[i].Shown, items[i][round])
				named--
				added = true
			}
		}
		if !added {
			break
		}
	}
	for i := range v.Groups {
		v.Groups[i].More = len(d.Groups[i].Events) - len(v.Groups[i].Shown)
	}
	for _, g := range d.Groups[groups:] {
		v.HiddenGroups++
		v.HiddenEvents += len(g.Events)
	}
	return v
}

// restartMessageBytes is how much of a restart report's message is kept while its log tails
// are cut: the logs say more than the message, which repeats the headline.
const restartMessageBytes = 1 << 10

// FitSingle renders one event within limit, cutting its message (with Marker). For a restart
// report with log tails, the message is first cut to restartMessageBytes; if the whole logs
// then fit, the message gets the room left, otherwise the log tails are cut (their ends kept,
// behind Marker), down to nothing before the message is cut further. It fails with ErrNoFit
// when even an empty message is too large.
func FitSingle(f Fields, limit int, render RenderSingle) ([]byte, error) {
	payload, size, err := render(f)
	if err != nil {
		return nil, err
	}
	if size <= limit {
		return payload, nil
	}
	if f.PreviousLog != "" || f.CurrentLog != "" {
		short := f
		short.Message = Truncate(f.Message, restartMessageBytes)
		if _, size, err := render(short); err != nil {
			return nil, err
		} else if size <= limit {
			return fitMessage(f, limit, render)
		}
		f = short
		prev, cur := f.PreviousLog, f.CurrentLog
		withLogs := func(n int) Fields {
			g := f
			// The previous log (the container that died) keeps three quarters of the room.
			g.PreviousLog = Tail(prev, n-n/4)
			g.CurrentLog = Tail(cur, n/4)
			if cur == "" {
				g.PreviousLog = Tail(prev, n)
			}
			if prev == "" {
				g.CurrentLog = Tail(cur, n)
			}
			return g
		}
		var best []byte
		var renderErr error
		try := func(n int) bool {
			if renderErr != nil {
				return false
			}
			p, size, err := render(withLogs(n))
			if err != nil {
				renderErr = err
				return false
			}
			if size > limit {
				return false
			}
			best = p
			return true
		}
		if try(0) {
			n := largest(len(prev)+len(cur), try)
			if !try(n) {
				if renderErr != nil {
					return nil, renderErr
				}
				return nil, fmt.Errorf("%w: the renderer is not deterministic", ErrNoFit)
			}
			return best, nil
		}
		if renderErr != nil {
			return nil, renderErr
		}
		f.PreviousLog, f.CurrentLog = "", ""
	}
	return fitMessage(f, limit, render)
}

// fitMessage cuts f's message until render reports a size within limit.
func fitMessage(f Fields, limit int, render RenderSingle) ([]byte, error) {
	msg := f.Message
	var best []byte
	var renderErr error
	try := func(n int) bool {
		if renderErr != nil {
			return false
		}
		g := f
		g.Message = Truncate(msg, n)
		p, size, err := render(g)
		if err != nil {
			renderErr = err
			return false
		}
		if size > limit {
			return false
		}
		best = p
		return true
	}
	if !try(0) {
		if renderErr != nil {
			return nil, renderErr
		}
		return nil, fmt.Errorf("%w: the message without its text is over %d bytes", ErrNoFit, limit)
	}
	n := largest(len(msg), try)
	if !try(n) {
		if renderErr != nil {
			return nil, renderErr
		}
		return nil, fmt.Errorf("%w: the renderer is not deterministic", ErrNoFit)
	}
	return best, nil
}
