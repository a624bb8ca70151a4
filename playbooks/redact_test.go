package playbooks_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/triage-dev/triage/playbooks"
)

func TestLoadRedact(t *testing.T) {
	pb, err := playbooks.Load("p.yaml", "p.yaml", []byte(`name: p
redact:
  - 'ACME-[0-9a-f]{32}'
  - 'session=(\w+)'
checks:
  - id: a
    file: {path: /}
`), playbooks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{`ACME-[0-9a-f]{32}`, `session=(\w+)`}; !reflect.DeepEqual(pb.Redact, want) {
		t.Errorf("Redact = %q, want %q", pb.Redact, want)
	}

	_, err = playbooks.Load("p.yaml", "p.yaml", []byte(`redact:
  - 'ok-[0-9]+'
  - '([a-z'
  - 'x*'
  - {a: b}
checks:
  - id: a
    file: {path: /}
`), playbooks.Options{})
	var list playbooks.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("err = %v, want an ErrorList", err)
	}
	got := err.Error()
	for _, want := range []string{
		`p.yaml:3:5: redact: invalid regular expression "([a-z": missing closing ]`,
		`p.yaml:4:5: redact: "x*" matches empty text`,
		`p.yaml:5:5: redact: want a regular expression, got a mapping`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack %q:\n%s", want, got)
		}
	}

	_, err = playbooks.Load("p.yaml", "p.yaml", []byte("redact: token\nchecks:\n  - id: a\n    file: {path: /}\n"), playbooks.Options{})
	if err == nil || !strings.Contains(err.Error(), "p.yaml:1:9: redact: want a list of regular expressions") {
		t.Errorf("a scalar redact: %v", err)
	}
}
