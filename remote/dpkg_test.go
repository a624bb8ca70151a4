package remote

import (
	"context"
	"strings"
	"testing"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/playbooks"
	"github.com/triage-dev/triage/remote/sshtest"
)

// TestDpkgOverSFTP: the package check on hosts with and without dpkg's
// database, read over SFTP: the database is opened without asking first
// whether it is there, so a host without it must still be told apart from
// a host where the package is missing.
func TestDpkgOverSFTP(t *testing.T) {
	const status = "Package: openssh-server\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:9.2p1-2+deb12u3\n\n" +
		"Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:1.2.13.dfsg-1\n\n"
	pb, err := playbooks.Load("t.yaml", "t.yaml", []byte(`checks:
  - id: sshd
    package: {name: openssh-server, manager: dpkg}
  - id: nginx
    package: {name: nginx, manager: dpkg}
`), playbooks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		files      map[string]string
		sshd, ngx  diag.Status
		sshdDetail string // in the first check's message
	}{
		{"dpkg host", map[string]string{"/var/lib/dpkg/status": status}, diag.Pass, diag.Fail, "1:9.2p1-2+deb12u3"},
		{"no dpkg database", nil, diag.Error, diag.Error, "/var/lib/dpkg/status is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tg := e.mustDial(e.server(sshtest.Options{SFTPInMemory: true}))
			putFiles(t, tg, tc.files)
			facts, err := tg.Facts(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			res := (&diag.Runner{}).Run(context.Background(), tg, pb.Plan(facts, playbooks.Selection{}))
			for i, want := range []diag.Status{tc.sshd, tc.ngx} {
				if res[i].Status != want {
					t.Errorf("%s: %s %q (hint %q), want %s", res[i].ID, res[i].Status, res[i].Message, res[i].Hint, want)
				}
			}
			if !strings.Contains(res[0].Message, tc.sshdDetail) {
				t.Errorf("sshd: %q does not say %q", res[0].Message, tc.sshdDetail)
			}
		})
	}
}
