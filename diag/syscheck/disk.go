package syscheck

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/triage-dev/triage/diag"
)

func init() {
	diag.Register(diag.Kind{
		Name:    "disk",
		Summary: "Checks the used space, free space and inode use of the filesystem holding a path, or of every local filesystem.",
		New: func() diag.Checker {
			return &Disk{WarnUsed: 85, FailUsed: 95, MaxInodesUsed: 95}
		},
	})
}

// Disk checks the filesystem that holds Path, or with All every local
// filesystem of a Linux target.
type Disk struct {
	// Path has no default value in the struct so that Validate can tell
	// "path: /" written next to "all: true" from nothing written; Run
	// reads an empty Path as "/".
	Path          string       `yaml:"path" doc:"a path on the filesystem to check (default /); ~ stands for the home folder of the user triage runs as; not together with all"`
	All           bool         `yaml:"all" doc:"check every local filesystem instead of one path (Linux): pseudo, memory, read-only image, network and FUSE filesystems are left out, bind mounts are measured once"`
	WarnUsed      diag.Percent `yaml:"warn_used" doc:"warn when this share of the space is used (default 85%)"`
	FailUsed      diag.Percent `yaml:"fail_used" doc:"fail when this share of the space is used (default 95%)"`
	MinFree       diag.Size    `yaml:"min_free" doc:"fail when less than this is free, such as 5GiB"`
	MaxInodesUsed diag.Percent `yaml:"max_inodes_used" doc:"fail when this share of the inodes is used (default 95%)"`
}

func (d *Disk) Validate() error {
	var errs []error
	if d.WarnUsed > d.FailUsed {
		errs = append(errs, diag.FieldErrorf("warn_used", "%v is above fail_used (%v): warn_used must be the lower threshold", pct(d.WarnUsed), pct(d.FailUsed)))
	}
	if d.All && d.Path != "" {
		errs = append(errs, diag.FieldErrorf("all", "cannot be combined with path: all checks every local filesystem; remove path, or remove all to check only %s", d.Path))
	}
	return errors.Join(errs...)
}

func pct(p diag.Percent) string { b, _ := p.MarshalText(); return string(b) }

func (d *Disk) path() string {
	if d.Path == "" {
		return "/"
	}
	return d.Path
}

func (d *Disk) Run(ctx context.Context, t diag.Target) diag.Result {
	if d.All {
		return d.runAll(ctx, t)
	}
	path, err := expandHome(ctx, t, d.path())
	if err != nil {
		return diag.Resultf(diag.Error, "cannot find the home folder for %s on %s: %v", d.path(), t.Name(), err).With("path", d.path()).
			WithHint("the target did not say where the home folder is; give the folder's full path instead of ~")
	}
	u, err := t.DiskUsage(ctx, path)
	if err != nil {
		return diskError(t, path, err)
	}
	return d.judge(path, u)
}

