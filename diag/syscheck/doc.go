// Package syscheck holds the check kinds that look at a system's own state:
// disk, file, command, os, memory, load, uptime, service and process. Each
// registers itself with diag in init and is written against diag.Target
// only, so it runs the same locally and over SSH: Linux state is read from
// files (/proc/meminfo, /proc/loadavg, /proc/self/mountinfo...) and programs
// are run as argv, never through a shell.
//
// The parsers of those files and of command output are plain functions over
// bytes, tested on recorded output in testdata/. A kind that cannot look at a
// platform yet (memory on macOS, services without systemd) reports skip with
// the reason, never a guess. Nothing here changes the target.
package syscheck
