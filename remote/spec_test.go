package remote

import (
	"reflect"
	"testing"
)

func TestParseSpec(t *testing.T) {
	good := map[string]Spec{
		"host":                 {Host: "host"},
		"alice@10.2.3.4":       {User: "alice", Host: "10.2.3.4"},
		"alice@host:2222":      {User: "alice", Host: "host", Port: 2222},
		"[::1]:2222":           {Host: "::1", Port: 2222},
		"bob@[fe80::1]":        {User: "bob", Host: "fe80::1"},
		"::1":                  {Host: "::1"},
		"first.last@corp@host": {User: "first.last@corp", Host: "host"},
	}
	for in, want := range good {
		got, err := ParseSpec(in)
		if err != nil || got != want {
			t.Errorf("ParseSpec(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "@host", "host:0", "host:70000", "host:ssh", "alice@", "[::1]:x", "a;b", "$(id)", "host name"} {
		if sp, err := ParseSpec(in); err == nil {
			t.Errorf("ParseSpec(%q) = %+v, want an error", in, sp)
		}
	}
}

func TestSplitHosts(t *testing.T) {
	got := SplitHosts([]string{"a,b", " c ", "", "d,,e"})
	if want := []string{"a", "b", "c", "d", "e"}; !reflect.DeepEqual(got, want) {
		t.Errorf("SplitHosts = %q, want %q", got, want)
	}
}
