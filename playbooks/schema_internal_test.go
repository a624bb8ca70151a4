package playbooks

import "testing"

// TestSchemaHasEveryCheckKey: a key the loader learns (checkKeys) must be
// in the schema too, or editors would flag valid playbooks.
func TestSchemaHasEveryCheckKey(t *testing.T) {
	check := Schema()["definitions"].(schemaObj)["check"].(schemaObj)
	props := check["properties"].(schemaObj)
	for _, k := range checkKeys {
		if _, ok := props[k]; !ok {
			t.Errorf("check key %q is missing from the schema", k)
		}
	}
}
