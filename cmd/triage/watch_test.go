package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/playbooks"
	"github.com/triage-dev/triage/reports"
)

// watchClock is a watch's clock in a test: sleeping moves it on at once.
type watchClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *watchClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *watchClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(max(d, 0))
	c.mu.Unlock()
}

// TestWatchEpisodesMatchSchedule watches a tcp check against a loopback
// listener that the test closes and opens on a schedule of the watch's
// own clock: the episodes found must match the schedule within one
// interval. The clock is the watch's, moved on by its waits, so the test
// takes no real time to speak of and asserts nothing about real time.
func TestWatchEpisodesMatchSchedule(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	down := [][2]time.Duration{{20 * time.Second, 40 * time.Second}, {70 * time.Second, 95 * time.Second}}
	t0 := time.Date(2025, 3, 4, 14, 0, 0, 0, time.UTC)
	clock := &watchClock{t: t0}
	// schedule opens or closes the listener for the clock's time.
	schedule := func() {
		since := clock.Now().Sub(t0)
		off := false
		for _, d := range down {
			off = off || since >= d[0] && since < d[1]
		}
		switch {
		case off && ln != nil:
			ln.Close()
			ln = nil
		case !off && ln == nil:
			if ln, err = net.Listen("tcp", addr.String()); err != nil {
				t.Fatalf("listening again on %s: %v", addr, err)
			}
		}
	}
	defer func() {
		if ln != nil {
			ln.Close()
		}
	}()

	dir := t.TempDir()
	pbPath := filepath.Join(dir, "service.yaml")
	os.WriteFile(pbPath, []byte("checks:\n  - id: service\n    title: Service port\n    tcp: {host: 127.0.0.1, port: "+
		strconv.Itoa(addr.Port)+", timeout: 2s}\n"), 0o644)
	pb, err := playbooks.Open(pbPath, playbooks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	every := 5 * time.Second
	journalPath := filepath.Join(dir, "watch.jsonl")
	j, err := reports.CreateJournal(journalPath, watchHeader([]*playbooks.Playbook{pb}, "local", "", every, t0))
	if err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	io := &streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &errOut}
	w := &watcher{
		io: io, every: every, dur: 2 * time.Minute, now: clock.Now,
		hr:  &hostRunner{checkParallel: 1, checkTimeout: 5 * time.Second, now: clock.Now},
		job: hostJob{Playbooks: []*playbooks.Playbook{pb}}, local: diag.NewLocal(), journal: j,
		sleep: func(ctx context.Context, d time.Duration) { clock.advance(d); schedule() },
	}
	if err := w.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	j.Close()
	rep, err := w.report()
	if err != nil {
		t.Fatal(err)
	}
	eps := rep.Hosts[0].Episodes
	if len(eps) != len(down) {
		t.Fatalf("%d episodes, want %d: %+v\n%s", len(eps), len(down), eps, errOut.String())
	}
	for i, d := range down {
		start, end := eps[i].Start.Sub(t0), eps[i].End.Sub(t0)
		if start < d[0] || start > d[0]+every || end < d[1] || end > d[1]+every {
			t.Errorf("episode %d: %s–%s, want %s–%s within %s", i, start, end, d[0], d[1], every)
		}
	}
	if !strings.Contains(errOut.String(), "Service port: pass -> fail") {
		t.Errorf("no line for the change off a terminal:\n%s", errOut.String())
	}
	if d := rep.Hosts[0].Diagnosis; len(d) == 0 || !strings.Contains(d[0].Summary, "in 2 episodes") {
		t.Errorf("diagnosis %+v", d)
	}
}

// TestWatchKilled kills a real triage watch (the test binary as triage,
// set up on PATH by testscript) with SIGKILL in the middle of its fourth
// round: the journal renders, with the three rounds that finished.
func TestWatchKilled(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	triage, err := exec.LookPath("triage")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// The check counts its rounds; the fourth hangs after saying so.
	os.WriteFile(filepath.Join(dir, "slow.yaml"), []byte(`checks:
  - id: counter
    title: Counter
    command:
      argv: [sh, -c, 'n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; if [ $n -ge 4 ]; then touch in-round-4; exec sleep 300; fi']
    timeout: 10m
`), 0o644)
	cmd := exec.Command(triage, "watch", "slow.yaml", "--every", "1s", "--journal", "j.jsonl")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "in-round-4")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fourth round did not start within a minute:\n%s", stderr.String())
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	render := exec.Command(triage, "report", "render", "j.jsonl", "-o", "json")
	render.Dir = dir
	out, err := render.Output()
	if err != nil {
		t.Fatalf("report render of the killed watch's journal: %v", err)
	}
	rep, err := reports.Read(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if h := rep.Hosts[0]; len(h.Results) != 1 || h.Timeline == nil || h.Timeline.Rounds != 3 {
		t.Fatalf("rendered %+v, want the 3 finished rounds", h.Timeline)
	}
}
