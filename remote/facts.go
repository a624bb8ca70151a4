package remote

import (
	"context"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"maps"
	"strings"
	"sync"

	"github.com/triage-dev/triage/diag"
)

// Facts finds out what the target is, once. On Linux it reads what uname
// would say from /proc over SFTP, alongside os-release and
// /proc/net/route (see procFacts); elsewhere, or without SFTP, it runs uname
// and reads those two files after. A target where uname does not exist is
// taken for Windows.
func (t *Target) Facts(ctx context.Context) (diag.Facts, error) {
	t.factsOnce.Do(func() { t.facts, t.factsErr = t.probeFacts(ctx) })
	return t.facts, t.factsErr
}

func (t *Target) probeFacts(ctx context.Context) (diag.Facts, error) {
	if f, ok := t.procFacts(ctx); ok {
		return f, nil
	}
	if ctx.Err() != nil {
		return diag.Facts{}, fmt.Errorf("cannot find out what %s runs: %w", t.name, ctx.Err())
	}
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
		for _, p := range osReleasePaths {
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

// osReleasePaths are where os-release may be, the first found wins.
var osReleasePaths = []string{"/etc/os-release", "/usr/lib/os-release"}

// procFiles are what procFacts reads, all at once; procFallbacks, those it
// reads after when one of the first is missing.
var (
	procFiles = []string{
		"/proc/version",             // uname -s and -r: "Linux version RELEASE (...)"
		"/proc/sys/kernel/hostname", // uname -n
		"/proc/sys/kernel/arch",     // uname -m, on newer kernels
		osReleasePaths[0],
		"/proc/net/route",
	}
	procFallbacks = map[string]string{
		"/proc/sys/kernel/arch": "/proc/self/exe", // the arch of sftp-server's own binary
		osReleasePaths[0]:       osReleasePaths[1],
	}
)

// procFacts finds out a Linux host's facts over SFTP alone: uname's answers
// are in /proc. Every Linux run reads os-release over SFTP anyway, and a
// command costs the host a session (sshd forks the user's shell for it):
// across a fleet, not running uname saves the hosts about a sixth of the
// work a small playbook asks of them (bench/README.md). The files are read
// without asking their sizes first, each request being work for the
// server. ok is false when SFTP is not offered or the host is not Linux;
// the caller runs uname then.
func (t *Target) procFacts(ctx context.Context) (f diag.Facts, ok bool) {
	sc, err := t.sftpClient(ctx)
	if err != nil {
		return f, false
	}
	read := func(paths []string) map[string][]byte {
		data := make([][]byte, len(paths))
		var wg sync.WaitGroup
		for i, p := range paths {
			wg.Go(func() {
				limit, guess := int64(64<<10), int64(4<<10)
				switch p {
				case "/proc/net/route":
					limit = 1 << 20
				case "/proc/self/exe":
					limit, guess = 64, 64 // the ELF header's start
				}
				if b, _, err := sftpRead(ctx, sc, p, limit, guess); err == nil {
					data[i] = b
				}
			})
		}
		wg.Wait()
		out := make(map[string][]byte, len(paths))
		for i, p := range paths {
			if data[i] != nil {
				out[p] = data[i]
			}
		}
		return out
	}
	files := read(procFiles)
	sysname, release, ok := parseProcVersion(files["/proc/version"])
	if !ok || sysname != "Linux" {
		return f, false
	}
	var more []string
	for _, p := range procFiles {
		if fb, ok := procFallbacks[p]; ok && files[p] == nil {
			more = append(more, fb)
		}
	}
	if len(more) > 0 {
		maps.Copy(files, read(more))
	}
	f.OS = "linux"
	f.Kernel = release
	f.Hostname = strings.TrimSpace(string(files["/proc/sys/kernel/hostname"]))
	if m := strings.TrimSpace(string(files["/proc/sys/kernel/arch"])); m != "" {
		f.Arch = goarch(m)
	} else {
		f.Arch = elfArch(files["/proc/self/exe"])
	}
	if f.Hostname == "" || f.Arch == "" {
		return diag.Facts{}, false
	}
	for _, p := range osReleasePaths {
		if b := files[p]; b != nil {
			diag.ApplyOSRelease(&f, diag.ParseOSRelease(b))
			break
		}
	}
	f.Gateway = diag.ParseProcNetRoute(files["/proc/net/route"])
	return f, true
}

// parseProcVersion reads the kernel's name and release from /proc/version,
// which the kernel has written as "%s version %s (%s@%s) ..." with uname's
// sysname and release since Linux 2.x: "Linux version 6.1.0-28-amd64 (...)".
func parseProcVersion(data []byte) (sysname, release string, ok bool) {
	f := strings.Fields(string(data))
	if len(f) < 3 || f[1] != "version" {
		return "", "", false
	}
	return f[0], f[2], true
}

// elfArch names, as Go does, the architecture an ELF file's header says it
// was built for, or "" when hdr is not the start of an ELF file of a
// known architecture.
func elfArch(hdr []byte) string {
	if len(hdr) < 20 || string(hdr[:4]) != elf.ELFMAG {
		return ""
	}
	is64 := elf.Class(hdr[elf.EI_CLASS]) == elf.ELFCLASS64
	var order binary.ByteOrder
	switch elf.Data(hdr[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		order = binary.LittleEndian
	case elf.ELFDATA2MSB:
		order = binary.BigEndian
	default:
		return ""
	}
	little := order == binary.LittleEndian
	switch elf.Machine(order.Uint16(hdr[18:20])) {
	case elf.EM_X86_64:
		return "amd64"
	case elf.EM_386:
		return "386"
	case elf.EM_AARCH64:
		return "arm64"
	case elf.EM_ARM:
		return "arm"
	case elf.EM_PPC64:
		if little {
			return "ppc64le"
		}
		return "ppc64"
	case elf.EM_S390:
		if is64 {
			return "s390x"
		}
	case elf.EM_RISCV:
		if is64 {
			return "riscv64"
		}
	case elf.EM_LOONGARCH:
		if is64 {
			return "loong64"
		}
	case elf.EM_MIPS:
		switch {
		case is64 && little:
			return "mips64le"
		case is64:
			return "mips64"
		case little:
			return "mipsle"
		default:
			return "mips"
		}
	}
	return ""
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
