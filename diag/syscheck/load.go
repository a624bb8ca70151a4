package syscheck

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/triage-dev/triage/diag"
)

func init() {
	diag.Register(diag.Kind{
		Name:    "load",
		Summary: "Checks the load average per CPU (Linux).",
		New: func() diag.Checker {
			return &Load{WarnPerCPU: 1, FailPerCPU: 2, Period: diag.Duration(5 * time.Minute)}
		},
	})
}

// Load checks the load average, divided by the number of CPUs so one
// playbook fits a laptop and a 64-core server.
//
// Linux counts tasks waiting on disk or network storage (state D) in the
// load as well as runnable ones, so a high load with idle CPUs points at
// storage. The load average is system-wide even inside a container, so it
// is divided by the CPUs the kernel has online, not by a container's quota.
type Load struct {
	WarnPerCPU float64       `yaml:"warn_per_cpu" doc:"warn when the load average per CPU reaches this (default 1: every CPU busy)"`
	FailPerCPU float64       `yaml:"fail_per_cpu" doc:"fail when the load average per CPU reaches this (default 2)"`
	Period     diag.Duration `yaml:"period" doc:"which load average to judge: 1m, 5m (default) or 15m"`
}

func (l *Load) Validate() error {
	var errs []error
	for _, p := range []struct {
		name string
		v    float64
	}{{"warn_per_cpu", l.WarnPerCPU}, {"fail_per_cpu", l.FailPerCPU}} {
		if math.IsNaN(p.v) || math.IsInf(p.v, 0) || p.v <= 0 {
			errs = append(errs, diag.FieldErrorf(p.name, "%v is not a positive number (want a load per CPU such as 1.5)", p.v))
		}
	}
	if len(errs) == 0 && l.WarnPerCPU > l.FailPerCPU {
		errs = append(errs, diag.FieldErrorf("warn_per_cpu", "%v is above fail_per_cpu (%v): warn_per_cpu must be the lower threshold", l.WarnPerCPU, l.FailPerCPU))
	}
	if _, ok := loadPeriodIndex(l.Period); !ok {
		errs = append(errs, diag.FieldErrorf("period", "%s is not a load average period: want 1m, 5m or 15m", formatDuration(l.Period)))
	}
	return errors.Join(errs...)
}

// loadPeriodIndex maps a period to its position in /proc/loadavg.
func loadPeriodIndex(p diag.Duration) (int, bool) {
	switch p.D() {
	case time.Minute:
		return 0, true
	case 5 * time.Minute:
		return 1, true
	case 15 * time.Minute:
		return 2, true
	}
	return 0, false
}

const (
	loadavgPath   = "/proc/loadavg"
	cpuOnlinePath = "/sys/devices/system/cpu/online"
	cpuinfoPath   = "/proc/cpuinfo"
)

func (l *Load) Run(ctx context.Context, t diag.Target) diag.Result {
	if r, skip := onlyOn(ctx, t, "the load average", "it reads /proc/loadavg, which only Linux has", "linux"); skip {
		return r
	}
	idx, ok := loadPeriodIndex(l.Period)
	if !ok {
		return diag.Resultf(diag.Error, "period %s is not 1m, 5m or 15m", formatDuration(l.Period)).WithHint("fix the playbook")
	}
	data, err := readTargetFile(ctx, t, loadavgPath, maxProcFile)
	if err != nil {
		return readFailed(ctx, t, loadavgPath, err)
	}
	la, err := parseLoadavg(data)
	if err != nil {
		return parseError(loadavgPath, err, data)
	}
	cpus, cpuSource, err := countCPUs(ctx, t)
	if err != nil {
		return readFailed(ctx, t, cpuSource, err)
	}

	perCPU := la.Avg[idx] / float64(cpus)
	minutes := []int{1, 5, 15}[idx]
	r := diag.Result{Evidence: strings.TrimSpace(string(data))}.
		With("load1", la.Avg[0]).With("load5", la.Avg[1]).With("load15", la.Avg[2]).
		With("cpus", cpus).
		With("period_minutes", minutes).
		With("load_per_cpu", math.Round(perCPU*100)/100)
	if la.Total > 0 {
		r = r.With("running_tasks", la.Running).With("total_tasks", la.Total)
	}
	summary := fmt.Sprintf("load average %.2f, %.2f, %.2f on %d %s: %.2f per CPU over %d %s",
		la.Avg[0], la.Avg[1], la.Avg[2], cpus, pluralize(cpus, "CPU", "CPUs"), perCPU, minutes, pluralize(minutes, "minute", "minutes"))
	switch {
	case perCPU >= l.FailPerCPU:
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("%s, at or above the %v limit", summary, l.FailPerCPU)
	case perCPU >= l.WarnPerCPU:
		r.Status = diag.Warn
		r.Message = fmt.Sprintf("%s, at or above the %v warning", summary, l.WarnPerCPU)
	default:
		r.Status, r.Message = diag.Pass, summary
		return r
	}
	r.Hint = "more tasks want to run than there are CPUs: find them with top or ps -eo stat,pcpu,comm --sort=-pcpu | head; many tasks in state D mean they wait on disk or network storage rather than CPU"
	return r
}

