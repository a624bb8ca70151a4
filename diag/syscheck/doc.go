// Package syscheck holds the check kinds that look at a system's own state:
// disk, file, command, os, memory, load, uptime, service, process and
// reboot. Each registers itself with diag in init and is written against
// diag.Target only, so it runs the same locally and over SSH: Linux state
// is read from files (/proc/meminfo, /proc/loadavg, /proc/self/mountinfo...)
// and programs are run as argv, never through a shell.
//
// macOS and Windows have no /proc: memory and uptime come from the local
// target's capabilities there (diag.MemoryReader, diag.UptimeReader: sysctl
// and vm_stat, GlobalMemoryStatusEx and GetTickCount64), and ~ in a disk
// path from diag.HomeDirer. Services are launchd jobs on macOS, asked with
// launchctl through the Target, and Windows services, asked of this
// machine's service control manager with read-only access; a pending
// restart on Windows is read from this machine's registry. Those
// Windows-only parts live in _windows.go files, with a stub elsewhere.
//
// The parsers of files and of command output are plain functions over
// bytes, tested on recorded output in testdata/. A kind that cannot look at
// a platform (load on macOS and Windows, services without systemd, a
// pending restart on macOS) reports skip with the reason, never a guess.
// Nothing here changes the target, and nothing needs administrator rights.
package syscheck
