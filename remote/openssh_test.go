package remote

import (
	"context"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
	_ "github.com/triage-dev/triage/diag/kinds"
	"github.com/triage-dev/triage/playbooks"
	"github.com/triage-dev/triage/remote/sshtest"
)

// TestOpenSSHEndToEnd runs the standard and software playbooks on this
// machine twice — directly, and through a real OpenSSH sshd on loopback —
// and requires the same answers: the remote view of a machine must be the
// local view.
func TestOpenSSHEndToEnd(t *testing.T) {
	o := sshtest.StartOpenSSH(t, sshtest.OpenSSHOptions{})
	d, err := NewDialer(Options{ConfigFile: o.SSHConfigPath, Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tg, err := d.Dial(ctx, sshtest.OpenSSHHostAlias)
	if err != nil {
		t.Fatalf("%v\nsshd log:\n%s", err, o.Log())
	}
	defer tg.Close()
	local := diag.NewLocal()

	rf, err := tg.Facts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lf, _ := local.Facts(ctx)
	if rf != lf {
		t.Errorf("facts differ:\nremote %+v\nlocal  %+v", rf, lf)
	}

	for _, name := range []string{"standard", "software"} {
		pb, err := playbooks.LoadBuiltin(name, playbooks.Options{})
		if err != nil {
			t.Fatal(err)
		}
		runner := &diag.Runner{}
		remoteRes := runner.Run(ctx, tg, pb.Plan(rf, playbooks.Selection{}))
		localRes := runner.Run(ctx, local, pb.Plan(lf, playbooks.Selection{}))
		for _, r := range remoteRes {
			t.Logf("remote %s/%s: %s %s", name, r.ID, r.Status, r.Message)
		}
		for i := range localRes {
			l, r := localRes[i], remoteRes[i]
			if l.Status == diag.Error || r.Status == diag.Error {
				if l.Status != r.Status {
					t.Errorf("%s/%s: local %s %q, remote %s %q", name, l.ID, l.Status, l.Message, r.Status, r.Message)
				}
				continue
			}
			switch l.Kind {
			case "disk":
				for _, k := range []string{"total_bytes", "free_bytes"} {
					lv, _ := l.Observed[k].(uint64)
					rv, _ := r.Observed[k].(uint64)
					if lv != 0 && !within(lv, rv, 0.01) {
						t.Errorf("%s/%s: %s local %d, remote %d", name, l.ID, k, lv, rv)
					}
				}
			case "package":
				if l.Observed["version"] != r.Observed["version"] || l.Observed["installed"] != r.Observed["installed"] {
					t.Errorf("%s/%s: local %v %v, remote %v %v", name, l.ID, l.Observed["installed"], l.Observed["version"], r.Observed["installed"], r.Observed["version"])
				}
			case "load", "memory", "uptime":
				// Measured a moment apart: the values move, the verdict
				// rarely does; compare nothing but that both checked.
			default:
				if l.Status != r.Status {
					t.Errorf("%s/%s: local %s %q, remote %s %q", name, l.ID, l.Status, l.Message, r.Status, r.Message)
				}
			}
		}
	}
}
