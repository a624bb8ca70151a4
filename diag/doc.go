// Package diag is triage's diagnostics engine: the Target a check runs
// against, the registry of check kinds, the runner and the statuses.
//
// diag knows nothing of playbooks, reports or SSH: those packages import
// diag, never the other way round. It never prints; callers own output.
package diag
