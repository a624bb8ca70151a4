// Package faultlab builds a small network in Linux network namespaces — a
// user's machine, a home router with a DNS server, and "the internet" with
// web, HTTPS and NTP servers — so that tests can break one thing at a time
// (a link, a route, a firewall rule, a DNS server, the clock, a full home
// folder) and check that triage names that thing as the cause. It is for
// tests only, like remote/sshtest: nothing in triage's binary imports it.
//
// The lab only ever uses addresses inside the namespaces it creates:
// 198.18.0.0/24 (a test range, RFC 2544) between the user's machine and the router,
// 203.0.113.0/24 (TEST-NET-3) between the router and the internet, and
// loopback inside an "analyst" namespace that reaches the user's sshd
// through a relay run by the test process. None of them is routed to the
// machine's own interfaces, the namespaces have no link to the root
// namespace, and the /etc/netns files it writes point every name lookup at
// the lab's own DNS server (or, for the analyst, at nothing). Namespace
// names are "tl-" plus a role and a random suffix; New removes what earlier
// runs that died left behind, and t.Cleanup removes everything a lab made
// (namespaces, /etc/netns directories, tmpfs mounts, processes, servers),
// also when the test fails.
//
// Servers run in the test process: each socket is created on an OS thread
// moved into its namespace with setns(2) and then discarded, and a socket
// stays in the namespace it was created in. Only sshd runs as a process
// (ip netns exec).
//
// It needs Linux, root, ip (iproute2) and nft (nftables); Check says why a
// lab cannot be built here.
package faultlab
