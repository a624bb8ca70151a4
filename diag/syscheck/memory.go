package syscheck

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/triage-dev/triage/diag"
)

func init() {
	diag.Register(diag.Kind{
		Name:    "memory",
		Summary: "Checks how much memory is available for new work, how much swap is in use, and on macOS the system's memory pressure.",
		New: func() diag.Checker {
			return &Memory{WarnAvailable: 10, FailAvailable: 5, MaxSwapUsed: 100}
		},
	})
}

// Memory checks the target's memory the way free(1) reports it.
//
// "Available" is the kernel's MemAvailable: what can be given to new
// programs without swapping, counting reclaimable cache. It is what
// free's "available" column shows; "free" memory alone is misleading
// because Linux fills idle memory with cache.
type Memory struct {
	WarnAvailable diag.Percent `yaml:"warn_available" doc:"warn when less than this share of memory is available (default 10%)"`
	FailAvailable diag.Percent `yaml:"fail_available" doc:"fail when less than this share of memory is available (default 5%)"`
	MaxSwapUsed   diag.Percent `yaml:"max_swap_used" doc:"fail when more than this share of swap is in use (default 100%: swap use alone never fails)"`
}

func (m *Memory) Validate() error {
	if m.FailAvailable > m.WarnAvailable {
		return diag.FieldErrorf("fail_available", "%s is above warn_available (%s): fail_available is the lower threshold, since less available memory is worse", pct(m.FailAvailable), pct(m.WarnAvailable))
	}
	return nil
}

const meminfoPath = "/proc/meminfo"

func (m *Memory) Run(ctx context.Context, t diag.Target) diag.Result {
	// macOS and Windows have no /proc/meminfo: the local target asks the
	// system itself.
	if mr, ok := t.(diag.MemoryReader); ok {
		ms, err := mr.MemoryStats(ctx)
		switch {
		case err == nil && ms.Total == 0:
			return diag.Resultf(diag.Error, "%s reported no memory total", ms.Source).
				WithHint("the system's memory figures make no sense; please report this")
		case err == nil:
			return m.judge(meminfoFromStats(ms), "from "+ms.Source)
		case !errors.Is(err, diag.ErrUnsupported):
			return diag.Resultf(diag.Error, "cannot read the memory figures of %s: %v", t.Name(), err).
				WithHint("the system would not report its memory; the message says why")
		}
	}
	if r, skip := onlyOn(ctx, t, "memory", "it reads /proc/meminfo, which only Linux has", "linux"); skip {
		return r
	}
	data, err := readTargetFile(ctx, t, meminfoPath, maxProcFile)
	if err != nil {
		return readFailed(ctx, t, meminfoPath, err)
	}
	mi, err := parseMeminfo(data)
	if err != nil {
		return parseError(meminfoPath, err, data)
	}
	return m.judge(mi, string(data))
}

// meminfo holds the /proc/meminfo figures the kind uses, in bytes.
type meminfo struct {
	Total, Available uint64
	// Estimated is set on kernels older than 3.14, which do not report
	// MemAvailable; Available is then free + buffers + page cache.
	Estimated           bool
	SwapTotal, SwapFree uint64
	// Pressure is the system's own judgement where it has one (macOS):
	// normal, warn or critical.
	Pressure string
	// Native is set for figures from the system's own interface rather
	// than /proc/meminfo, where the Linux tools of the hints do not apply.
	Native bool
}

// meminfoFromStats takes figures from a diag.MemoryReader.
func meminfoFromStats(ms diag.MemoryStats) meminfo {
	mi := meminfo{Total: ms.Total, Available: min(ms.Available, ms.Total), SwapTotal: ms.SwapTotal, Pressure: ms.Pressure, Native: true}
	mi.SwapFree = ms.SwapTotal - min(ms.SwapUsed, ms.SwapTotal)
	return mi
}

