package diag

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// Checker is a check kind's parameter struct, filled from a playbook, that
// knows how to run itself against a target.
//
// Its exported fields with a `yaml` tag are the kind's parameters: the
// playbook loader validates against them and the JSON Schema and reference
// docs are generated from them, so the struct is the one source of truth.
// Field tags understood besides yaml: `required:"true"`, `doc:"..."` and
// `list:"strict"` (see Param.StrictList).
// Field types are string, bool, ints, floats, slices of those, and any type
// implementing encoding.TextUnmarshaler (Duration, Percent, Size...).
//
// One parameter struct serves every target a playbook runs on, at once:
// Run must not modify it.
type Checker interface {
	Run(ctx context.Context, t Target) Result
}

// Validator is implemented by parameter structs whose fields constrain
// each other (fail_used above warn_used, say). Return FieldErrors, joined
// with errors.Join when there are several, so the loader can point at the
// field at fault.
type Validator interface {
	Validate() error
}

// FieldError is a problem with one parameter of a check.
type FieldError struct {
	Field string // the yaml name of the parameter; "" for the check as a whole
	Msg   string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// FieldErrorf builds a FieldError.
func FieldErrorf(field, format string, a ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, a...)}
}

// Kind is a registered check kind.
type Kind struct {
	// Name is the key that selects the kind in a playbook check: tcp, dns...
	Name string
	// Summary is one sentence for the reference docs and the schema.
	Summary string
	// New returns a parameter struct (a pointer) with its defaults set.
	New func() Checker
	// Examines, when set, says what a finished result of the kind looked
	// at (the name a dns check resolved, the gateway), so that another
	// check that could not run for want of it is put down to this one
	// (see Attribute).
	Examines func(Result) []Prerequisite
}

var (
	kindsMu sync.RWMutex
	kinds   = map[string]Kind{}
)

// Register adds a kind. Kinds register themselves from init functions; a
// duplicate or incomplete registration is a programming error and panics.
func Register(k Kind) {
	if k.Name == "" || k.New == nil {
		panic("diag: Register needs a Name and New")
	}
	kindsMu.Lock()
	defer kindsMu.Unlock()
	if _, dup := kinds[k.Name]; dup {
		panic("diag: kind registered twice: " + k.Name)
	}
	kinds[k.Name] = k
}

// LookupKind returns the kind registered under name.
func LookupKind(name string) (Kind, bool) {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	k, ok := kinds[name]
	return k, ok
}

// Kinds returns every registered kind, sorted by name.
func Kinds() []Kind {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	out := make([]Kind, 0, len(kinds))
	for _, k := range kinds {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// KindNames returns the names of every registered kind, sorted.
func KindNames() []string {
	ks := Kinds()
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = k.Name
	}
	return names
}
