package playbooks

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// Builtin describes an embedded playbook.
type Builtin struct {
	Name        string
	Description string
}

// Builtins lists the embedded playbooks, sorted by name.
func Builtins() []Builtin {
	entries, _ := fs.ReadDir(builtinFS, "builtin")
	var out []Builtin
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".yaml")
		b := Builtin{Name: name}
		if pb, err := LoadBuiltin(name, Options{}); err == nil {
			b.Description = pb.Description
		}
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// BuiltinNames lists the names of the embedded playbooks.
func BuiltinNames() []string {
	entries, _ := fs.ReadDir(builtinFS, "builtin")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// BuiltinSource returns the YAML of an embedded playbook.
func BuiltinSource(name string) ([]byte, bool) {
	data, err := builtinFS.ReadFile(path.Join("builtin", name+".yaml"))
	return data, err == nil
}

// LoadBuiltin loads an embedded playbook by name.
func LoadBuiltin(name string, opts Options) (*Playbook, error) {
	data, ok := BuiltinSource(name)
	if !ok {
		return nil, &NotFoundError{Arg: name}
	}
	pb, err := Load(name+".yaml", "builtin:"+name, data, opts)
	if err != nil {
		return nil, err
	}
	if pb.Name == "" {
		pb.Name = name
	}
	return pb, nil
}

// NotFoundError means an argument is neither a playbook file nor the name
// of a built-in playbook.
type NotFoundError struct{ Arg string }

func (e *NotFoundError) Error() string {
	names := BuiltinNames()
	return fmt.Sprintf("no playbook %q: it is not a file, nor a built-in playbook%s (built-ins: %s)",
		e.Arg, didYouMean(e.Arg, names, func(s string) string { return fmt.Sprintf("%q", s) }), strings.Join(names, ", "))
}

// Open loads a playbook named on the command line: a path to a file, or
// the name of a built-in playbook. A file wins over a built-in of the
// same name, so an organisation can shadow one with its own.
func Open(arg string, opts Options) (*Playbook, error) {
	if _, err := os.Stat(arg); err == nil || looksLikePath(arg) {
		pb, err := LoadFile(arg, opts)
		var re *ReadError
		if errors.As(err, &re) && errors.Is(re.Err, fs.ErrNotExist) && !looksLikePath(arg) {
			return nil, &NotFoundError{Arg: arg}
		}
		if err != nil {
			return nil, err
		}
		if pb.Name == "" {
			pb.Name = strings.TrimSuffix(strings.TrimSuffix(path.Base(arg), ".yaml"), ".yml")
		}
		return pb, nil
	}
	return LoadBuiltin(arg, opts)
}

func looksLikePath(arg string) bool {
	return strings.ContainsAny(arg, `/\`) || strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml")
}
