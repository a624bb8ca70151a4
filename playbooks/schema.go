package playbooks

// The JSON Schema for playbooks, for editors (yaml-language-server reads
// draft-07) and for anyone validating playbooks with other tools.
//
// It is built here, by hand, from the kind registry (diag.Kinds and
// Kind.Params), the same description of every parameter the loader
// validates against, so the schema cannot drift from the code. A reflection
// library such as invopop/jsonschema was left out on purpose: our parameter
// structs are already walked by diag.Params, and such a library would not
// know that a Duration is "3s", a Percent "90%" or 90, a Size "5GiB", that a
// single value stands for a list of one (except `list:"strict"` ones), or
// that any value may be a ${variable}. Spelling those rules out takes less
// code than teaching them to a library.
//
// The schema is as strict as the loader where JSON Schema can say it, and
// never stricter: a playbook the loader accepts must pass. What it cannot
// check (undefined variables, duplicate ids, a percentage in quotes above
// 100, cross-field rules) is left to 'triage playbook validate'.

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"

	"github.com/triage-dev/triage/diag"
)

type schemaObj = map[string]any

// Patterns for values written as text (ECMA-262 regular expressions).
const (
	numberPattern = `([0-9]+(\.[0-9]*)?|\.[0-9]+)`
	// durationPattern follows diag.Duration: Go durations with an optional
	// leading number of days.
	durationPattern = `^\s*\+?(([0-9]+d)(` + numberPattern + `(ns|us|µs|μs|ms|s|m|h))*|(` + numberPattern + `(ns|us|µs|μs|ms|s|m|h))+)\s*$`
	percentPattern  = `^\s*` + numberPattern + `%?\s*$`
	sizePattern     = `^\s*` + numberPattern + `\s*([KkMmGgTtPp]([Ii][Bb]|[Bb])?|[Bb])?\s*$`
	intPattern      = `^[+-]?[0-9]+$`
	floatPattern    = `^[+-]?` + numberPattern + `([eE][+-]?[0-9]+)?$`
	// varRefPattern: a value that mentions a variable is checked once the
	// variable is known, so anything with ${ in it passes.
	varRefPattern = `\$\{`
)

var varRef = schemaObj{"type": "string", "pattern": varRefPattern}

