package reports_test

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/reports"
)

// sweepReport builds a report the size of a sweep: hosts × checks, with
// every status, observed values, hints and evidence, and a few hosts that
// could not be checked.
func sweepReport(hosts, checks int) *reports.Report {
	started := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	r := &reports.Report{
		Schema:    reports.Schema,
		Tool:      reports.Tool{Name: "triage", Version: "bench"},
		Started:   started,
		Playbooks: []reports.PlaybookRef{{Name: "standard", Source: "builtin:standard", SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}},
	}
	statuses := []diag.Status{diag.Pass, diag.Pass, diag.Pass, diag.Pass, diag.Warn, diag.Fail, diag.Skip, diag.Error}
	for h := range hosts {
		host := reports.Host{
			Target: fmt.Sprintf("deploy@web%03d.example.com:22", h),
			Facts: diag.Facts{
				Hostname: fmt.Sprintf("web%03d", h), OS: "linux", Arch: "amd64", Distro: "debian",
				DistroVersion: "12", PrettyName: "Debian GNU/Linux 12 (bookworm)", Kernel: "6.1.0-28-amd64", Gateway: "10.0.0.1",
			},
		}
		if h%50 == 49 {
			host.Error = "connection refused by 10.0.1.1:22: nothing listens on that port"
			host.ErrorKind = "refused"
			host.Hint = "the host is up but no SSH server listens on that port: check the port (-p), or that sshd runs"
			r.Hosts = append(r.Hosts, host)
			continue
		}
		for c := range checks {
			st := statuses[(h+c)%len(statuses)]
			res := reports.Result{
				ID:       fmt.Sprintf("check-%02d", c),
				Kind:     []string{"disk", "dns", "package", "file", "tcp"}[c%5],
				Title:    fmt.Sprintf("Check number %d of the standard playbook", c),
				Severity: diag.Critical,
				Status:   st,
				Message:  fmt.Sprintf("/var is %d.4%% full, 12.6GiB free of 40GiB", 40+c),
				Observed: map[string]any{
					"path": "/var", "total_bytes": 42949672960, "free_bytes": 13529146982, "used_percent": 68.5 + float64(c),
				},
				DurationMS: 1.5 + float64(c),
			}
			if st != diag.Pass {
				res.Hint = "Logs are filling the disk. Vacuum the journal (journalctl --vacuum-size=200M) and check logrotate."
				res.Evidence = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n/dev/sda2         41943040 28732008  13211032      69% /var\n"
			}
			host.Results = append(host.Results, res)
		}
		r.Hosts = append(r.Hosts, host)
	}
	r.Finish(started.Add(93 * time.Second))
	return r
}

// BenchmarkRender renders a sweep of 100 hosts × 20 checks in every
// registered format, and as the sweep summary.
func BenchmarkRender(b *testing.B) {
	rep := sweepReport(100, 20)
	for _, name := range reports.Formats() {
		rd, _ := reports.Lookup(name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := rd.Render(io.Discard, rep, reports.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("sweep-summary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := reports.WriteSweepSummary(io.Discard, rep, nil, reports.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
