package remote

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/diag/netcheck"
	"github.com/triage-dev/triage/remote/sshtest"
)

func TestParseEpoch(t *testing.T) {
	for in, want := range map[string]time.Duration{"1700000000.123456789": 0, "1700000000.N": time.Second, "1700000000": time.Second} {
		ts, prec, err := parseEpoch(in)
		if err != nil || ts.Unix() != 1700000000 || prec != want {
			t.Errorf("parseEpoch(%q) = %v %v %v", in, ts, prec, err)
		}
	}
	if _, _, err := parseEpoch("Mon Nov 23"); err == nil {
		t.Error("a date in words was accepted")
	}
}

// TestTimeCheckJudgesTheTargetClock: the target's clock is an hour fast;
// the time check, run over SSH, must say so, although this machine's
// clock is right.
func TestTimeCheckJudgesTheTargetClock(t *testing.T) {
	e := newEnv(t)
	s := e.server(sshtest.Options{Exec: func(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
		if strings.HasPrefix(cmd, "date ") {
			now := time.Now().Add(time.Hour)
			fmt.Fprintf(stdout, "%d.%09d\n", now.Unix(), now.Nanosecond())
			return 0
		}
		return sshtest.ShellExec(ctx, cmd, stdin, stdout, stderr)
	}})
	tg := e.mustDial(s)

	d, unc, err := tg.ClockOffset(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if (d - time.Hour).Abs() > unc+time.Second {
		t.Errorf("offset %s ±%s, want about 1h", d, unc)
	}

	ref := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer ref.Close()
	k, _ := diag.LookupKind("time")
	check := k.New().(*netcheck.Time)
	check.URL = ref.URL
	res := (&diag.Runner{}).Run(context.Background(), tg, []diag.Check{{ID: "clock", Kind: "time", Checker: check}})[0]
	if res.Status != diag.Fail || !strings.Contains(res.Message, "target clock") || res.Observed["clock"] != "target" {
		t.Errorf("time over SSH: %s %q %v", res.Status, res.Message, res.Observed)
	}
}
