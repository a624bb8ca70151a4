// Command triage runs diagnostic playbooks on this machine or over SSH and
// writes reports that can be attached to a support ticket.
package main

import "os"

func main() { os.Exit(Main(os.Args[1:], newStreams())) }
