package playbooks

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/triage-dev/triage/diag"
)

// decoder fills a kind's parameter struct from the YAML node under the
// kind's key, reporting every mistake with the position of the node at fault.
type decoder struct {
	errs  *errs
	scope scope
	// deferred is set when a value refers to a host fact that is not
	// known yet; such a value is checked again when the check is planned.
	deferred bool
}

// decodeParams decodes node into a new parameter struct of kind k.
// kindKey is the node of the kind's name, where problems with the check as
// a whole are reported.
func (d *decoder) decodeParams(k diag.Kind, kindKey, node *yaml.Node) diag.Checker {
	checker := k.New()
	params := k.Params()
	v := reflect.ValueOf(checker).Elem()

	if node.Kind == yaml.ScalarNode && node.Tag == "!!null" {
		node = &yaml.Node{Kind: yaml.MappingNode, Line: node.Line, Column: node.Column}
	}
	if node.Kind != yaml.MappingNode {
		d.errs.at(node, "%s: want a mapping of parameters (such as {%s}), got %s", k.Name, exampleParams(params), describe(node))
		return checker
	}
	seen := map[string]*yaml.Node{}
	// Cross-field validation of a struct with a value that did not decode
	// would report a second, misleading problem for the same mistake.
	errsBefore := len(d.errs.list)
	for i := 0; i+1 < len(node.Content); i += 2 {
		key, val := node.Content[i], node.Content[i+1]
		p, ok := findParam(params, key.Value)
		if !ok {
			d.errs.at(key, "%s: unknown parameter %q%s; %s takes %s", k.Name, key.Value,
				didYouMean(key.Value, paramNames(params), strconv.Quote), k.Name, strings.Join(paramNames(params), ", "))
			continue
		}
		if prev, dup := seen[p.Name]; dup {
			d.errs.at(key, "%s: parameter %q given twice (first at line %d)", k.Name, p.Name, prev.Line)
			continue
		}
		seen[p.Name] = key
		if p.StrictList && val.Kind == yaml.ScalarNode && !isNull(val) {
			d.errs.at(val, "%s.%s: want a list such as [%s], got %s", k.Name, p.Name, strings.Join(strings.Fields(val.Value), ", "), describe(val))
			continue
		}
		d.decodeValue(k.Name+"."+p.Name, val, v.FieldByIndex(p.Index))
	}
	for _, p := range params {
		if _, ok := seen[p.Name]; p.Required && !ok {
			d.errs.at(kindKey, "%s: missing required parameter %q", k.Name, p.Name)
		}
	}
	if val, ok := checker.(diag.Validator); ok && !d.deferred && len(d.errs.list) == errsBefore {
		d.validate(k, val, kindKey, node)
	}
	return checker
}

// validate runs the kind's own cross-field checks and places each problem
// on the field it names.
func (d *decoder) validate(k diag.Kind, val diag.Validator, kindKey, node *yaml.Node) {
	err := val.Validate()
	if err == nil {
		return
	}
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	for _, e := range list {
		at, msg := kindKey, e.Error()
		var fe *diag.FieldError
		if errors.As(e, &fe) {
			msg = fe.Msg
			if fe.Field != "" {
				msg = fe.Field + ": " + fe.Msg
				if n := valueNode(node, fe.Field); n != nil {
					at = n
				}
			}
		}
		d.errs.at(at, "%s: %s", k.Name, msg)
	}
}

func valueNode(mapping *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(mapping.Content); i += 2 {
		if mapping.Content[i].Value == key {
			return mapping.Content[i+1]
		}
	}
	return nil
}

