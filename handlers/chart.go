package handlers

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"

	"github.com/coopfed/coopfed/governance"
)

// bar is one bar of a chart.
type bar struct {
	Label string
	Value int64
}

// outcomeChart draws a proposal's counts as horizontal SVG bars, on the
// server: each bar with its label and number as text, the whole with a
// <title> and a <desc> that say it in words (role="img"), so that a
// screen reader reads the figures and no script is needed.
func outcomeChart(num int64, options []governance.Option, o *governance.Outcome) template.HTML {
	var bars []bar
	what := "votes"
	switch o.Method {
	case governance.Consent:
		bars = []bar{{"agree", int64(o.Consent.Agree)}, {"disagree", int64(o.Consent.Disagree)},
			{"block", int64(o.Consent.Block)}, {"abstain", int64(o.Abstentions)}}
	default:
		for _, c := range o.Options {
			label := c.Option
			for _, op := range options {
				if op.Key == c.Option {
					label = op.Label
				}
			}
			bars = append(bars, bar{label, c.Count})
		}
		switch o.Method {
		case governance.Approval:
			what = "approvals"
		case governance.InstantRunoff, governance.Schulze:
			what = "first preferences"
		case governance.Score:
			what = "total score"
		}
	}
	title := "Proposal " + strconv.FormatInt(num, 10) + ": " + what + " per option"
	if !o.Final {
		title += " so far"
	}
	return barChart("chart-"+strconv.FormatInt(num, 10), title, bars)
}

// barChart draws bars as an accessible inline SVG, scaled to its width.
func barChart(id, title string, bars []bar) template.HTML {
	const (
		width  = 360
		row    = 44
		labelH = 20
		barH   = 18
		numW   = 60
	)
	var max int64
	for _, b := range bars {
		if b.Value > max {
			max = b.Value
		}
	}
	var desc []string
	for _, b := range bars {
		desc = append(desc, b.Label+": "+strconv.FormatInt(b.Value, 10))
	}
	h := len(bars)*row + 4
	esc := template.HTMLEscapeString
	var s strings.Builder
	fmt.Fprintf(&s, `<svg class="chart" role="img" viewBox="0 0 %d %d" width="100%%" preserveAspectRatio="xMinYMin meet" aria-labelledby="%s-title %s-desc">`, width, h, id, id)
	fmt.Fprintf(&s, `<title id="%s-title">%s</title><desc id="%s-desc">%s.</desc>`, id, esc(title), id, esc(strings.Join(desc, "; ")))
	for i, b := range bars {
		y := i*row + 2
		w := 0
		if max > 0 && b.Value > 0 {
			w = int(int64(width-numW) * b.Value / max)
			if w < 2 {
				w = 2
			}
		}
		fmt.Fprintf(&s, `<g><text x="0" y="%d" class="label">%s</text>`, y+labelH-4, esc(b.Label))
		fmt.Fprintf(&s, `<rect x="0" y="%d" width="%d" height="%d" class="bar"></rect>`, y+labelH, w, barH)
		fmt.Fprintf(&s, `<text x="%d" y="%d" class="value">%d</text></g>`, w+8, y+labelH+barH-5, b.Value)
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String()) // every text in it is escaped above
}