// Schema returns the JSON Schema (draft-07) of a playbook.
func Schema() map[string]any {
	defs := schemaObj{}
	checkProps := schemaObj{
		"id":       schemaObj{"type": "string", "pattern": idRe().String(), "description": "a unique name for the check, used in reports and by --only"},
		"title":    schemaObj{"type": "string", "description": "what the check confirms, in a sentence; ${variables} are expanded"},
		"hint":     schemaObj{"type": "string", "description": "what to try next when the check does not pass"},
		"severity": schemaObj{"enum": []string{string(diag.Critical), string(diag.Warning), string(diag.Info)}, "description": "the worst status a failing check reports: critical (fail, the default), warning (warn) or info (pass)"},
		"timeout":  withDoc(durationSchema(), "time limit for this check (default --check-timeout)"),
		"tags":     withDoc(oneOrMany(scalarText(), false), "words that select the check with --tags"),
		"when":     schemaObj{"$ref": "#/definitions/when"},
		"needs":    withDoc(oneOrMany(schemaObj{"type": "string", "pattern": idRe().String()}, false), "ids of checks of this playbook that must pass (or warn) for this one to run; when one fails or cannot be checked, this one is reported as blocked by it"),
		"thresholds": schemaObj{
			"type":        "object",
			"description": "Nagios ranges (10, 10:, ~:10, 10:20, @10:20) on the kind's observed values, by name: {used_percent: {warn: 80, crit: 90}}",
			"additionalProperties": schemaObj{
				"type": "object",
				"properties": schemaObj{
					"warn": schemaObj{"type": []string{"string", "number"}},
					"crit": schemaObj{"type": []string{"string", "number"}},
				},
				"minProperties":        1,
				"additionalProperties": false,
			},
		},
	}
	var oneOf []any
	for _, k := range diag.Kinds() {
		defs["kind."+k.Name] = kindSchema(k)
		checkProps[k.Name] = schemaObj{"$ref": "#/definitions/kind." + k.Name}
		oneOf = append(oneOf, schemaObj{"required": []string{k.Name}})
	}
	defs["check"] = schemaObj{
		"type":                 "object",
		"description":          "a check: an id, a title and exactly one check kind",
		"properties":           checkProps,
		"required":             []string{"id"},
		"additionalProperties": false,
		"oneOf":                oneOf,
	}
	osNames := make([]any, 0, len(knownOS)+1)
	for _, os := range append(append([]string{}, knownOS...), "macos") {
		osNames = append(osNames, schemaObj{"type": "string", "pattern": "^" + anyCase(os) + "$"})
	}
	defs["when"] = schemaObj{
		"type":        "object",
		"description": "run the check only on some platforms, or when some variables are set",
		"properties": schemaObj{
			"os":     withDoc(oneOrMany(schemaObj{"anyOf": osNames}, false), "operating systems (GOOS names, or macos)"),
			"distro": withDoc(oneOrMany(scalarText(), false), "distributions, as os-release IDs: debian, ubuntu, rhel..."),
			"vars":   withDoc(oneOrMany(scalarText(), false), "variables that must be set to something other than the empty string"),
		},
		"additionalProperties": false,
	}
	return schemaObj{
		"$schema":     "http://json-schema.org/draft-07/schema#",
		"title":       "triage playbook",
		"description": "A triage diagnostic playbook: variables and checks (see triage playbook docs).",
		"type":        "object",
		"properties": schemaObj{
			"name":        schemaObj{"type": "string", "description": "the playbook's name, shown in reports"},
			"description": schemaObj{"type": "string", "description": "what the playbook checks, in a sentence"},
			"vars": schemaObj{
				"type":                 []string{"object", "null"},
				"description":          "variables, used as ${name}; --var NAME=VALUE and inventories override them",
				"propertyNames":        schemaObj{"pattern": varNameRe().String()},
				"additionalProperties": schemaObj{"type": []string{"string", "number", "boolean", "null"}},
			},
			"redact": schemaObj{
				"type":        []string{"array", "null"},
				"description": "extra secret patterns (RE2) to remove from evidence and collected files",
				"items":       schemaObj{"type": "string", "minLength": 1},
			},
			"checks": schemaObj{
				"type":  "array",
				"items": schemaObj{"$ref": "#/definitions/check"},
			},
		},
		"required":             []string{"checks"},
		"additionalProperties": false,
		"definitions":          defs,
	}
}

// SchemaJSON returns Schema as indented JSON, ending with a newline.
func SchemaJSON() []byte {
	b, err := json.MarshalIndent(Schema(), "", "  ")
	if err != nil {
		panic("playbooks: the schema does not encode: " + err.Error()) // only maps, slices and strings
	}
	return append(b, '\n')
}

func kindSchema(k diag.Kind) schemaObj {
	props := schemaObj{}
	var required []string
	defaults := reflect.ValueOf(k.New()).Elem()
	for _, p := range k.Params() {
		s := paramSchema(p.Type, p.StrictList)
		if p.Doc != "" {
			s["description"] = p.Doc
		}
		if d, ok := defaultValue(defaults.FieldByIndex(p.Index)); ok {
			s["default"] = d
		}
		props[p.Name] = s
		if p.Required {
			required = append(required, p.Name)
		}
	}
	s := schemaObj{
		"description":          k.Summary,
		"properties":           props,
		"additionalProperties": false,
	}
	if len(required) > 0 {
		s["type"] = "object"
		s["required"] = required
	} else {
		s["type"] = []string{"object", "null"} // "reboot:" alone means reboot: {}
	}
	return s
}

