// Package remote runs triage's checks on another machine over SSH, with
// nothing installed there. Its Target implements diag.Target: commands run
// in exec channels, files are read and disks measured over SFTP, and
// connections start on the remote machine through direct-tcpip channels —
// all over one SSH connection per host.
//
// Host keys are always verified against known_hosts; an unknown host is
// refused unless the policy is accept-new, and a changed key is refused
// always. No value is ever pasted into a remote command line unquoted.
// Diagnostics are read-only: nothing is written to the target.
package remote
