package reports

import (
	"fmt"
	"html"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/triage-dev/triage/diag"
)

// The HTML timeline of a watch: per check, a status band and a line of its
// value, as inline SVG drawn here from Host.Timeline. Like the rest of the
// page it is self-contained, has no script, and prints; each band's
// colours come from the page's status classes, and a text list of the
// episodes follows for readers who cannot see colour.

// svgWidth and the heights are the drawing's own units; the SVG scales
// to the page's width.
const (
	svgWidth    = 960
	svgBand     = 14
	svgLine     = 36
	svgRowSpace = 6
)

const timelineCSS = `
.timeline svg{display:block;width:100%;height:auto;margin:.2rem 0 .8rem}
.timeline h3{font-size:1rem;margin:.8rem 0 0}
.timeline .axis{font-size:.8rem;color:var(--muted);display:flex;justify-content:space-between}
.tl-pass{fill:var(--pass)}.tl-warn{fill:var(--warn)}.tl-fail{fill:var(--fail)}.tl-error{fill:var(--error)}.tl-skip{fill:var(--skip-bg);stroke:var(--line)}
.tl-none{fill:var(--code)}
.tl-gap{fill:var(--error-bg)}
.tl-value{fill:none;stroke:var(--fg);stroke-width:1.5}
.tl-grid{stroke:var(--line);stroke-width:1}
.tl-label{font:11px system-ui,sans-serif;fill:var(--muted)}
table.episodes td,table.episodes th{font-size:.9rem}
`

// htmlTimelineOf draws every watched host's timeline; empty for a report
// that is not a watch's.
func htmlTimelineOf(r *Report) template.HTML {
	var b strings.Builder
	for _, h := range r.Hosts {
		if h.Timeline == nil || len(h.Timeline.Checks) == 0 {
			continue
		}
		writeTimeline(&b, h)
	}
	return template.HTML(b.String())
}

func writeTimeline(b *strings.Builder, h Host) {
	tl := h.Timeline
	esc := html.EscapeString
	layout := "15:04:05"
	if tl.End.Sub(tl.Start) > 20*time.Hour {
		layout = "Jan 2 15:04"
	}
	fmt.Fprintf(b, "<section class=\"timeline\">\n<h2>Timeline: %s</h2>\n", esc(h.Target))
	fmt.Fprintf(b, "<p class=\"counts\">%d rounds, every %s, from %s to %s</p>\n", tl.Rounds,
		time.Duration(tl.EveryMS)*time.Millisecond, esc(tl.Start.Format(layout)), esc(tl.End.Format(layout)))
	for _, row := range tl.Checks {
		if strings.Trim(row.Statuses, "s.") == "" {
			continue // never ran here, or skipped throughout
		}
		fmt.Fprintf(b, "<h3>%s</h3>\n", esc(row.Title))
		writeTimelineSVG(b, tl, row)
		fmt.Fprintf(b, "<div class=\"axis\"><span>%s</span><span>%s</span></div>\n", esc(tl.Start.Format(layout)), esc(tl.End.Format(layout)))
	}
	if len(h.Episodes) > 0 {
		b.WriteString("<h3>Episodes</h3>\n<table class=\"episodes\"><thead><tr><th scope=\"col\">Check</th><th scope=\"col\">Status</th><th scope=\"col\">From</th><th scope=\"col\">To</th><th scope=\"col\" class=\"num\">Rounds</th><th scope=\"col\">Worst</th><th scope=\"col\">At the same time</th></tr></thead><tbody>\n")
		for _, e := range h.Episodes {
			worst := ""
			if e.Worst != nil {
				worst = ValuePhrase(e.Value, *e.Worst)
			}
			to := e.End.Format(layout)
			if e.Ongoing {
				to += " (still)"
			}
			fmt.Fprintf(b, "<tr><td>%s</td><td><span class=\"badge st-%s\">%s</span></td><td>%s</td><td>%s</td><td class=\"num\">%d</td><td>%s</td><td>%s</td></tr>\n",
				esc(e.Title), esc(string(e.Status)), esc(htmlSymbol[e.Status]), esc(e.Start.Format(layout)), esc(to), e.Rounds, esc(worst), esc(strings.Join(e.During, ", ")))
		}
		b.WriteString("</tbody></table>\n")
	}
	b.WriteString("</section>\n")
}

