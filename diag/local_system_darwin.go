package diag

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// macOS keeps its network configuration in the System Configuration
// framework, which scutil prints, and its memory and boot figures behind
// sysctl; none of it needs administrator rights.

func platformNameservers(ctx context.Context, l *Local) (DNSConfig, error) {
	out, err := commandOutput(ctx, l, "/usr/sbin/scutil", "--dns")
	if err != nil {
		return DNSConfig{}, err
	}
	return DNSConfig{Servers: ParseScutilDNS(out), Source: "scutil --dns", Evidence: string(out)}, nil
}

func platformProxy(ctx context.Context, l *Local) (ProxySettings, error) {
	out, err := commandOutput(ctx, l, "/usr/sbin/scutil", "--proxy")
	if err != nil {
		return ProxySettings{}, err
	}
	return ParseScutilProxy(out), nil
}

func platformMemory(ctx context.Context, l *Local) (MemoryStats, error) {
	total, err := unix.SysctlUint64("hw.memsize")
	if err != nil {
		return MemoryStats{}, fmt.Errorf("sysctl hw.memsize: %w", err)
	}
	out, err := commandOutput(ctx, l, "/usr/bin/vm_stat")
	if err != nil {
		return MemoryStats{}, err
	}
	vm, err := ParseVMStat(out)
	if err != nil {
		return MemoryStats{}, fmt.Errorf("vm_stat: %w", err)
	}
	ms := MemoryStats{Total: total, Available: vm.Available(total), Source: "sysctl hw.memsize, vm.swapusage and vm_stat"}
	if raw, err := unix.SysctlRaw("vm.swapusage"); err == nil {
		ms.SwapTotal, ms.SwapUsed, _ = ParseSwapUsage(raw)
	}
	if level, err := unix.SysctlUint32("kern.memorystatus_vm_pressure_level"); err == nil {
		ms.Pressure = MacOSPressure(level)
	}
	return ms, nil
}

func platformUptime(ctx context.Context, l *Local) (time.Duration, error) {
	tv, err := unix.SysctlTimeval("kern.boottime")
	if err != nil {
		return 0, fmt.Errorf("sysctl kern.boottime: %w", err)
	}
	boot := time.Unix(tv.Unix())
	if boot.IsZero() || boot.After(time.Now()) {
		return 0, errors.New("sysctl kern.boottime gave a boot time in the future")
	}
	return time.Since(boot), nil
}

func platformProcesses(context.Context) ([]ProcessEntry, error) {
	return nil, fmt.Errorf("processes on darwin are listed with ps: %w", ErrUnsupported)
}
