package reports

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// promSample is one parsed series.
type promSample struct {
	name   string
	labels map[string]string
	value  float64
}

var (
	promNameRe  = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	promLabelRe = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// parseExposition is a strict reader of the text exposition format, as
// node_exporter's textfile collector and promtool read it: HELP and TYPE
// before a family's samples, families not interleaved, no duplicate
// series, no timestamps, label values quoted with only \\ \" and \n
// escapes, valid UTF-8, every line ended by a newline.
func parseExposition(text string) ([]promSample, error) {
	if text != "" && !strings.HasSuffix(text, "\n") {
		return nil, fmt.Errorf("the last line has no newline")
	}
	types := map[string]string{}
	helps := map[string]bool{}
	done := map[string]bool{} // families whose samples have ended
	current := ""
	seen := map[string]bool{}
	var out []promSample
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		n := i + 1
		if !utf8.ValidString(line) {
			return nil, fmt.Errorf("line %d: invalid UTF-8", n)
		}
		if strings.HasPrefix(line, "#") {
			f := strings.SplitN(line, " ", 4)
			if len(f) < 3 || f[0] != "#" {
				return nil, fmt.Errorf("line %d: malformed comment %q", n, line)
			}
			name := f[2]
			if !promNameRe.MatchString(name) {
				return nil, fmt.Errorf("line %d: bad metric name %q", n, name)
			}
			if done[name] || (current == name && types[name] != "" && f[1] == "TYPE") {
				return nil, fmt.Errorf("line %d: %s for %s after its samples", n, f[1], name)
			}
			switch f[1] {
			case "HELP":
				if helps[name] {
					return nil, fmt.Errorf("line %d: second HELP for %s", n, name)
				}
				helps[name] = true
				if len(f) == 4 {
					if err := checkEscapes(f[3], `\n`); err != nil {
						return nil, fmt.Errorf("line %d: HELP: %v", n, err)
					}
				}
			case "TYPE":
				if types[name] != "" {
					return nil, fmt.Errorf("line %d: second TYPE for %s", n, name)
				}
				if len(f) != 4 || !map[string]bool{"counter": true, "gauge": true, "histogram": true, "summary": true, "untyped": true}[f[3]] {
					return nil, fmt.Errorf("line %d: bad TYPE line %q", n, line)
				}
				types[name] = f[3]
			default:
				return nil, fmt.Errorf("line %d: unexpected comment %q", n, line)
			}
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", n, err)
		}
		if types[s.name] == "" {
			return nil, fmt.Errorf("line %d: sample of %s before its TYPE", n, s.name)
		}
		if types[s.name] == "gauge" && strings.HasSuffix(s.name, "_total") {
			return nil, fmt.Errorf("line %d: gauge %s has a counter's _total suffix", n, s.name)
		}
		if s.name != current {
			if done[s.name] {
				return nil, fmt.Errorf("line %d: samples of %s are not together", n, s.name)
			}
			if current != "" {
				done[current] = true
			}
			current = s.name
		}
		key := seriesKey(s)
		if seen[key] {
			return nil, fmt.Errorf("line %d: duplicate series %s", n, key)
		}
		seen[key] = true
		out = append(out, s)
	}
	return out, nil
}

