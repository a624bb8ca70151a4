package netcheck_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/triage-dev/triage/diag"
	_ "github.com/triage-dev/triage/diag/kinds"
	"github.com/triage-dev/triage/playbooks"
)

// TestPlaybookErrors loads the network kinds through the real playbook
// loader: a bad parameter must come back as a file:line:col error pointing
// at the value at fault.
func TestPlaybookErrors(t *testing.T) {
	src := strings.Join([]string{
		"name: net",
		"checks:",
		"  - id: bad-port",
		"    tcp: {host: example.com, port: 0}",
		"  - id: bad-type",
		"    dns: {name: example.com, type: AXFR}",
		"  - id: bad-status",
		`    http: {url: "https://example.com/", status: [200, 6xx]}`,
		"  - id: bad-count",
		"    ping: {host: 192.0.2.1, count: -1}",
		"  - id: bad-regex",
		`    http: {url: "https://example.com/", body_matches: "(x"}`,
		"  - id: bad-server",
		`    time: {server: "pool.ntp.org:0"}`,
		"  - id: bad-url",
		`    http: {url: "example.com/health"}`,
		"  - id: fine",
		`    dns: {name: example.com, type: MX, server: 192.0.2.53, expect: [mail.example.com], max_latency: 200ms}`,
		"",
	}, "\n")
	_, err := playbooks.Load("net.yaml", "test", []byte(src), playbooks.Options{})
	var list playbooks.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Load: %v", err)
	}
	want := []struct {
		line, col int
		fragment  string
	}{
		{4, 36, "tcp: port: 0 is not a TCP port"},
		{6, 36, `dns: type: "AXFR" is not a record type`},
		{8, 49, `http: status: item 2: "6xx" is not a status class`},
		{10, 36, "ping: count: -1 is out of range"},
		{12, 55, "http: body_matches: invalid regular expression"},
		{14, 20, "time: server: port"},
		{16, 17, `http: url: "example.com/health" has no scheme`},
	}
	if len(list) != len(want) {
		t.Errorf("%d errors, want %d:\n%v", len(list), len(want), err)
	}
	for i, w := range want {
		if i >= len(list) {
			break
		}
		e := list[i]
		if e.Line != w.line || e.Col != w.col || !strings.Contains(e.Msg, w.fragment) {
			t.Errorf("error %d: %s; want %d:%d: ...%s...", i, e, w.line, w.col, w.fragment)
		}
	}
}

// TestKindParams checks that every network kind declares parameters the
// loader can fill and documents each one, and that its defaults are valid
// once the required parameters are given.
func TestKindParams(t *testing.T) {
	required := map[string]map[string]string{
		"tcp":  {"host": "example.com", "port": "443"},
		"http": {"url": "https://example.com/"},
		"dns":  {"name": "example.com"},
		"ping": {"host": "192.0.2.1"},
		"time": {},
		// The kinds that look at this machine's own network settings.
		"interface":   {},
		"gateway":     {},
		"nameservers": {},
		"proxy":       {},
	}
	for name, values := range required {
		k, ok := diag.LookupKind(name)
		if !ok {
			t.Errorf("kind %s is not registered", name)
			continue
		}
		if k.Summary == "" {
			t.Errorf("%s has no summary", name)
		}
		checker := k.New()
		v := reflect.ValueOf(checker).Elem()
		for _, p := range k.Params() {
			if p.Doc == "" {
				t.Errorf("%s.%s has no doc", name, p.Name)
			}
			if !fillable(p.Type) {
				t.Errorf("%s.%s has a type the loader cannot fill: %s", name, p.Name, p.Type)
			}
			if s, ok := values[p.Name]; ok {
				f := v.FieldByIndex(p.Index)
				switch f.Kind() {
				case reflect.String:
					f.SetString(s)
				case reflect.Int:
					f.SetInt(443)
				}
			} else if p.Required {
				t.Errorf("%s.%s is required but the test gives no value", name, p.Name)
			}
		}
		if val, ok := checker.(diag.Validator); ok {
			if err := val.Validate(); err != nil {
				t.Errorf("%s with its defaults does not validate: %v", name, err)
			}
		}
	}
}

// fillable mirrors the types the playbook loader fills.
func fillable(t reflect.Type) bool {
	if diag.IsText(t) {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return true
	case reflect.Slice:
		return fillable(t.Elem())
	case reflect.Map:
		return t.Key().Kind() == reflect.String && fillable(t.Elem())
	}
	return false
}
