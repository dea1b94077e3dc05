package gate

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/redirlab/redirlab/scenarios"
)

// Formats are the report formats Write knows.
var Formats = []string{"text", "json", "junit", "markdown"}

// change words now against base: a difference in percentage points for
// fractions, else a relative change.
func change(c *Comparison) string {
	d := c.Now - c.Base
	if scenarios.IsFraction(c.Metric) {
		return fmt.Sprintf("%+.2f pp", 100*d)
	}
	if c.Base == 0 {
		if d == 0 {
			return "0"
		}
		return fmt.Sprintf("%+.4g", d)
	}
	return fmt.Sprintf("%+.1f%%", 100*d/math.Abs(c.Base))
}

func pString(p float64) string {
	if math.IsNaN(p) {
		return "-"
	}
	if p < 0.0001 {
		return "<0.0001"
	}
	return fmt.Sprintf("%.4f", p)
}

func metricName(c *Comparison) string {
	if c.Run == "" {
		return c.Metric
	}
	return c.Run + ": " + c.Metric
}

// shown is what a person reads: every failure and every change beyond
// tolerance, else (all quiet) the headline metrics.
func (r *Report) shown(all bool) []Comparison {
	if all {
		return r.Comparisons
	}
	var out []Comparison
	for _, c := range r.Comparisons {
		if c.Verdict != Pass || c.Why != "" || headline(c.Metric) {
			out = append(out, c)
		}
	}
	return out
}

func headline(m string) bool {
	switch m {
	case "latency_ms.p50", "latency_ms.p99", "latency_ms.mean", "redirects.rate", "throughput_rps", "requests.rejected", "requests.errors":
		return true
	}
	return false
}

// Write writes the report in format (text, json, junit, markdown). all
// lists every metric compared; otherwise the headline metrics and every
// change beyond its tolerance.
func (r *Report) Write(w io.Writer, format string, all bool) error {
	switch format {
	case "", "text":
		return r.writeText(w, all)
	case "json":
		return r.writeJSON(w)
	case "junit":
		return r.writeJUnit(w)
	case "markdown":
		return r.writeMarkdown(w, all)
	}
	return fmt.Errorf("--format %q: one of %s", format, strings.Join(Formats, ", "))
}

func (r *Report) writeText(w io.Writer, all bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "metric\tbaseline\tnow\tchange\ttolerance\tp-value\tverdict\t")
	for _, c := range r.shown(all) {
		fmt.Fprintf(tw, "%s\t%.4g\t%.4g\t%s\t%s\t%s\t%s\t\n", metricName(&c), c.Base, c.Now, change(&c), c.Tolerance, pString(c.PAdj), verdictWord(&c))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, n)
	}
	_, err := fmt.Fprintf(w, "%s: %d metrics compared, %d regressions\n", strings.ToUpper(r.Verdict.String()), len(r.Comparisons), r.count(Fail))
	return err
}

func verdictWord(c *Comparison) string {
	if c.Verdict == Pass && c.Why != "" {
		return "ok (noise)"
	}
	if c.Verdict == Pass {
		return "ok"
	}
	return c.Verdict.String()
}

func (r *Report) count(v Verdict) int {
	n := 0
	for _, c := range r.Comparisons {
		if c.Verdict == v {
			n++
		}
	}
	return n
}

type jsonComparison struct {
	Run       string   `json:"run"`
	Metric    string   `json:"metric"`
	Baseline  float64  `json:"baseline"`
	Now       float64  `json:"now"`
	Change    string   `json:"change"`
	Tolerance string   `json:"tolerance"`
	N         int      `json:"n"`
	Test      string   `json:"test,omitempty"`
	P         *float64 `json:"p,omitempty"`
	PHolm     *float64 `json:"p_holm,omitempty"`
	Verdict   string   `json:"verdict"`
	Why       string   `json:"why,omitempty"`
}

func (r *Report) writeJSON(w io.Writer) error {
	out := struct {
		Verdict     string           `json:"verdict"`
		Regressions int              `json:"regressions"`
		Notes       []string         `json:"notes,omitempty"`
		Comparisons []jsonComparison `json:"comparisons"`
	}{Verdict: strings.ToLower(r.Verdict.String()), Regressions: r.count(Fail), Notes: r.Notes}
	for _, c := range r.Comparisons {
		jc := jsonComparison{Run: c.Run, Metric: c.Metric, Baseline: c.Base, Now: c.Now, Change: change(&c),
			Tolerance: c.Tolerance.String(), N: c.N, Test: c.Test, Verdict: strings.ToLower(c.Verdict.String()), Why: c.Why}
		if !math.IsNaN(c.P) {
			p, ph := c.P, c.PAdj
			jc.P, jc.PHolm = &p, &ph
		}
		out.Comparisons = append(out.Comparisons, jc)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// JUnit XML as CI systems read it: one testsuite per run, one testcase
// per metric; a regression is a failure, an inconclusive metric skipped.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func (r *Report) writeJUnit(w io.Writer) error {
	top := junitSuites{Name: "redirlab regress"}
	index := map[string]int{}
	for _, c := range r.Comparisons {
		name := runLabel(c.Run)
		k, ok := index[name]
		if !ok {
			k = len(top.Suites)
			index[name] = k
			top.Suites = append(top.Suites, junitSuite{Name: "regress " + name})
		}
		s := &top.Suites[k]
		detail := fmt.Sprintf("baseline %.6g, now %.6g (%s), tolerance %s, p %s", c.Base, c.Now, change(&c), c.Tolerance, pString(c.PAdj))
		tc := junitCase{Name: c.Metric, Classname: "redirlab." + strings.ReplaceAll(name, "/", "."), SystemOut: detail}
		switch c.Verdict {
		case Fail:
			tc.Failure = &junitMessage{Message: c.Metric + " regressed: " + c.Why, Text: detail}
			s.Failures++
			top.Failures++
		case Inconclusive:
			tc.Skipped = &junitMessage{Message: "inconclusive: " + c.Why}
			s.Skipped++
			top.Skipped++
		}
		s.Tests++
		top.Tests++
		s.Cases = append(s.Cases, tc)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(top); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func (r *Report) writeMarkdown(w io.Writer, all bool) error {
	icon := map[Verdict]string{Pass: "✅", Fail: "❌", Inconclusive: "⚠️"}
	fmt.Fprintf(w, "### redirlab regress: %s %s\n\n", icon[r.Verdict], strings.ToLower(r.Verdict.String()))
	fmt.Fprintln(w, "| metric | baseline | now | change | tolerance | p-value | verdict |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---|")
	for _, c := range r.shown(all) {
		fmt.Fprintf(w, "| `%s` | %.4g | %.4g | %s | %s | %s | %s %s |\n", metricName(&c), c.Base, c.Now, change(&c), c.Tolerance, pString(c.PAdj), icon[c.Verdict], verdictWord(&c))
	}
	fmt.Fprintln(w)
	for _, n := range r.Notes {
		fmt.Fprintf(w, "> %s\n", n)
	}
	_, err := fmt.Fprintf(w, "\n%d metrics compared, %d regressions.\n", len(r.Comparisons), r.count(Fail))
	return err
}
