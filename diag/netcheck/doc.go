// Package netcheck holds the check kinds that look at the network from the
// target's point of view: tcp, http, dns, ping and time. Connections go
// through diag.Target.Dial, so over SSH they start on the remote machine.
package netcheck
