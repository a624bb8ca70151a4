//go:build !darwin && !windows

package diag

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

// On Linux and the other Unixes, DNS servers, memory and uptime are read
// from /etc and /proc by the checks themselves, through the Target, so that
// the same code serves a remote machine; only the environment speaks for
// the proxy settings.

func platformNameservers(context.Context, *Local) (DNSConfig, error) {
	return DNSConfig{}, fmt.Errorf("DNS servers on %s are in /etc/resolv.conf: %w", runtime.GOOS, ErrUnsupported)
}

func platformProxy(context.Context, *Local) (ProxySettings, error) { return ProxySettings{}, nil }

func platformMemory(context.Context, *Local) (MemoryStats, error) {
	return MemoryStats{}, fmt.Errorf("memory on %s is in /proc/meminfo: %w", runtime.GOOS, ErrUnsupported)
}

func platformUptime(context.Context, *Local) (time.Duration, error) {
	return 0, fmt.Errorf("uptime on %s is in /proc/uptime: %w", runtime.GOOS, ErrUnsupported)
}

func platformProcesses(context.Context) ([]ProcessEntry, error) {
	return nil, fmt.Errorf("processes on %s are listed with ps: %w", runtime.GOOS, ErrUnsupported)
}
