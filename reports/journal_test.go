package reports

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
)

// journalBytes writes a synthetic watch and returns the file.
func journalBytes(t testing.TB, router, dns string) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "watch.jsonl")
	w, err := CreateJournal(path, JournalHeader{Tool: Tool{Name: "triage", Version: "test"}, Started: watchT0, Target: "local", EveryMS: 10000})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rounds(router, dns) {
		if err := w.Round(at(i), time.Millisecond, synthHost(r), diag.Facts{}); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestJournalFolds(t *testing.T) {
	quiet := journalBytes(t, strings.Repeat("p", 2000), strings.Repeat("p", 2000))
	// header, checks, the first round and one folded line.
	if n := bytes.Count(quiet, []byte("\n")); n != 4 {
		t.Errorf("2000 unchanged rounds took %d lines, want 4:\n%s", n, quiet)
	}
	// Every status change is a round of its own; the rest fold.
	flap := journalBytes(t, strings.Repeat("ppppffff", 50), strings.Repeat("p", 400))
	if n := bytes.Count(flap, []byte(`"type":"round"`)); n != 100 {
		t.Errorf("%d round lines for 100 changes", n)
	}
	j, err := ReadJournal(bytes.NewReader(flap))
	if err != nil {
		t.Fatal(err)
	}
	if j.Rounds() != 400 || len(j.Episodes()) != 50 {
		t.Errorf("%d rounds, %d episodes; want 400 and 50", j.Rounds(), len(j.Episodes()))
	}
}

func TestJournalCut(t *testing.T) {
	data := journalBytes(t, "pffpfp", "pppppp")
	whole, err := ReadJournal(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	// Cut at every byte: what is whole still reads, a cut line is noted,
	// and no cut is an error once the header is whole.
	headerEnd := bytes.IndexByte(data, '\n')
	for n := 0; n <= len(data); n++ {
		j, err := ReadJournal(bytes.NewReader(data[:n]))
		if n <= headerEnd {
			if err == nil && n < headerEnd {
				t.Fatalf("cut at %d, inside the header: no error", n)
			}
			continue
		}
		if err != nil {
			t.Fatalf("cut at %d: %v", n, err)
		}
		cutMidLine := n < len(data) && data[n-1] != '\n'
		if cutMidLine && !strings.Contains(strings.Join(j.Notes, "\n"), "cut short") {
			// A cut that leaves a line whole but for its newline reads it.
			if !bytes.HasSuffix(bytes.TrimSpace(data[:n]), []byte("}")) {
				t.Errorf("cut at %d: no note about the cut line (%v)", n, j.Notes)
			}
		}
		if j.Rounds() > whole.Rounds() {
			t.Fatalf("cut at %d: more rounds than the whole file", n)
		}
		j.WatchReport(nil) // renders whatever is there
	}
}

func TestJournalCorrupt(t *testing.T) {
	data := journalBytes(t, "pffp", "pppp")
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	tests := []struct {
		name    string
		mangle  func([][]byte) [][]byte
		err     bool
		rounds  int
		noteHas string
	}{
		{name: "whole", mangle: func(l [][]byte) [][]byte { return l }, rounds: 4},
		{name: "garbage line", mangle: func(l [][]byte) [][]byte {
			return append(l[:3:3], append([][]byte{[]byte("\x00\x01 not json")}, l[3:]...)...)
		}, rounds: 4, noteHas: "line 4: not JSON"},
		{name: "round of the wrong width", mangle: func(l [][]byte) [][]byte {
			return append(l, []byte(`{"type":"round","n":9,"t":"2025-03-04T14:10:00Z","r":[{"s":"pass"}]}`))
		}, rounds: 4, noteHas: "1 results for 2 checks"},
		{name: "unknown status", mangle: func(l [][]byte) [][]byte {
			return append(l, []byte(`{"type":"round","n":9,"t":"2025-03-04T14:10:00Z","r":[{"s":"bad"},{"s":"pass"}]}`))
		}, rounds: 4, noteHas: "line 7"},
		{name: "fold first", mangle: func(l [][]byte) [][]byte {
			return [][]byte{l[0], l[1], []byte(`{"type":"same","n":5,"until":"2025-03-04T14:10:00Z"}`)}
		}, rounds: 0, noteHas: "no round before"},
		{name: "no header", mangle: func(l [][]byte) [][]byte { return l[1:] }, err: true},
		{name: "other schema", mangle: func(l [][]byte) [][]byte {
			return append([][]byte{bytes.Replace(l[0], []byte("journal/v1"), []byte("journal/v9"), 1)}, l[1:]...)
		}, err: true},
		{name: "a report", mangle: func([][]byte) [][]byte { return [][]byte{[]byte(`{"schema":"triage.report/v1"}`)} }, err: true},
		{name: "empty", mangle: func([][]byte) [][]byte { return nil }, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := tt.mangle(append([][]byte(nil), lines...))
			j, err := ReadJournal(bytes.NewReader(bytes.Join(l, []byte("\n"))))
			if tt.err {
				if !errors.Is(err, ErrNotJournal) {
					t.Fatalf("err %v, want ErrNotJournal", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if j.Rounds() != tt.rounds {
				t.Errorf("%d rounds, want %d", j.Rounds(), tt.rounds)
			}
			if notes := strings.Join(j.Notes, "\n"); !strings.Contains(notes, tt.noteHas) {
				t.Errorf("notes %q, want %q", notes, tt.noteHas)
			}
			j.WatchReport(nil)
		})
	}
}

func TestJournalRefusesExisting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	os.WriteFile(path, []byte("keep"), 0o644)
	if _, err := CreateJournal(path, JournalHeader{}); !errors.Is(err, os.ErrExist) {
		t.Errorf("err %v, want ErrExist", err)
	}
}

func TestIsJournal(t *testing.T) {
	if !IsJournal(journalBytes(t, "p", "p")) {
		t.Error("a journal is not recognised")
	}
	if IsJournal([]byte(`{"schema": "triage.report/v1"}`)) {
		t.Error("a report is taken for a journal")
	}
}

// FuzzJournal reads arbitrary bytes as a journal: never a panic, and what
// reads makes a report that renders.
func FuzzJournal(f *testing.F) {
	data := journalBytes(f, "pffpwwpeep", "ppfpppbbpp")
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add([]byte(`{"type":"header","schema":"triage.journal/v1","every_ms":-5}` + "\n" +
		`{"type":"checks","checks":[{"id":"a","value":"loss_percent"}]}` + "\n" +
		`{"type":"round","r":[{"s":"fail","v":1e308}]}` + "\n" +
		`{"type":"same","n":99999999999,"until":"9999-01-01T00:00:00Z","min":[null],"max":[-1e308]}` + "\n" +
		`{"type":"event","event":"disconnected"}` + "\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		j, err := ReadJournal(bytes.NewReader(b))
		if err != nil {
			return
		}
		rep := j.WatchReport(nil)
		for _, format := range []string{"text", "json", "html"} {
			r, _ := Lookup(format)
			var buf bytes.Buffer
			if err := r.Render(&buf, rep, Options{}); err != nil {
				t.Fatalf("%s: %v", format, err)
			}
		}
	})
}