// paramSchema describes a parameter of Go type t as the loader reads it
// (playbooks/params.go decodeValue): scalars are text, so "443" is a port
// as well as 443, and any scalar may mention a ${variable}.
func paramSchema(t reflect.Type, strictList bool) schemaObj {
	switch t {
	case reflect.TypeFor[diag.Duration]():
		return durationSchema()
	case reflect.TypeFor[diag.Percent]():
		return schemaObj{"anyOf": []any{
			schemaObj{"type": "number", "minimum": 0, "maximum": 100},
			schemaObj{"type": "string", "pattern": percentPattern},
			varRef,
		}}
	case reflect.TypeFor[diag.Size]():
		return schemaObj{"anyOf": []any{
			schemaObj{"type": "number", "minimum": 0},
			schemaObj{"type": "string", "pattern": sizePattern},
			varRef,
		}}
	}
	if diag.IsText(t) {
		return scalarText()
	}
	switch t.Kind() {
	case reflect.String:
		return scalarText()
	case reflect.Bool:
		return schemaObj{"anyOf": []any{
			schemaObj{"type": "boolean"},
			// strconv.ParseBool's spellings, as the loader reads them.
			schemaObj{"enum": []any{0, 1, "0", "1", "t", "f", "T", "F", "true", "false", "TRUE", "FALSE", "True", "False"}},
			varRef,
		}}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return schemaObj{"anyOf": []any{
			schemaObj{"type": "integer"},
			schemaObj{"type": "string", "pattern": intPattern},
			varRef,
		}}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return schemaObj{"anyOf": []any{
			schemaObj{"type": "integer", "minimum": 0},
			schemaObj{"type": "string", "pattern": `^\+?[0-9]+$`},
			varRef,
		}}
	case reflect.Float32, reflect.Float64:
		return schemaObj{"anyOf": []any{
			schemaObj{"type": "number"},
			schemaObj{"type": "string", "pattern": floatPattern},
			varRef,
		}}
	case reflect.Slice:
		return oneOrMany(paramSchema(t.Elem(), false), strictList)
	case reflect.Map:
		return schemaObj{"type": "object", "additionalProperties": paramSchema(t.Elem(), false)}
	}
	// A type the loader cannot fill either: it says so at load time.
	return schemaObj{}
}

func durationSchema() schemaObj {
	return schemaObj{"anyOf": []any{
		schemaObj{"type": "string", "pattern": durationPattern},
		varRef,
	}}
}

// scalarText is a string parameter: YAML reads 2.5 or true as a number or
// a boolean, but the loader takes the text as written.
func scalarText() schemaObj {
	return schemaObj{"type": []string{"string", "number", "boolean"}}
}

// oneOrMany is a list of item, where one value alone is a list of one
// unless strict.
func oneOrMany(item schemaObj, strict bool) schemaObj {
	list := schemaObj{"type": "array", "items": item}
	if strict {
		return list
	}
	return schemaObj{"anyOf": []any{item, list}}
}

func withDoc(s schemaObj, doc string) schemaObj {
	s["description"] = doc
	return s
}

// anyCase turns a lowercase word into a pattern matching it in any case,
// as the loader lowercases when.os.
func anyCase(word string) string {
	var b strings.Builder
	for _, r := range word {
		up := strings.ToUpper(string(r))
		if up == string(r) {
			b.WriteRune(r)
			continue
		}
		b.WriteString("[" + string(r) + up + "]")
	}
	return b.String()
}

// defaultValue is the JSON form of a parameter's default, as Kind.New
// sets it; zero values are not defaults worth stating.
func defaultValue(v reflect.Value) (any, bool) {
	if v.IsZero() {
		return nil, false
	}
	if d, ok := v.Interface().(diag.Duration); ok {
		// 5m rather than time.Duration's 5m0s.
		s := d.D().String()
		if strings.HasSuffix(s, "m0s") {
			s = strings.TrimSuffix(s, "0s")
		}
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
		return s, true
	}
	if m, ok := v.Interface().(encoding.TextMarshaler); ok {
		b, err := m.MarshalText()
		if err != nil {
			return nil, false
		}
		return string(b), true
	}
	return v.Interface(), true
}
