package main

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"
)

// figure is one line of the table: a measured value per run, the baseline measured in the same
// runs (when there is one), and the goal.
type figure struct {
	Row      string    `json:"row"`
	Name     string    `json:"name"`
	Engine   string    `json:"engine"`
	Unit     string    `json:"unit"` // "/s", "ms", "MB", "s"
	Values   []float64 `json:"values"`
	BaseName string    `json:"baseline_name,omitempty"`
	Base     []float64 `json:"baseline,omitempty"`
	Goal     string    `json:"goal,omitempty"`
	// met tells whether the median (and the ratio to the baseline) meet the goal (nil: no goal).
	met   func(v, ratio float64) bool
	Notes []string `json:"notes,omitempty"`
	Err   string   `json:"error,omitempty"`
}

func (f *figure) Median() float64     { return median(f.Values) }
func (f *figure) BaseMedian() float64 { return median(f.Base) }

// Ratio is the median of the runs' value/baseline when every run has both (noise on a shared
// machine hits the two halves of a run alike), else the ratio of the medians.
func (f *figure) Ratio() float64 {
	if len(f.Base) == 0 {
		return math.NaN()
	}
	if len(f.Base) == len(f.Values) {
		r := make([]float64, len(f.Values))
		for i := range r {
			r[i] = f.Values[i] / f.Base[i]
		}
		return median(r)
	}
	return f.Median() / f.BaseMedian()
}

// Met reports "met", "not met" or "" (no goal or no figure).
func (f *figure) Met() string {
	if f.met == nil || len(f.Values) == 0 || f.Err != "" {
		return ""
	}
	if f.met(f.Median(), f.Ratio()) {
		return "met"
	}
	return "not met"
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// pct returns the p-th percentile (nearest rank) of d in milliseconds.
func pct(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return math.NaN()
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	k := int(math.Ceil(p/100*float64(len(s)))) - 1
	k = min(max(k, 0), len(s)-1)
	return float64(s[k].Microseconds()) / 1000
}

func formatValue(v float64, unit string) string {
	if math.IsNaN(v) {
		return "—"
	}
	switch unit {
	case "/s":
		return fmt.Sprintf("%.0f/s", v)
	case "ms":
		if v < 10 {
			return fmt.Sprintf("%.2f ms", v)
		}
		return fmt.Sprintf("%.1f ms", v)
	case "MB":
		return fmt.Sprintf("%.0f MB", v)
	case "s":
		return fmt.Sprintf("%.2f s", v)
	}
	return fmt.Sprintf("%.3g %s", v, unit)
}

func spread(v []float64, unit string) string {
	if len(v) < 2 {
		return ""
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return fmt.Sprintf(" (%s–%s)", strings.TrimSuffix(strings.TrimSuffix(formatValue(s[0], unit), "/s"), " ms"), formatValue(s[len(s)-1], unit))
}

// writeTable prints the figures as one Markdown table.
func writeTable(w io.Writer, figs []*figure, runs int) {
	fmt.Fprintf(w, "| # | figure | engine | median of %d runs (min–max) | baseline, same runs (median) | ratio (median of runs) | goal | |\n", runs)
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, f := range figs {
		val := formatValue(f.Median(), f.Unit) + spread(f.Values, f.Unit)
		if f.Err != "" {
			val = "error: " + f.Err
		}
		base, ratio := "—", "—"
		if len(f.Base) > 0 {
			bu := f.Unit
			base = f.BaseName + " " + formatValue(f.BaseMedian(), bu)
			if r := f.Ratio(); !math.IsNaN(r) && !math.IsInf(r, 0) {
				ratio = fmt.Sprintf("%.2f×", r)
			}
		} else if f.BaseName != "" {
			base = f.BaseName
		}
		goal := f.Goal
		if goal == "" {
			goal = "—"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", f.Row, f.Name, f.Engine, val, base, ratio, goal, f.Met())
	}
	var notes []string
	for _, f := range figs {
		for _, n := range f.Notes {
			notes = append(notes, fmt.Sprintf("- %s %s (%s): %s", f.Row, f.Name, f.Engine, n))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, strings.Join(notes, "\n"))
	}
}

// count writes n as 1M, 100k or 400.
func count(n int) string {
	switch {
	case n >= 1_000_000 && n%100_000 == 0:
		return fmt.Sprintf("%gM", float64(n)/1e6)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}
