package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/triage-dev/triage/diag"
)

func init() {
	Register(Renderer{Name: "junit", Extensions: []string{".xml"}, Render: renderJUnit})
}

// The JUnit report follows the common JUnit XML schema (the Ant/Jenkins
// one, testdata/junit.xsd), which CI systems read: one testsuite per
// host, one testcase per check.
//
//   - fail  -> <failure type="fail">
//   - warn  -> <failure type="warn">: a warning is a problem a CI run
//     should show; JUnit has nothing between passed and failed
//   - error -> <error type="error">: the check could not be made
//   - skip  -> <skipped>
//   - a host that could not be checked -> one testcase "connect" with
//     <error type="unreachable">
//
// A testcase's classname is "triage.HOST.PLAYBOOK" (dots in the host
// written as _), so that CI systems, which key results by classname and
// name, keep the hosts of a sweep apart.

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Package    string          `xml:"package,attr"`
	ID         int             `xml:"id,attr"`
	Hostname   string          `xml:"hostname,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties junitProperties `xml:"properties"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  junitText       `xml:"system-out"`
	SystemErr  junitText       `xml:"system-err"`
}

type junitProperties struct {
	List []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Skipped   *junitSkipped `xml:"skipped"`
	Error     *junitProblem `xml:"error"`
	Failure   *junitProblem `xml:"failure"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

// junitText is element content kept readable in CDATA: evidence and
// output are many lines, which as escaped text would be one line of &#xA;.
type junitText struct {
	Text string `xml:",cdata"`
}

// xmlSafe replaces what XML 1.0 cannot hold at all (most control
// characters, as in a program's coloured output) with U+FFFD: CDATA is not
// escaped, so invalid characters would make the whole file unreadable.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

func renderJUnit(w io.Writer, r *Report, _ Options) error {
	doc := junitSuites{}
	for i, h := range r.Hosts {
		doc.Suites = append(doc.Suites, junitSuiteOf(r, i, h))
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func junitSuiteOf(r *Report, id int, h Host) junitSuite {
	s := junitSuite{
		Name:      nonEmpty(h.Target, "host"),
		Package:   "triage",
		ID:        id,
		Hostname:  nonEmpty(h.Facts.Hostname, nonEmpty(hostOfTarget(h.Target), "localhost")),
		Timestamp: r.Started.UTC().Format("2006-01-02T15:04:05"),
	}
	props := [][2]string{
		{"triage.version", r.Tool.Version}, {"ticket", r.Ticket}, {"playbooks", playbooksPhrase(r)},
		{"os", h.Facts.OS}, {"arch", h.Facts.Arch}, {"distro", h.Facts.PrettyName}, {"kernel", h.Facts.Kernel},
	}
	for _, p := range props {
		if p[1] != "" {
			s.Properties.List = append(s.Properties.List, junitProperty{Name: p[0], Value: p[1]})
		}
	}
	host := strings.ReplaceAll(nonEmpty(h.Target, "host"), ".", "_")
	if h.Error != "" {
		s.Tests, s.Errors, s.Time = 1, 1, "0"
		text := h.Error
		if h.Hint != "" {
			text += "\nhint: " + h.Hint
		}
		s.Cases = []junitCase{{
			Name: "connect", Classname: "triage." + host, Time: "0",
			Error: &junitProblem{Message: oneLine(h.Error), Type: "unreachable", Text: xmlSafe(text)},
		}}
		s.SystemErr.Text = xmlSafe("could not check this host: " + h.Error + "\n")
		return s
	}
	var total float64
	var out strings.Builder
	for _, res := range h.Results {
		class := "triage." + host
		if pb := playbookOf(r, res); pb != "" {
			class += "." + strings.ReplaceAll(pb, ".", "_")
		}
		c := junitCase{Name: junitName(res), Classname: class, Time: seconds(res.DurationMS)}
		total += res.DurationMS
		switch res.Status {
		case diag.Fail, diag.Warn:
			s.Failures++
			c.Failure = &junitProblem{Message: oneLine(res.Message), Type: string(res.Status), Text: xmlSafe(junitDetail(res))}
		case diag.Error:
			s.Errors++
			c.Error = &junitProblem{Message: oneLine(res.Message), Type: "error", Text: xmlSafe(junitDetail(res))}
		case diag.Skip:
			s.Skipped++
			c.Skipped = &junitSkipped{Message: oneLine(res.Message)}
		}
		s.Tests++
		s.Cases = append(s.Cases, c)
		fmt.Fprintf(&out, "%-5s %s: %s\n", res.Status, res.ID, oneLine(res.Message))
	}
	s.Time = seconds(total)
	s.SystemOut.Text = xmlSafe(out.String())
	return s
}

// junitName is the check's title with its id, which is what stays stable
// from run to run.
func junitName(res Result) string {
	if res.Title == "" || res.Title == res.ID {
		return nonEmpty(res.ID, "check")
	}
	return res.Title + " (" + res.ID + ")"
}

func junitDetail(res Result) string {
	var b strings.Builder
	b.WriteString(res.Message + "\n")
	if res.Hint != "" {
		b.WriteString("hint: " + res.Hint + "\n")
	}
	if res.CheckHint != "" {
		b.WriteString("detail: " + res.CheckHint + "\n")
	}
	for _, p := range observedPairs(res.Observed) {
		b.WriteString(p[0] + ": " + p[1] + "\n")
	}
	if res.Evidence != "" {
		b.WriteString("evidence:\n" + strings.TrimRight(res.Evidence, "\n") + "\n")
	}
	return b.String()
}

// seconds writes milliseconds as seconds, rounded to the microsecond so
// that sums read 0.0072 rather than 0.007199999999999999.
func seconds(ms float64) string {
	return strconv.FormatFloat(roundSeconds(ms), 'f', -1, 64)
}

func roundSeconds(ms float64) float64 { return math.Round(ms*1000) / 1e6 }

func nonEmpty(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// hostOfTarget is the host part of "user@host:port".
func hostOfTarget(t string) string {
	_, host := splitTarget(t)
	return host
}
