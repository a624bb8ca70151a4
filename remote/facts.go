package remote

import (
	"context"
	"fmt"
	"strings"

	"github.com/triage-dev/triage/diag"
)

// Facts finds out what the target is, once: uname for the kernel and
// machine, os-release for the distribution, /proc/net/route for the
// gateway. A target where uname does not exist is taken for Windows.
func (t *Target) Facts(ctx context.Context) (diag.Facts, error) {
	t.factsOnce.Do(func() { t.facts, t.factsErr = t.probeFacts(ctx) })
	return t.facts, t.factsErr
}

func (t *Target) probeFacts(ctx context.Context) (diag.Facts, error) {
	f := diag.Facts{}
	res, err := t.runPOSIX(ctx, []string{"uname", "-s", "-n", "-r", "-m"})
	if err != nil {
		return f, fmt.Errorf("cannot find out what %s runs: %w", t.name, err)
	}
	fields := strings.Fields(string(res.Stdout))
	if res.ExitCode != 0 || len(fields) < 4 {
		// Windows OpenSSH runs commands with cmd.exe, which has no uname.
		if strings.Contains(string(res.Stderr), "not recognized") {
			f.OS = "windows"
			f.Hostname = t.hc.Alias
			t.windows.Store(true)
			return f, nil
		}
		return f, fmt.Errorf("cannot find out what %s runs: uname said %q", t.name, strings.TrimSpace(string(res.Stderr)))
	}
	f.OS = goos(fields[0])
	f.Hostname = fields[1]
	f.Kernel = fields[2]
	f.Arch = goarch(fields[len(fields)-1])
	if f.OS == "linux" {
		for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
			if data, _, err := t.ReadFile(ctx, p, 64<<10); err == nil {
				diag.ApplyOSRelease(&f, diag.ParseOSRelease(data))
				break
			}
		}
		if data, _, err := t.ReadFile(ctx, "/proc/net/route", 1<<20); err == nil {
			f.Gateway = diag.ParseProcNetRoute(data)
		}
	}
	if f.OS == "darwin" {
		f.Distro = "macos"
	}
	return f, nil
}

// runPOSIX runs a command before the facts are known (Run consults them).
func (t *Target) runPOSIX(ctx context.Context, argv []string) (diag.CommandResult, error) {
	if err := t.acquire(ctx); err != nil {
		return diag.CommandResult{}, err
	}
	defer t.release()
	sess, err := t.client.NewSession()
	if err != nil {
		return diag.CommandResult{}, err
	}
	defer sess.Close()
	stdout, stderr := diag.NewCappedBuffer(64<<10), diag.NewCappedBuffer(64<<10)
	sess.Stdout, sess.Stderr = stdout, stderr
	done := make(chan error, 1)
	go func() { done <- sess.Run(shellQuote(argv)) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		sess.Close()
		return diag.CommandResult{}, ctx.Err()
	}
	res := diag.CommandResult{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	if err != nil {
		if ee, ok := err.(interface{ ExitStatus() int }); ok {
			res.ExitCode = ee.ExitStatus()
			return res, nil
		}
		return res, err
	}
	return res, nil
}

// goos maps uname -s to Go's names for operating systems.
func goos(s string) string {
	switch strings.ToLower(s) {
	case "linux":
		return "linux"
	case "darwin":
		return "darwin"
	case "freebsd":
		return "freebsd"
	case "openbsd":
		return "openbsd"
	case "netbsd":
		return "netbsd"
	case "dragonfly":
		return "dragonfly"
	case "sunos":
		return "solaris"
	case "aix":
		return "aix"
	}
	if strings.HasPrefix(strings.ToLower(s), "cygwin") || strings.HasPrefix(strings.ToLower(s), "mingw") || strings.HasPrefix(strings.ToLower(s), "msys") {
		return "windows"
	}
	return strings.ToLower(s)
}

// goarch maps uname -m to Go's names for architectures.
func goarch(m string) string {
	switch m {
	case "x86_64", "amd64":
		return "amd64"
	case "aarch64", "arm64":
		return "arm64"
	case "i386", "i486", "i586", "i686", "x86":
		return "386"
	case "armv6l", "armv7l", "armv7", "arm":
		return "arm"
	case "ppc64le":
		return "ppc64le"
	case "s390x":
		return "s390x"
	case "riscv64":
		return "riscv64"
	}
	return m
}
