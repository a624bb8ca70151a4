package netcheck

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
)

// noNames is an analyst's machine on which no name resolves.
type noNames struct{ diag.Target }

func (noNames) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	host, _, _ := net.SplitHostPort(address)
	return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
}

// clockHost is a remote target with a clock of its own (as right as this
// machine's) and canned answers to commands.
type clockHost struct {
	diag.Target
	out map[string]string // command -> stdout; others are not installed
}

func (clockHost) Name() string { return "user@host:22" }

func (clockHost) ClockOffset(context.Context) (time.Duration, time.Duration, error) {
	return 0, time.Millisecond, nil
}

func (h clockHost) Run(ctx context.Context, c diag.Command) (diag.CommandResult, error) {
	out, ok := h.out[strings.Join(c.Argv, " ")]
	if !ok {
		return diag.CommandResult{ExitCode: 127}, diag.ErrCommandNotFound
	}
	return diag.CommandResult{Stdout: []byte(out)}, nil
}

const chronySynced = `Reference ID    : C0000201 (192.0.2.1)
Stratum         : 3
Ref time (UTC)  : Thu Jan 01 00:00:00 2026
System time     : 0.000120000 seconds slow of NTP time
Last offset     : -0.000010000 seconds
RMS offset      : 0.000100000 seconds
Frequency       : 1.000 ppm fast
Root delay      : 0.020000000 seconds
Root dispersion : 0.001000000 seconds
Update interval : 64.0 seconds
Leap status     : Normal
`

const chronyUnsynced = `Reference ID    : 00000000 ()
Stratum         : 0
System time     : 0.000000000 seconds fast of NTP time
Root delay      : 1.000000000 seconds
Root dispersion : 1.000000000 seconds
Leap status     : Not synchronised
`

// TestTimeRemoteFromTarget: when the analyst's machine cannot ask the
// reference, a remote target's clock is read from the target (the web
// server's Date through it, its chrony, its timedatectl) and the message
// says which; when nothing answers, the error names the analyst's machine
// and points at the name it could not resolve.
func TestTimeRemoteFromTarget(t *testing.T) {
	saved := analystMachine
	analystMachine = func() diag.Target { return noNames{diag.NewLocal()} }
	defer func() { analystMachine = saved }()

	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer web.Close()

	for _, tc := range []struct {
		name   string
		url    string
		out    map[string]string
		status diag.Status
		words  []string
	}{
		{"http date through the target", web.URL, nil, diag.Pass, []string{"target clock", "asked through the target", "does not resolve on the analyst's machine"}},
		{"chrony", "", map[string]string{"chronyc -n tracking": chronySynced}, diag.Pass, []string{"target clock", "192.0.2.1", "chrony", "pool.ntp.org does not resolve on the analyst's machine"}},
		{"chrony unsynchronised", "", map[string]string{"chronyc -n tracking": chronyUnsynced}, diag.Warn, []string{"not synchronised"}},
		{"timedatectl synchronised", "", map[string]string{"timedatectl status": "System clock synchronized: yes\n              NTP service: active\n"}, diag.Pass, []string{"timedatectl", "synchronised"}},
		{"timedatectl not synchronised", "", map[string]string{"timedatectl status": "System clock synchronized: no\n              NTP service: inactive\n"}, diag.Warn, []string{"does not report its clock synchronised", "inactive"}},
		{"nothing", "", nil, diag.Error, []string{"cannot resolve pool.ntp.org", "asked from the analyst's machine"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := timeCheck(t, func(c *Time) { c.URL = tc.url })
			if tc.url != "" {
				c.URL = strings.Replace(tc.url, "127.0.0.1", "clock.test", 1)
			}
			host := clockHost{Target: redirected{Target: diag.NewLocal(), addrs: map[string]string{strings.TrimPrefix(strings.Replace(web.URL, "127.0.0.1", "clock.test", 1), "http://"): strings.TrimPrefix(web.URL, "http://")}}, out: tc.out}
			r := run(t, c, host)
			expect(t, r, tc.status, tc.words...)
			if tc.status == diag.Error {
				if !strings.Contains(r.Hint, "the analyst's machine") || strings.Contains(r.Hint, "this machine") {
					t.Errorf("hint %q does not name the machine", r.Hint)
				}
				if r.Upstream == nil || r.Upstream.What != diag.PrereqName || r.Upstream.Subject != "pool.ntp.org" {
					t.Errorf("upstream %+v, want the name pool.ntp.org", r.Upstream)
				}
			}
		})
	}
}

func TestParseChronyTracking(t *testing.T) {
	tr, ok := parseChronyTracking(chronySynced)
	if !ok || !tr.synced || tr.source != "192.0.2.1" || tr.offset != 120*time.Microsecond || tr.uncertainty != 11*time.Millisecond {
		t.Errorf("synced: %+v %v", tr, ok)
	}
	if tr, ok := parseChronyTracking(chronyUnsynced); !ok || tr.synced {
		t.Errorf("unsynced: %+v %v", tr, ok)
	}
	if _, ok := parseChronyTracking("506 Cannot talk to daemon\n"); ok {
		t.Error("an error message parsed as tracking")
	}
}

// TestTimeExamines: a measured clock is what TLS checks rely on; a clock
// that could not be measured explains nothing.
func TestTimeExamines(t *testing.T) {
	k, _ := diag.LookupKind("time")
	if got := k.Examines(diag.Result{Status: diag.Fail}); len(got) != 1 || got[0].What != diag.PrereqClock {
		t.Errorf("fail: %v", got)
	}
	if got := k.Examines(diag.Result{Status: diag.Error}); len(got) != 0 {
		t.Errorf("error: %v", got)
	}
}
