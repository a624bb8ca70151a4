package diag

import (
	"encoding"
	"fmt"
	"reflect"
	"strings"
)

// Param describes one parameter of a check kind, read from the kind's
// parameter struct. The playbook loader, the JSON Schema and the reference
// docs all work from this, so they cannot disagree.
type Param struct {
	Name     string // the yaml name
	Index    []int  // the field's index in the struct, for reflect.Value.FieldByIndex
	Type     reflect.Type
	Required bool
	// StrictList is set by the tag `list:"strict"`: a single value is not
	// taken as a list of one. For argv, where "uname -a" as one word would
	// be a program that does not exist.
	StrictList bool
	Doc        string
}

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

// IsText reports whether t (as a field type) parses itself from text.
func IsText(t reflect.Type) bool {
	return reflect.PointerTo(t).Implements(textUnmarshalerType)
}

// Params lists the parameters of a kind, in struct order.
func (k Kind) Params() []Param {
	t := reflect.TypeOf(k.New())
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []Param
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		out = append(out, Param{
			Name:       name,
			Index:      f.Index,
			Type:       f.Type,
			Required:   f.Tag.Get("required") == "true",
			StrictList: f.Tag.Get("list") == "strict",
			Doc:        f.Tag.Get("doc"),
		})
	}
	return out
}

// TypeName describes a parameter type in a playbook author's words.
func TypeName(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[Duration]():
		return "duration"
	case reflect.TypeFor[Percent]():
		return "percent"
	case reflect.TypeFor[Size]():
		return "size"
	}
	if IsText(t) {
		return "string"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice:
		return "list of " + TypeName(t.Elem())
	case reflect.Map:
		return "map of " + TypeName(t.Elem())
	}
	return fmt.Sprint(t)
}
