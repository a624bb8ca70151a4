package syscheck

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strings"

	"github.com/triage-dev/triage/diag"
)

func init() {
	diag.Register(diag.Kind{
		Name:    "disk",
		Summary: "Checks the used space, free space and inode use of the filesystem holding a path.",
		New: func() diag.Checker {
			return &Disk{Path: "/", WarnUsed: 85, FailUsed: 95, MaxInodesUsed: 95}
		},
	})
}

// Disk checks the filesystem that holds Path.
type Disk struct {
	Path          string       `yaml:"path" doc:"a path on the filesystem to check (default /)"`
	WarnUsed      diag.Percent `yaml:"warn_used" doc:"warn when this share of the space is used (default 85%)"`
	FailUsed      diag.Percent `yaml:"fail_used" doc:"fail when this share of the space is used (default 95%)"`
	MinFree       diag.Size    `yaml:"min_free" doc:"fail when less than this is free, such as 5GiB"`
	MaxInodesUsed diag.Percent `yaml:"max_inodes_used" doc:"fail when this share of the inodes is used (default 95%)"`
}

func (d *Disk) Validate() error {
	if d.WarnUsed > d.FailUsed {
		return diag.FieldErrorf("warn_used", "%v is above fail_used (%v): warn_used must be the lower threshold", pct(d.WarnUsed), pct(d.FailUsed))
	}
	return nil
}

func pct(p diag.Percent) string { b, _ := p.MarshalText(); return string(b) }

func (d *Disk) Run(ctx context.Context, t diag.Target) diag.Result {
	u, err := t.DiskUsage(ctx, d.Path)
	if err != nil {
		r := diag.Resultf(diag.Error, "cannot measure the disk holding %s: %v", d.Path, err).With("path", d.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return r.WithHint("%s does not exist on %s; check the path", d.Path, t.Name())
		case errors.Is(err, diag.ErrUnsupported):
			return r.WithHint("triage cannot measure disks on this platform")
		}
		return r.WithHint("the target refused to report disk usage; see the message for why")
	}
	return d.judge(u)
}

// judge turns measured usage into a verdict.
func (d *Disk) judge(u diag.DiskUsage) diag.Result {
	used, inodes := u.UsedPercent(), u.InodesUsedPercent()
	r := diag.Result{}.
		With("path", d.Path).
		With("total_bytes", u.Total).
		With("used_bytes", u.Used()).
		With("free_bytes", u.Avail).
		With("used_percent", round1(used)).
		With("inodes_used_percent", round1(inodes))
	summary := fmt.Sprintf("%s is %.1f%% full, %s free of %s", d.Path, used, diag.FormatBytes(u.Avail), diag.FormatBytes(u.Total))

	var fails, warns []string
	if used >= float64(d.FailUsed) {
		fails = append(fails, fmt.Sprintf("at or above the %s limit", pct(d.FailUsed)))
	} else if used >= float64(d.WarnUsed) {
		warns = append(warns, fmt.Sprintf("at or above the %s warning", pct(d.WarnUsed)))
	}
	if d.MinFree > 0 && u.Avail < uint64(d.MinFree) {
		fails = append(fails, fmt.Sprintf("less than the %s required free", diag.FormatBytes(uint64(d.MinFree))))
	}
	if u.Files > 0 && inodes >= float64(d.MaxInodesUsed) {
		fails = append(fails, fmt.Sprintf("%.1f%% of inodes used, limit %s", inodes, pct(d.MaxInodesUsed)))
	}
	switch {
	case len(fails) > 0:
		r.Status = diag.Fail
		r.Message = summary + ": " + strings.Join(append(fails, warns...), "; ")
	case len(warns) > 0:
		r.Status = diag.Warn
		r.Message = summary + ": " + strings.Join(warns, "; ")
	default:
		r.Status, r.Message = diag.Pass, summary
		return r
	}
	if u.Files > 0 && inodes >= float64(d.MaxInodesUsed) {
		r.Hint = "the filesystem has run out of inodes (too many small files): find the folder with the most files, such as a mail or cache spool, and clean it"
	} else {
		r.Hint = "free space: remove old logs and package caches (journalctl --vacuum-size=200M, apt-get clean), find large folders with du -xh " + d.Path + " | sort -h | tail, or grow the filesystem"
	}
	return r
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
