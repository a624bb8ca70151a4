// Package collectcheck holds the collect check kind, which gathers what a
// support engineer asks for first — a configuration file, the tail of a
// log, a command's output — for the support bundle (--bundle). What it
// collects travels in diag.Result.Files: it is never shown in a report,
// and it is redacted (passwords, tokens, keys) before it is written into
// a bundle. It reads through diag.Target only, so it works the same
// locally and over SSH (files over SFTP), always within a size cap, and
// changes nothing on the target.
package collectcheck
