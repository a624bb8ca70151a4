// Package netcheck holds the check kinds that look at the network from the
// target's point of view: tcp, http, dns, ping and time, and the kinds that
// look at the target's own network settings: interface, gateway,
// nameservers and proxy. Connections go through diag.Target.Dial, so over
// SSH they start on the remote machine; nothing here opens a socket of its
// own, and nothing here prints.
//
// Decisions every kind follows:
//
//   - "fail" means the thing checked is broken: a refused or dropped
//     connection, a bad certificate, NXDOMAIN, lost pings, a clock that is
//     off. "error" means the check could not look: a host name that does
//     not resolve (for tcp, http and ping that is the dns check's
//     business, and the hint says to add one), a target that cannot open
//     the connection at all, an NTP or web server that gives no time (the
//     clock was not compared), a run that was cancelled.
//   - Each kind's timeout parameter bounds the whole check and is reported
//     as the check's own finding ("no answer from ... within 5s"); the
//     runner's deadline, when shorter, ends it as an error it rewrites.
//   - Certificates are verified against the system's roots, or only the
//     CAs in ca_file, which is read from the target because a playbook
//     names the target's paths. There is no way to skip verification.
//   - The http check takes proxy settings from the environment only for
//     the local target: triage's environment says nothing about a remote
//     host's proxy. Where the environment sets none, it follows the
//     proxies that the system's settings name (Windows, macOS), as a
//     browser would; a proxy auto-configuration script is not run, and the
//     evidence says the request went directly. Request header values never
//     reach a report.
//   - dns without server: asks the target's own resolver when the target
//     offers diag.SystemResolver, else reads the target's /etc/resolv.conf
//     and asks those servers as a stub resolver would (search list, each
//     server in turn).
//   - The DNS servers a target is configured with come from the target
//     where it keeps them outside resolv.conf (diag.NameserverLister:
//     Windows' adapters, macOS' scutil --dns), else from /etc/resolv.conf,
//     following systemd-resolved's stub to the servers it forwards to.
//     nameservers asks all of them at once.
//   - interface, gateway and proxy read the local machine through its
//     capabilities (diag.InterfaceLister, the gateway fact,
//     diag.ProxyReporter). Over SSH, interface runs ip(8) on a Linux host
//     and is skipped elsewhere; proxy reads the login session's
//     environment and /etc/environment of the remote user, and http
//     checks take the proxies found there. gateway pings the router and, where pings
//     go unanswered, tries TCP ports 53, 80 and 443, since a refused
//     connection proves the router is there as well as an accepted one.
//   - ping uses the target's diag.Pinger when it has one and falls back to
//     the target's ping command, whose output (iputils, BusyBox, macOS and
//     BSD, Windows in any language) is parsed.
//   - time measures the clock of the machine triage runs on, through the
//     target's network: for a remote target the result says so
//     (observed clock: local) until targets can report their own time.
package netcheck
