package syscheck_test

import (
	"strings"
	"testing"

	_ "github.com/triage-dev/triage/diag/kinds"
	"github.com/triage-dev/triage/playbooks"
)

// TestKindsLoadFromPlaybooks loads every parameter of the system and
// software kinds through the real playbook loader, so a field type the
// loader cannot fill, or a default Validate rejects, shows up here.
func TestKindsLoadFromPlaybooks(t *testing.T) {
	good := `name: all-kinds
checks:
  - id: disk-all
    disk: {all: true, warn_used: 80%, fail_used: 90, min_free: 2GiB, max_inodes_used: 95%}
  - id: disk-var
    disk: {path: /var}
  - id: file
    file: {path: /etc/ssh/sshd_config, owner: root, group: "0", mode: "0644", min_size: 1KiB, max_size: 1MiB, max_age: 720h}
  - id: os
    os: {distro: [debian, ubuntu], min_version: "22.04", min_kernel: "5.15"}
  - id: memory
    memory: {warn_available: 15%, fail_available: 5%, max_swap_used: 80%}
  - id: load
    load: {warn_per_cpu: 1.5, fail_per_cpu: 3, period: 15m}
  - id: uptime
    uptime: {warn_above: 720h, fail_above: 2160h, warn_below: 1h, fail_below: 10m}
  - id: service
    service: {name: ssh, active: true, enabled: true}
  - id: process
    process: {name: nginx, pattern: "master process", min: 1, max: 1}
  - id: no-telnet
    process: {name: telnetd, running: false}
  - id: package
    package: {name: openssl, version: ">= 3.0, < 4", state: installed, manager: dpkg}
`
	if _, err := playbooks.Load("good.yaml", "test", []byte(good), playbooks.Options{}); err != nil {
		t.Fatalf("a valid playbook did not load:\n%v", err)
	}

	bad := `name: mistakes
checks:
  - id: disk
    disk: {path: /var, all: true}
  - id: memory
    memory: {fail_available: 120%}
  - id: load
    load: {period: 10m}
  - id: service
    service: {name: ssh, enabled: maybe}
  - id: process
    process: {name: nginx, min: -1}
  - id: package
    package: {name: openssl, version: ">= 3.0 < 4", state: latest, manager: yum}
`
	_, err := playbooks.Load("bad.yaml", "test", []byte(bad), playbooks.Options{})
	if err == nil {
		t.Fatal("a playbook full of mistakes loaded")
	}
	for _, want := range []string{
		"bad.yaml:4:29: disk: all: cannot be combined with path",
		"bad.yaml:6:30: memory.fail_available: percentage \"120%\" is out of range",
		"bad.yaml:8:20: load: period: 10m is not a load average period",
		"bad.yaml:10:35: service: enabled: want true or false",
		"bad.yaml:12:33: process: min: -1 is negative",
		"bad.yaml:14:39: package: version: invalid constraint \">= 3.0 < 4\": at character 8",
		"bad.yaml:14:60: package: state: unknown state \"latest\"",
		"bad.yaml:14:77: package: manager: unknown package manager \"yum\"",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors do not include %q; got:\n%v", want, err)
		}
	}
}
