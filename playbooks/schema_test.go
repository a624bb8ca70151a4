package playbooks_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/triage-dev/triage/diag"
	_ "github.com/triage-dev/triage/diag/kinds"
	"github.com/triage-dev/triage/playbooks"
)

// compileSchema compiles the generated schema with a real validator, which
// also checks that it is a valid draft-07 schema.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(playbooks.SchemaJSON()))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	if err := c.AddResource("playbook.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("playbook.schema.json")
	if err != nil {
		t.Fatalf("schema does not compile: %v", err)
	}
	return sch
}

// yamlInstance turns a playbook into the JSON value an editor validates.
func yamlInstance(t *testing.T, src string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(src), &v); err != nil {
		t.Fatalf("YAML: %v", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("to JSON: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

func TestSchemaAcceptsBuiltins(t *testing.T) {
	sch := compileSchema(t)
	for _, name := range playbooks.BuiltinNames() {
		src, _ := playbooks.BuiltinSource(name)
		if err := sch.Validate(yamlInstance(t, string(src))); err != nil {
			t.Errorf("built-in %s does not pass the schema:\n%v", name, err)
		}
	}
}

// TestSchemaAgreesWithLoader: every playbook here is valid for the loader
// and must pass the schema; every one in rejected must fail both.
func TestSchemaAgreesWithLoader(t *testing.T) {
	sch := compileSchema(t)
	accepted := map[string]string{
		"vars and typed values as text": `
name: x
vars: {port: "443", host: example.com}
checks:
  - id: a
    tcp: {host: '${host}', port: '${port}', timeout: 3s, tls: "true"}
  - id: b
    disk: {path: /, warn_used: 80, fail_used: "90%", min_free: 5GiB}
  - id: c
    http: {url: https://example.com/, status: 200, headers: {Accept: text/html}}
  - id: d
    reboot:
    when: {os: Linux, distro: [debian]}
  - id: e
    uptime: {warn_above: 30d, fail_above: 90d12h}
    tags: disk
    severity: warning
`,
		"single value for a list": `
checks:
  - id: a
    dns: {name: example.com, expect: 192.0.2.1}
    when: {os: [linux, macos]}
`,
	}
	for name, src := range accepted {
		t.Run("accept/"+name, func(t *testing.T) {
			if _, err := playbooks.Load("x.yaml", "x.yaml", []byte(src), playbooks.Options{}); err != nil {
				t.Fatalf("loader rejects a playbook the test takes as valid: %v", err)
			}
			if err := sch.Validate(yamlInstance(t, src)); err != nil {
				t.Errorf("schema rejects a valid playbook:\n%v", err)
			}
		})
	}

	rejected := map[string]string{
		"unknown kind":              "checks:\n  - id: a\n    tcpp: {host: h, port: 1}\n",
		"no kind":                   "checks:\n  - id: a\n    title: nothing to do\n",
		"two kinds":                 "checks:\n  - id: a\n    tcp: {host: h, port: 1}\n    os: {}\n",
		"unknown parameter":         "checks:\n  - id: a\n    tcp: {host: h, port: 1, hots: x}\n",
		"missing required":          "checks:\n  - id: a\n    tcp: {host: h}\n",
		"integer as word":           "checks:\n  - id: a\n    tcp: {host: h, port: https}\n",
		"duration without unit":     "checks:\n  - id: a\n    tcp: {host: h, port: 1, timeout: 3}\n",
		"bad percentage":            "checks:\n  - id: a\n    disk: {warn_used: lots}\n",
		"bad size":                  "checks:\n  - id: a\n    disk: {min_free: 5 gallons}\n",
		"bool as word":              "checks:\n  - id: a\n    tcp: {host: h, port: 1, tls: maybe}\n",
		"string as mapping":         "checks:\n  - id: a\n    file: {path: {a: b}}\n",
		"strict list as one string": "checks:\n  - id: a\n    command: {argv: uname -a}\n",
		"unknown check key":         "checks:\n  - id: a\n    os: {}\n    severity_: info\n",
		"bad severity":              "checks:\n  - id: a\n    os: {}\n    severity: fatal\n",
		"unknown os":                "checks:\n  - id: a\n    os: {}\n    when: {os: [lnux]}\n",
		"unknown when condition":    "checks:\n  - id: a\n    os: {}\n    when: {arch: [amd64]}\n",
		"unknown top-level key":     "check:\n  - id: a\n    os: {}\n",
		"missing id":                "checks:\n  - os: {}\n",
		"bad id":                    "checks:\n  - id: 'a b'\n    os: {}\n",
	}
	for name, src := range rejected {
		t.Run("reject/"+name, func(t *testing.T) {
			if _, err := playbooks.Load("x.yaml", "x.yaml", []byte(src), playbooks.Options{}); err == nil {
				t.Fatalf("loader accepts a playbook the test takes as wrong")
			}
			if err := sch.Validate(yamlInstance(t, src)); err == nil {
				t.Errorf("schema accepts a wrong playbook:\n%s", src)
			}
		})
	}
}

// TestSchemaCoversEveryKind: each registered kind has its own definition
// with every one of its parameters, so a new kind or parameter shows up
// without touching the schema code.
func TestSchemaCoversEveryKind(t *testing.T) {
	var s struct {
		Definitions map[string]struct {
			Properties map[string]any `json:"properties"`
		} `json:"definitions"`
	}
	if err := json.Unmarshal(playbooks.SchemaJSON(), &s); err != nil {
		t.Fatal(err)
	}
	for _, k := range diag.Kinds() {
		def, ok := s.Definitions["kind."+k.Name]
		if !ok {
			t.Errorf("no definition for kind %s", k.Name)
			continue
		}
		if len(def.Properties) != len(k.Params()) {
			t.Errorf("kind %s: %d parameters in the schema, %d in the registry", k.Name, len(def.Properties), len(k.Params()))
		}
		for _, p := range k.Params() {
			if _, ok := def.Properties[p.Name]; !ok {
				t.Errorf("kind %s: parameter %s missing from the schema", k.Name, p.Name)
			}
		}
	}
}
