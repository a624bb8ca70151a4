// Package playbooks reads diagnostic playbooks: YAML files of checks.
//
// Loading is strict and exact: unknown keys, unknown kinds, bad values,
// duplicate ids and undefined ${variables} are all reported at once, each
// as file:line:col: message, so an author fixes a playbook in one pass.
// Parameters are validated against the kind registry of package diag; this
// package never runs a check.
//
// The built-in playbooks live in builtin/*.yaml and are embedded.
package playbooks
