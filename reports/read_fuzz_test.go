package reports

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
)

// FuzzRead feeds the report reader (report diff, merge, render and the
// sweep history all use it) arbitrary bytes: an ErrInvalid error or a
// report that every renderer can write and that reads back, never a panic.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"testdata/out_single.json", "testdata/out_sweep.json"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"schema":"` + Schema + `"}`))
	f.Add([]byte(`{"schema":"` + Schema + `","hosts":[{"target":"h","results":[{"status":"nonsense"}]}]}`))
	f.Add([]byte(`{} {}`))
	f.Add([]byte("\xff\xfe\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Read(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		for _, name := range Formats() {
			rd, _ := Lookup(name)
			if err := rd.Render(io.Discard, r, Options{}); err != nil {
				t.Logf("%s: %v", name, err) // an error is fine; a panic is not
			}
		}
		var buf bytes.Buffer
		json, _ := Lookup("json")
		if err := json.Render(&buf, r, Options{}); err != nil {
			t.Fatalf("writing back a report that was read: %v", err)
		}
		if _, err := Read(&buf); err != nil {
			t.Fatalf("a report that was read does not read back: %v\n%s", err, buf.Bytes())
		}
	})
}
