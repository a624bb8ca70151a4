package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/triage-dev/triage/remote/sshtest"
	"github.com/triage-dev/triage/reports"
)

// benchExec answers the commands bench/bench.yaml runs over SSH (getent
// for the DNS check; uname, should the facts not come from /proc) without
// starting a process, so that the benchmark measures triage rather than
// fork and exec; anything else runs in a real shell.
func benchExec(ctx context.Context, command string, stdin io.Reader, stdout, stderr io.Writer) int {
	switch command {
	case "uname -s -n -r -m":
		io.WriteString(stdout, "Linux benchhost 6.1.0-28-amd64 x86_64\n")
		return 0
	case "getent ahostsv4 localhost":
		io.WriteString(stdout, "127.0.0.1       STREAM localhost\n127.0.0.1       DGRAM  \n127.0.0.1       RAW    \n")
		return 0
	}
	return sshtest.ShellExec(ctx, command, stdin, stdout, stderr)
}

// heapUse is the memory a sweep holds: the heap in use (live objects and
// garbage not yet collected) with the goroutine stacks, and the live heap
// as the last collection found it.
type heapUse struct{ inUse, live uint64 }

var heapSamples = []string{
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/stacks:bytes",
	"/gc/heap/live:bytes",
}

func readHeapUse() heapUse {
	s := make([]metrics.Sample, len(heapSamples))
	for i, name := range heapSamples {
		s[i].Name = name
	}
	metrics.Read(s)
	return heapUse{
		inUse: s[0].Value.Uint64() + s[1].Value.Uint64() + s[2].Value.Uint64(),
		live:  s[3].Value.Uint64(),
	}
}

// heapSampler records the highest memory use seen while it runs.
type heapSampler struct {
	stop chan struct{}
	done sync.WaitGroup
	peak heapUse
}

func (h *heapSampler) sample() {
	u := readHeapUse()
	h.peak.inUse = max(h.peak.inUse, u.inUse)
	h.peak.live = max(h.peak.live, u.live)
}

func sampleHeap(every time.Duration) *heapSampler {
	h := &heapSampler{stop: make(chan struct{})}
	h.done.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			h.sample()
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	})
	return h
}

func (h *heapSampler) finish() heapUse {
	close(h.stop)
	h.done.Wait()
	h.sample()
	return h.peak
}

// BenchmarkSweep500 sweeps 500 hosts, each an in-process SSH server of its
// own (one connection per host, as with real ones), 100 at once, with the
// benchmark playbook bench/bench.yaml: the disk of /, the package database
// (bisected), os-release, /proc and the hosts file over SFTP (getent in
// an exec channel where the hosts file does not answer). It reports the
// time of a sweep and, per concurrent host, the peak heap in use with the
// stacks (MiB/concurrent-host) and the peak live heap
// (live-MiB/concurrent-host), both above what the idle servers hold. The servers run in the same process, so these include their side
// of each connection: an upper bound for triage alone (bench/sweep.sh
// measures triage's own RSS against real sshd).
func BenchmarkSweep500(b *testing.B) {
	const hosts, parallel = 500, 100
	b.Setenv("SSH_AUTH_SOCK", "")
	dir := b.TempDir()
	key, keyPEM := sshtest.NewUserKey(b)
	hostKey := sshtest.NewHostKey(b, sshtest.Ed25519)
	keyPath := filepath.Join(dir, "id")
	knownHosts := filepath.Join(dir, "known_hosts")
	sshConfig := filepath.Join(dir, "ssh_config")
	inventory := filepath.Join(dir, "hosts.yaml")
	if err := os.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		b.Fatal(err)
	}
	os.WriteFile(sshConfig, []byte(fmt.Sprintf("Host *\n  IdentityFile %s\n  UserKnownHostsFile %s\n", keyPath, knownHosts)), 0o600)

	var inv, known strings.Builder
	inv.WriteString("hosts:\n")
	for i := 1; i <= hosts; i++ {
		s := sshtest.Start(b, sshtest.Options{
			HostKeys:       []ssh.Signer{hostKey},
			AuthorizedKeys: []ssh.PublicKey{key.PublicKey()},
			Exec:           benchExec,
		})
		fmt.Fprintf(&inv, "  h%03d: {address: 127.0.0.1, port: %d, user: %s}\n", i, s.Port, sshtest.DefaultUser)
		known.WriteString(s.KnownHostsLine("127.0.0.1") + "\n")
	}
	os.WriteFile(inventory, []byte(inv.String()), 0o644)
	os.WriteFile(knownHosts, []byte(known.String()), 0o600)
	playbook, err := filepath.Abs(filepath.Join("..", "..", "bench", "bench.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	args := []string{"sweep", "-i", inventory, playbook, "-F", sshConfig, "--parallel", fmt.Sprint(parallel), "-o", "json"}

	runtime.GC()
	idle := readHeapUse()
	var peak heapUse
	var out, errOut bytes.Buffer
	b.ResetTimer()
	for b.Loop() {
		out.Reset()
		errOut.Reset()
		h := sampleHeap(2 * time.Millisecond)
		code := Main(args, &streams{In: strings.NewReader(""), Out: &out, Err: &errOut})
		p := h.finish()
		peak.inUse, peak.live = max(peak.inUse, p.inUse), max(peak.live, p.live)
		if code > exitFail {
			b.Fatalf("sweep exited %d\n%s", code, errOut.String())
		}
	}
	b.StopTimer()
	rep, err := reports.Read(&out)
	if err != nil {
		b.Fatal(err)
	}
	for _, h := range rep.Hosts {
		if h.Error != "" || len(h.Results) != 4 {
			b.Fatalf("%s: %q, %d results", h.Target, h.Error, len(h.Results))
		}
	}
	perHost := func(peak, idle uint64) float64 {
		return float64(peak-min(idle, peak)) / float64(parallel) / (1 << 20)
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/sweep")
	b.ReportMetric(perHost(peak.inUse, idle.inUse), "MiB/concurrent-host")
	b.ReportMetric(perHost(peak.live, idle.live), "live-MiB/concurrent-host")
}