func parseSample(line string) (promSample, error) {
	s := promSample{labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i < 0 {
		return s, fmt.Errorf("no value in %q", line)
	}
	s.name = line[:i]
	if !promNameRe.MatchString(s.name) {
		return s, fmt.Errorf("bad metric name %q", s.name)
	}
	rest := line[i:]
	if strings.HasPrefix(rest, "{") {
		rest = rest[1:]
		for !strings.HasPrefix(rest, "}") {
			eq := strings.Index(rest, `="`)
			if eq < 0 {
				return s, fmt.Errorf("bad label list in %q", line)
			}
			name := rest[:eq]
			if !promLabelRe.MatchString(name) || strings.HasPrefix(name, "__") {
				return s, fmt.Errorf("bad label name %q", name)
			}
			if _, dup := s.labels[name]; dup {
				return s, fmt.Errorf("label %s given twice", name)
			}
			rest = rest[eq+2:]
			var val strings.Builder
			for {
				if rest == "" {
					return s, fmt.Errorf("unterminated label value in %q", line)
				}
				c := rest[0]
				if c == '"' {
					rest = rest[1:]
					break
				}
				if c == '\\' {
					if len(rest) < 2 {
						return s, fmt.Errorf("bad escape in %q", line)
					}
					switch rest[1] {
					case '\\':
						val.WriteByte('\\')
					case '"':
						val.WriteByte('"')
					case 'n':
						val.WriteByte('\n')
					default:
						return s, fmt.Errorf("bad escape \\%c in %q", rest[1], line)
					}
					rest = rest[2:]
					continue
				}
				val.WriteByte(c)
				rest = rest[1:]
			}
			s.labels[name] = val.String()
			if strings.HasPrefix(rest, ",") {
				rest = rest[1:]
			} else if !strings.HasPrefix(rest, "}") {
				return s, fmt.Errorf("expected , or } in %q", line)
			}
		}
		rest = rest[1:]
	}
	if !strings.HasPrefix(rest, " ") {
		return s, fmt.Errorf("no space before the value in %q", line)
	}
	fields := strings.Split(rest[1:], " ")
	if len(fields) != 1 {
		return s, fmt.Errorf("a timestamp or trailing text in %q: the textfile collector takes none", line)
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return s, fmt.Errorf("bad value %q", fields[0])
	}
	s.value = v
	return s, nil
}

func checkEscapes(s string, allowed string) error {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			if i+1 >= len(s) || !strings.ContainsRune(`\`+allowed, rune(s[i+1])) {
				return fmt.Errorf("bad escape in %q", s)
			}
			i++
		}
	}
	return nil
}

func seriesKey(s promSample) string {
	keys := make([]string, 0, len(s.labels))
	for k := range s.labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(s.name)
	for _, k := range keys {
		fmt.Fprintf(&b, ",%s=%q", k, s.labels[k])
	}
	return b.String()
}

func TestPrometheusExposition(t *testing.T) {
	weird := sweep()
	weird.Hosts[1].Target = "bob \"the\" \\builder\\\nsecond line"
	weird.Hosts[1].Results[0].ID = "disk-root"
	doubled := singleHost()
	doubled.Hosts[0].Results = append(doubled.Hosts[0].Results, doubled.Hosts[0].Results[0]) // the same check twice
	for name, r := range map[string]*Report{"single": singleHost(), "sweep": sweep(), "escapes": weird, "duplicate": doubled} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := renderPrometheus(&buf, r, Options{}); err != nil {
				t.Fatal(err)
			}
			samples, err := parseExposition(buf.String())
			if err != nil {
				t.Fatalf("%v\n%s", err, buf.String())
			}
			// Each check is in exactly one status, and every host is there.
			ones := map[string]int{}
			hosts := map[string]float64{}
			for _, s := range samples {
				switch s.name {
				case "triage_check_status":
					if s.value == 1 {
						ones[s.labels["host"]+"/"+s.labels["check"]]++
					} else if s.value != 0 {
						t.Errorf("status series with value %v", s.value)
					}
				case "triage_host_up":
					hosts[s.labels["host"]] = s.value
				}
			}
			for _, h := range r.Hosts {
				up, ok := hosts[h.Target]
				if !ok {
					t.Errorf("no triage_host_up for %q", h.Target)
				}
				if want := map[bool]float64{true: 0, false: 1}[h.Error != ""]; up != want {
					t.Errorf("triage_host_up{host=%q} = %v, want %v", h.Target, up, want)
				}
				for _, res := range h.Results {
					if n := ones[h.Target+"/"+res.ID]; n != 1 {
						t.Errorf("%s/%s is in %d statuses, want 1", h.Target, res.ID, n)
					}
				}
			}
			checkWithPromtool(t, buf.Bytes())
		})
	}
	var buf bytes.Buffer
	renderPrometheus(&buf, singleHost(), Options{})
	samples, _ := parseExposition(buf.String())
	for _, s := range samples {
		if s.name == "triage_report_status" && s.value != 3 {
			t.Errorf("triage_report_status = %v, want 3 (error)", s.value)
		}
		if s.name == "triage_check_duration_seconds" && s.labels["check"] == "vpn-port" && math.Abs(s.value-0.0032) > 1e-12 {
			t.Errorf("vpn-port took %v s, want 0.0032", s.value)
		}
	}
}

// TestExpositionParserRejects makes sure the parser above can say no.
func TestExpositionParserRejects(t *testing.T) {
	for name, text := range map[string]string{
		"no type":      "a 1\n",
		"interleaved":  "# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x=\"1\"} 2\n",
		"duplicate":    "# TYPE a gauge\na{x=\"1\"} 1\na{x=\"1\"} 2\n",
		"bad escape":   "# TYPE a gauge\na{x=\"\\t\"} 1\n",
		"raw newline":  "# TYPE a gauge\na{x=\"1\n\"} 1\n",
		"timestamp":    "# TYPE a gauge\na 1 1700000000\n",
		"no newline":   "# TYPE a gauge\na 1",
		"bad name":     "# TYPE 1a gauge\n1a 1\n",
		"total gauge":  "# TYPE a_total gauge\na_total 1\n",
		"bad value":    "# TYPE a gauge\na one\n",
		"label twice":  "# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n",
		"type late":    "# TYPE a gauge\na 1\n# TYPE a gauge\n",
		"invalid utf8": "# TYPE a gauge\na{x=\"\xff\"} 1\n",
	} {
		if _, err := parseExposition(text); err == nil {
			t.Errorf("%s: accepted %q", name, text)
		}
	}
}

// checkWithPromtool runs promtool check metrics when it is installed
// (Debian: the prometheus package); the strict parser above runs always.
func checkWithPromtool(t *testing.T, data []byte) {
	t.Helper()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		return
	}
	path := filepath.Join(t.TempDir(), "triage.prom")
	os.WriteFile(path, data, 0o644)
	f, _ := os.Open(path)
	defer f.Close()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = f
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