// parseMeminfo reads /proc/meminfo: "Name:   value kB" lines. Values
// without a unit (HugePages_Total) are counts and kept as they are.
func parseMeminfo(data []byte) (meminfo, error) {
	fields := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			continue
		}
		if len(f) > 1 {
			if !strings.EqualFold(f[1], "kB") {
				continue
			}
			if v > (1<<64-1)/1024 {
				return meminfo{}, fmt.Errorf("%s is out of range: %s kB", name, f[0])
			}
			v *= 1024
		}
		fields[strings.TrimSpace(name)] = v
	}
	if err := sc.Err(); err != nil {
		return meminfo{}, err
	}
	mi := meminfo{Total: fields["MemTotal"], SwapTotal: fields["SwapTotal"], SwapFree: fields["SwapFree"]}
	if mi.Total == 0 {
		return meminfo{}, errors.New("no MemTotal line")
	}
	if avail, ok := fields["MemAvailable"]; ok {
		mi.Available = avail
	} else {
		free, ok := fields["MemFree"]
		if !ok {
			return meminfo{}, errors.New("neither MemAvailable nor MemFree is listed")
		}
		mi.Available = free + fields["Buffers"] + fields["Cached"]
		mi.Estimated = true
	}
	mi.Available = min(mi.Available, mi.Total)
	mi.SwapFree = min(mi.SwapFree, mi.SwapTotal)
	return mi, nil
}

func (mi meminfo) availablePercent() float64 {
	return 100 * float64(mi.Available) / float64(mi.Total)
}

func (mi meminfo) swapUsedPercent() float64 {
	if mi.SwapTotal == 0 {
		return 0
	}
	return 100 * float64(mi.SwapTotal-mi.SwapFree) / float64(mi.SwapTotal)
}

func (m *Memory) judge(mi meminfo, evidence string) diag.Result {
	avail, swap := mi.availablePercent(), mi.swapUsedPercent()
	r := diag.Result{Evidence: evidence}.
		With("total_bytes", mi.Total).
		With("available_bytes", mi.Available).
		With("available_percent", round1(avail)).
		With("used_percent", round1(100-avail)).
		With("swap_total_bytes", mi.SwapTotal).
		With("swap_used_bytes", mi.SwapTotal-mi.SwapFree).
		With("swap_used_percent", round1(swap))
	if mi.Estimated {
		r = r.With("available_estimated", true)
	}
	if mi.Pressure != "" {
		r = r.With("pressure", mi.Pressure)
	}

	summary := fmt.Sprintf("%s of %s memory available (%.1f%%)", diag.FormatBytes(mi.Available), diag.FormatBytes(mi.Total), avail)
	if mi.Estimated {
		summary += ", estimated because this kernel does not report MemAvailable"
	}
	if mi.SwapTotal > 0 {
		summary += fmt.Sprintf(", swap %.1f%% used of %s", swap, diag.FormatBytes(mi.SwapTotal))
	} else {
		summary += ", no swap"
	}

	var fails, warns []string
	switch {
	case avail < float64(m.FailAvailable):
		fails = append(fails, fmt.Sprintf("below the %s minimum", pct(m.FailAvailable)))
	case avail < float64(m.WarnAvailable):
		warns = append(warns, fmt.Sprintf("below the %s warning", pct(m.WarnAvailable)))
	}
	swapFull := mi.SwapTotal > 0 && swap > float64(m.MaxSwapUsed)
	if swapFull {
		fails = append(fails, fmt.Sprintf("swap use above the %s limit", pct(m.MaxSwapUsed)))
	}
	switch mi.Pressure {
	case "critical":
		fails = append(fails, "the system reports critical memory pressure")
	case "warn":
		warns = append(warns, "the system reports memory pressure")
	}
	switch {
	case len(fails) > 0:
		r.Status = diag.Fail
	case len(warns) > 0:
		r.Status = diag.Warn
	default:
		r.Status, r.Message = diag.Pass, summary
		return r
	}
	r.Message = summary + ": " + strings.Join(append(fails, warns...), "; ")
	switch {
	case mi.Native:
		r.Hint = "memory is running out: close programs and browser tabs you do not need; Activity Monitor (macOS, Memory tab) or Task Manager (Windows, Processes sorted by Memory) shows which use the most, and a restart clears what has piled up"
	case avail < float64(m.WarnAvailable):
		r.Hint = "memory is nearly exhausted: find the largest processes (ps aux --sort=-rss | head), look for out-of-memory kills (journalctl -k | grep -i oom), and restart or limit the one that grew"
	default:
		r.Hint = "swap is filling although memory is available: something was pushed out under earlier pressure; find the processes using swap (grep VmSwap /proc/*/status) and consider restarting them"
	}
	return r
}