func writeTimelineSVG(b *strings.Builder, tl *Timeline, row TimelineRow) {
	n := len(row.Statuses)
	if n == 0 {
		return
	}
	hasLine := row.Value != "" && len(row.Values) == n
	height := svgBand
	if hasLine {
		height += svgRowSpace + svgLine
	}
	colW := float64(svgWidth) / float64(n)
	x := func(i int) string { return strconv.FormatFloat(float64(i)*colW, 'f', 1, 64) }
	label := fmt.Sprintf("%s: %s", row.Title, bandSummary(row.Statuses))
	fmt.Fprintf(b, "<svg viewBox=\"0 0 %d %d\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"%s\"><title>%s</title>\n",
		svgWidth, height, html.EscapeString(label), html.EscapeString(label))
	// Gaps (the connection lost) behind everything.
	total := tl.End.Sub(tl.Start)
	for _, g := range tl.Gaps {
		if total <= 0 {
			break
		}
		x0 := float64(g.Start.Sub(tl.Start)) / float64(total) * svgWidth
		x1 := float64(g.End.Sub(tl.Start)) / float64(total) * svgWidth
		x0, x1 = clamp(x0, 0, svgWidth), clamp(x1, 0, svgWidth)
		fmt.Fprintf(b, "<rect class=\"tl-gap\" x=\"%.1f\" y=\"0\" width=\"%.1f\" height=\"%d\"><title>%s</title></rect>\n", x0, max(x1-x0, 1), height, html.EscapeString(g.Reason))
	}
	// The band: one rectangle per run of the same status.
	for i := 0; i < n; {
		j := i
		for j < n && row.Statuses[j] == row.Statuses[i] {
			j++
		}
		class := "tl-none"
		if st := LetterStatus(row.Statuses[i]); st != "" {
			class = "tl-" + string(st)
		}
		fmt.Fprintf(b, "<rect class=\"%s\" x=\"%s\" y=\"0\" width=\"%s\" height=\"%d\"/>\n", class, x(i), strconv.FormatFloat(float64(j-i)*colW, 'f', 1, 64), svgBand)
		i = j
	}
	if hasLine {
		lo, hi, any := 0.0, 0.0, false
		for _, v := range row.Values {
			if v == nil {
				continue
			}
			if !any || *v < lo {
				lo = *v
			}
			if !any || *v > hi {
				hi = *v
			}
			any = true
		}
		top := svgBand + svgRowSpace
		fmt.Fprintf(b, "<line class=\"tl-grid\" x1=\"0\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", top+svgLine, svgWidth, top+svgLine)
		if any {
			lo = min(lo, 0)
			span := hi - lo
			if span <= 0 {
				span = 1
			}
			var pts []string
			flush := func() {
				if len(pts) > 0 {
					if len(pts) == 1 {
						pts = append(pts, pts[0])
					}
					fmt.Fprintf(b, "<polyline class=\"tl-value\" vector-effect=\"non-scaling-stroke\" points=\"%s\"/>\n", strings.Join(pts, " "))
					pts = nil
				}
			}
			for i, v := range row.Values {
				if v == nil {
					flush()
					continue
				}
				y := float64(top+svgLine) - (*v-lo)/span*float64(svgLine-2)
				pts = append(pts, strconv.FormatFloat((float64(i)+0.5)*colW, 'f', 1, 64)+","+strconv.FormatFloat(y, 'f', 1, 64))
			}
			flush()
			fmt.Fprintf(b, "<text class=\"tl-label\" x=\"4\" y=\"%d\">%s max</text>\n", top+11, html.EscapeString(ValuePhrase(row.Value, hi)))
		}
	}
	b.WriteString("</svg>\n")
}

// bandSummary says in words what the band shows, for screen readers and
// the SVG's tooltip: "3 of 240 columns fail".
func bandSummary(statuses string) string {
	counts := map[diag.Status]int{}
	for i := 0; i < len(statuses); i++ {
		if st := LetterStatus(statuses[i]); st != "" {
			counts[st]++
		}
	}
	var parts []string
	for _, st := range statusOrder {
		if counts[st] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", st, counts[st]))
		}
	}
	if len(parts) == 0 {
		return "no rounds"
	}
	return strings.Join(parts, ", ") + " of " + strconv.Itoa(len(statuses)) + " columns"
}

func clamp(v, lo, hi float64) float64 { return min(max(v, lo), hi) }
