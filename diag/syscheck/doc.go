// Package syscheck holds the check kinds that look at a system's own state:
// disk, file, command. Each registers itself with diag in init and is written
// against diag.Target only, so it runs the same locally and over SSH.
package syscheck
