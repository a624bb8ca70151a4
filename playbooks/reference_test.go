package playbooks_test

import (
	"testing"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/playbooks"
)

// TestExampleChecksLoad: the example of every kind in the reference is a
// valid check, and passes the schema too.
func TestExampleChecksLoad(t *testing.T) {
	sch := compileSchema(t)
	for _, k := range diag.Kinds() {
		src := "checks:\n" + string(playbooks.ExampleCheck(k))
		if _, err := playbooks.Load(k.Name+".yaml", "", []byte(src), playbooks.Options{}); err != nil {
			t.Errorf("example of %s does not load:\n%s\n%v", k.Name, src, err)
			continue
		}
		if err := sch.Validate(yamlInstance(t, src)); err != nil {
			t.Errorf("example of %s does not pass the schema: %v", k.Name, err)
		}
	}
}