// loadavg is the content of /proc/loadavg.
type loadavg struct {
	Avg            [3]float64 // 1, 5 and 15 minutes
	Running, Total int        // runnable tasks and all tasks; 0 when not listed
}

// parseLoadavg reads /proc/loadavg: "0.52 0.29 0.15 2/93 10079".
func parseLoadavg(data []byte) (loadavg, error) {
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return loadavg{}, fmt.Errorf("want three load averages, got %q", strings.TrimSpace(string(data)))
	}
	var la loadavg
	for i := range 3 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return loadavg{}, fmt.Errorf("load average %q is not a number", f[i])
		}
		la.Avg[i] = v
	}
	if len(f) >= 4 {
		run, total, ok := strings.Cut(f[3], "/")
		r, err1 := strconv.Atoi(run)
		n, err2 := strconv.Atoi(total)
		if ok && err1 == nil && err2 == nil && r >= 0 && n >= r {
			la.Running, la.Total = r, n
		}
	}
	return la, nil
}

// countCPUs returns the number of online CPUs, from the kernel's list of
// online CPUs or, on kernels without sysfs, by counting /proc/cpuinfo's
// processor entries. The second value names the file that was used.
func countCPUs(ctx context.Context, t diag.Target) (int, string, error) {
	if data, err := readTargetFile(ctx, t, cpuOnlinePath, maxProcFile); err == nil {
		if n, err := parseCPUList(string(data)); err == nil && n > 0 {
			return n, cpuOnlinePath, nil
		}
	} else if ctx.Err() != nil {
		return 0, cpuOnlinePath, err
	}
	data, err := readTargetFile(ctx, t, cpuinfoPath, maxTableFile)
	if err != nil {
		return 0, cpuinfoPath, err
	}
	n := countCPUInfo(data)
	if n == 0 {
		return 0, cpuinfoPath, errors.New("no processor entries found")
	}
	return n, cpuinfoPath, nil
}

// parseCPUList counts the CPUs in a kernel CPU list such as "0-3,5,7-8"
// (the format of /sys/devices/system/cpu/online, cpuset(7)).
func parseCPUList(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty CPU list")
	}
	n := 0
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return 0, fmt.Errorf("bad CPU list entry %q", part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return 0, fmt.Errorf("bad CPU list entry %q", part)
			}
		}
		if b-a >= 1<<20 || n > 1<<20 {
			return 0, fmt.Errorf("CPU list entry %q is implausibly large", part)
		}
		n += b - a + 1
	}
	return n, nil
}

// countCPUInfo counts the "processor : N" entries of /proc/cpuinfo.
func countCPUInfo(data []byte) int {
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(name) != "processor" {
			continue
		}
		if _, err := strconv.Atoi(strings.TrimSpace(value)); err == nil {
			n++
		}
	}
	return n
}