// expandHome replaces a leading ~ with the home folder of the user triage
// runs as on the target, which the target must be able to tell.
func expandHome(ctx context.Context, t diag.Target, path string) (string, error) {
	if path != "~" && !strings.HasPrefix(path, "~/") && !strings.HasPrefix(path, `~\`) {
		return path, nil
	}
	h, ok := t.(diag.HomeDirer)
	if !ok {
		return "", fmt.Errorf("%w: the target does not report its home folder", diag.ErrUnsupported)
	}
	home, err := h.HomeDir(ctx)
	if err != nil {
		return "", err
	}
	return home + path[1:], nil
}

func diskError(t diag.Target, path string, err error) diag.Result {
	r := diag.Resultf(diag.Error, "cannot measure the disk holding %s: %v", path, err).With("path", path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return r.WithHint("%s does not exist on %s; check the path", path, t.Name())
	case errors.Is(err, diag.ErrUnsupported):
		return r.WithHint("triage cannot measure disks on this platform")
	}
	return r.WithHint("the target refused to report disk usage; see the message for why")
}

// usageVerdict is the judgement of one filesystem's figures.
type usageVerdict struct {
	status       diag.Status
	summary      string   // "/var is 91.2% full, 2GiB free of 20GiB"
	problems     []string // fails first, then warnings
	inodesAtFull bool     // the fail is about inodes, which needs another hint
}

func (d *Disk) assess(path string, u diag.DiskUsage) usageVerdict {
	used, inodes := u.UsedPercent(), u.InodesUsedPercent()
	v := usageVerdict{
		status:  diag.Pass,
		summary: fmt.Sprintf("%s is %.1f%% full, %s free of %s", path, used, diag.FormatBytes(u.Avail), diag.FormatBytes(u.Total)),
	}
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
		v.inodesAtFull = true
	}
	switch {
	case len(fails) > 0:
		v.status = diag.Fail
	case len(warns) > 0:
		v.status = diag.Warn
	}
	v.problems = append(fails, warns...)
	return v
}

func usageObserved(path string, u diag.DiskUsage) map[string]any {
	return map[string]any{
		"path":                path,
		"total_bytes":         u.Total,
		"used_bytes":          u.Used(),
		"free_bytes":          u.Avail,
		"used_percent":        round1(u.UsedPercent()),
		"inodes_used_percent": round1(u.InodesUsedPercent()),
	}
}

// judge turns measured usage of one path into a verdict.
func (d *Disk) judge(path string, u diag.DiskUsage) diag.Result {
	v := d.assess(path, u)
	r := diag.Result{Status: v.status, Observed: usageObserved(path, u), Message: v.summary}
	r = r.WithThreshold("used_percent", diag.Threshold{Warn: pctNumber(d.WarnUsed), Crit: pctNumber(d.FailUsed)})
	if d.MaxInodesUsed > 0 && u.Files > 0 {
		r = r.WithThreshold("inodes_used_percent", diag.Threshold{Crit: pctNumber(d.MaxInodesUsed)})
	}
	if d.MinFree > 0 {
		// Below min_free is critical: the range "N:" alerts under N.
		r = r.WithThreshold("free_bytes", diag.Threshold{Crit: strconv.FormatUint(uint64(d.MinFree), 10) + ":"})
	}
	if v.status == diag.Pass {
		return r
	}
	r.Message = v.summary + ": " + strings.Join(v.problems, "; ")
	r.Hint = spaceHint(path, v.inodesAtFull)
	return r
}

func spaceHint(path string, inodes bool) string {
	if inodes {
		return "the filesystem has run out of inodes (too many small files): find the folder with the most files, such as a mail or cache spool, and clean it"
	}
	return "free space: remove old logs and package caches (journalctl --vacuum-size=200M, apt-get clean), find large folders with du -xh " + path + " | sort -h | tail, or grow the filesystem"
}

// mountVerdict is one filesystem of an all: check.
type mountVerdict struct {
	m        mountEntry
	verdict  usageVerdict
	observed map[string]any
}

// runAll measures every local filesystem in the target's mount table.
func (d *Disk) runAll(ctx context.Context, t diag.Target) diag.Result {
	if r, skip := onlyOn(ctx, t, "every filesystem (all: true)", "it lists them from /proc/self/mountinfo, which only Linux has", "linux"); skip {
		r.Hint = "list the filesystems to check, one disk check per path"
		return r
	}
	table, source, err := readMountTable(ctx, t)
	if err != nil {
		return readFailed(ctx, t, source, err)
	}
	mounts := localDisks(table)
	if len(mounts) == 0 {
		return diag.Resultf(diag.Error, "found no local filesystem to measure in %s", source).
			WithHint("the target mounts only pseudo, network or read-only filesystems; check the paths that matter with path:")
	}

	var checked []mountVerdict
	var unreadable, failed []string
	for _, m := range mounts {
		if err := ctx.Err(); err != nil {
			return diag.Resultf(diag.Error, "stopped after measuring %d of %d filesystems: %v", len(checked), len(mounts), err)
		}
		u, err := t.DiskUsage(ctx, m.Path)
		switch {
		case err == nil:
		case errors.Is(err, fs.ErrPermission), errors.Is(err, fs.ErrNotExist):
			// Not ours to read (a container's private mount as a normal
			// user), or unmounted since the table was read: df says the
			// same and carries on.
			unreadable = append(unreadable, m.Path)
			continue
		default:
			failed = append(failed, fmt.Sprintf("%s (%v)", m.Path, err))
			continue
		}
		if u.Total == 0 {
			// A filesystem with no blocks holds no data: a pseudo
			// filesystem the list above does not know. df hides these too.
			continue
		}
		v := d.assess(m.Path, u)
		obs := usageObserved(m.Path, u)
		obs["device"], obs["fstype"], obs["status"] = m.Device, m.FSType, string(v.status)
		checked = append(checked, mountVerdict{m: m, verdict: v, observed: obs})
	}
	return d.summarizeAll(source, checked, unreadable, failed)
}

// readMountTable reads the first mount table the target has.
func readMountTable(ctx context.Context, t diag.Target) ([]mountEntry, string, error) {
	var firstErr error
	for _, path := range mountTables {
		data, err := readTargetFile(ctx, t, path, maxTableFile)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			if ctx.Err() != nil {
				return nil, path, err
			}
			continue
		}
		if strings.HasSuffix(path, "mountinfo") {
			return parseMountinfo(data), path, nil
		}
		return parseMounts(data), path, nil
	}
	return nil, mountTables[0], firstErr
}

func (d *Disk) summarizeAll(source string, checked []mountVerdict, unreadable, failed []string) diag.Result {
	list := make([]map[string]any, len(checked))
	status := diag.Pass
	for i, c := range checked {
		list[i] = c.observed
		status = diag.Worst(status, c.verdict.status)
	}
	r := diag.Result{}.With("mounts", list).With("mount_count", len(checked))
	if len(unreadable) > 0 {
		r = r.With("unreadable", unreadable)
	}
	var notes []string
	if len(unreadable) > 0 {
		notes = append(notes, fmt.Sprintf("%d not readable by this user (%s)", len(unreadable), strings.Join(unreadable, ", ")))
	}
	if len(failed) > 0 {
		status = diag.Error
		notes = append(notes, "could not measure "+strings.Join(failed, ", "))
	}
	tail := ""
	if len(notes) > 0 {
		tail = "; " + strings.Join(notes, "; ")
	}

	if len(checked) == 0 {
		r.Status = diag.Error
		r.Message = fmt.Sprintf("could not measure any local filesystem from %s%s", source, tail)
		r.Hint = "run triage as a user who may read the mount points, or check single paths with path:"
		return r
	}

	// Worst first, then fullest, so the message starts with what matters.
	bad := make([]mountVerdict, 0, len(checked))
	for _, c := range checked {
		if c.verdict.status != diag.Pass {
			bad = append(bad, c)
		}
	}
	sort.SliceStable(bad, func(i, j int) bool {
		ri, rj := bad[i].verdict.status.Rank(), bad[j].verdict.status.Rank()
		if ri != rj {
			return ri > rj
		}
		return bad[i].observed["used_percent"].(float64) > bad[j].observed["used_percent"].(float64)
	})
	r.Status = status
	if len(bad) == 0 {
		fullest := checked[0]
		for _, c := range checked[1:] {
			if c.observed["used_percent"].(float64) > fullest.observed["used_percent"].(float64) {
				fullest = c
			}
		}
		r.Message = fmt.Sprintf("%d local %s within limits; fullest: %s%s",
			len(checked), pluralize(len(checked), "filesystem is", "filesystems are"), fullest.verdict.summary, tail)
		if status == diag.Error {
			r.Hint = "some filesystems could not be measured; see the message for why"
		}
		return r
	}
	parts := make([]string, len(bad))
	for i, b := range bad {
		parts[i] = b.verdict.summary + " (" + strings.Join(b.verdict.problems, "; ") + ")"
	}
	r.Message = fmt.Sprintf("%d of %d local filesystems need attention: %s%s", len(bad), len(checked), strings.Join(parts, "; "), tail)
	r.Hint = spaceHint(bad[0].m.Path, bad[0].verdict.inodesAtFull)
	return r
}

func pluralize(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// pctNumber writes a percentage as a plain number, for thresholds.
func pctNumber(p diag.Percent) string {
	return strconv.FormatFloat(float64(p), 'f', -1, 64)
}