// decodeValue decodes one YAML value into dst. name is used in messages.
func (d *decoder) decodeValue(name string, n *yaml.Node, dst reflect.Value) {
	t := dst.Type()
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	// Types that parse themselves (durations, sizes, percentages...).
	if diag.IsText(t) {
		s, ok := d.scalar(name, n, "a "+diag.TypeName(t))
		if !ok {
			return
		}
		if err := dst.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			d.errs.at(n, "%s: %v", name, err)
		}
		return
	}
	switch t.Kind() {
	case reflect.String:
		if s, ok := d.scalar(name, n, "a string"); ok {
			dst.SetString(s)
		}
	case reflect.Bool:
		if s, ok := d.scalar(name, n, "true or false"); ok {
			b, err := strconv.ParseBool(s)
			if err != nil {
				d.errs.at(n, "%s: want true or false, got %q", name, s)
				return
			}
			dst.SetBool(b)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if s, ok := d.scalar(name, n, "a whole number"); ok {
			i, err := strconv.ParseInt(s, 10, t.Bits())
			if err != nil {
				d.errs.at(n, "%s: want a whole number, got %q", name, s)
				return
			}
			dst.SetInt(i)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if s, ok := d.scalar(name, n, "a whole number"); ok {
			u, err := strconv.ParseUint(s, 10, t.Bits())
			if err != nil {
				d.errs.at(n, "%s: want a whole number from 0 to %d, got %q", name, uint64(1)<<t.Bits()-1, s)
				return
			}
			dst.SetUint(u)
		}
	case reflect.Float32, reflect.Float64:
		if s, ok := d.scalar(name, n, "a number"); ok {
			f, err := strconv.ParseFloat(s, t.Bits())
			if err != nil {
				d.errs.at(n, "%s: want a number, got %q", name, s)
				return
			}
			dst.SetFloat(f)
		}
	case reflect.Slice:
		if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
			// One value where a list is wanted is a list of one:
			// "status: 200" means what it says.
			s := reflect.MakeSlice(t, 1, 1)
			d.decodeValue(name, n, s.Index(0))
			dst.Set(s)
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.errs.at(n, "%s: want a list (such as [a, b]), got %s", name, describe(n))
			return
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decodeValue(fmt.Sprintf("%s[%d]", name, i), item, s.Index(i))
		}
		dst.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode || t.Key().Kind() != reflect.String {
			d.errs.at(n, "%s: want a mapping, got %s", name, describe(n))
			return
		}
		m := reflect.MakeMapWithSize(t, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			elem := reflect.New(t.Elem()).Elem()
			d.decodeValue(name+"."+k.Value, n.Content[i+1], elem)
			m.SetMapIndex(reflect.ValueOf(k.Value).Convert(t.Key()), elem)
		}
		dst.Set(m)
	default:
		// A kind declared a field type this loader cannot fill: a bug in
		// the kind, reported rather than hidden.
		d.errs.at(n, "%s: parameter type %s is not supported by the loader", name, t)
	}
}

// scalar returns the value of a scalar node with variables substituted.
// A value that waits on host facts reports ok=false: it is decoded when the
// check is planned against a target.
func (d *decoder) scalar(name string, n *yaml.Node, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errs.at(n, "%s: want %s, got %s", name, want, describe(n))
		return "", false
	}
	s, deferred, problems := d.scope.expand(n.Value)
	for _, p := range problems {
		d.errs.list = append(d.errs.list, Error{File: d.errs.file, Line: n.Line, Col: column(n, p.offset), Msg: p.msg})
	}
	if deferred {
		d.deferred = true
		return "", false
	}
	return s, len(problems) == 0
}

// column finds the column of byte offset off inside a scalar, exactly for
// single-line plain and quoted scalars and at the scalar's start otherwise.
func column(n *yaml.Node, off int) int {
	if strings.Contains(n.Value, "\n") {
		return n.Column
	}
	// yaml counts columns in characters, not bytes.
	chars := utf8.RuneCountInString(n.Value[:off])
	switch n.Style {
	case 0:
		return n.Column + chars
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		return n.Column + 1 + chars
	}
	return n.Column
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "something else"
}

func findParam(params []diag.Param, name string) (diag.Param, bool) {
	for _, p := range params {
		if p.Name == name {
			return p, true
		}
	}
	return diag.Param{}, false
}

func paramNames(params []diag.Param) []string {
	names := make([]string, len(params))
	for i, p := range params {
		names[i] = p.Name
	}
	return names
}

func exampleParams(params []diag.Param) string {
	for _, p := range params {
		if p.Required {
			return p.Name + ": ..."
		}
	}
	if len(params) > 0 {
		return params[0].Name + ": ..."
	}
	return ""
}
