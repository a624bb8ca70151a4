package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/playbooks"
	"github.com/triage-dev/triage/remote"
	"github.com/triage-dev/triage/remote/sshtest"
	"github.com/triage-dev/triage/reports"
)

// gate is a TCP relay on loopback that a test opens and shuts: shut, it
// drops every connection through it and refuses new ones, as a network
// that went away would.
type gate struct {
	t    *testing.T
	addr string
	to   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newGate(t *testing.T, to string) *gate {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{t: t, addr: ln.Addr().String(), to: to, conns: map[net.Conn]struct{}{}}
	g.serve(ln)
	t.Cleanup(func() { g.shut(); g.wg.Wait() })
	return g
}

func (g *gate) serve(ln net.Listener) {
	g.ln = ln
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", g.to)
			if err != nil {
				c.Close()
				continue
			}
			g.mu.Lock()
			g.conns[c], g.conns[up] = struct{}{}, struct{}{}
			g.mu.Unlock()
			for _, p := range [][2]net.Conn{{c, up}, {up, c}} {
				g.wg.Add(1)
				go func() {
					defer g.wg.Done()
					_, _ = io.Copy(p[0], p[1])
					p[0].Close()
					p[1].Close()
				}()
			}
		}
	}()
}

// shut drops the connections and stops accepting.
func (g *gate) shut() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ln != nil {
		g.ln.Close()
		g.ln = nil
	}
	for c := range g.conns {
		c.Close()
	}
	clear(g.conns)
}

// open accepts again, on the same address.
func (g *gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ln != nil {
		return
	}
	ln, err := net.Listen("tcp", g.addr)
	if err != nil {
		g.t.Fatalf("listening again on %s: %v", g.addr, err)
	}
	g.serve(ln)
}

// TestWatchSSHConnectionLost watches a host over SSH (the in-process test
// server, behind a gate) while the network to it goes away for 25 s and
// comes back: the watch notices at the next round, journals the loss once,
// dials again after 1 s, 2 s, 4 s..., journals the reconnection, goes on
// with its rounds, and the report has the outage as an episode of its own,
// named first. The watch's clock is the test's (its waits move it on), so
// the backoff costs no real time.
func TestWatchSSHConnectionLost(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	dir := t.TempDir()
	key, keyPEM := sshtest.NewUserKey(t)
	keyPath := filepath.Join(dir, "id")
	os.WriteFile(keyPath, keyPEM, 0o600)
	srv := sshtest.Start(t, sshtest.Options{AuthorizedKeys: []ssh.PublicKey{key.PublicKey()}})
	g := newGate(t, srv.Addr)
	knownHosts := filepath.Join(dir, "known_hosts")
	os.WriteFile(knownHosts, []byte(sshtest.KnownHostsLine(g.addr, srv.HostKeys[0].PublicKey())+"\n"), 0o600)
	cfg := filepath.Join(dir, "ssh_config")
	os.WriteFile(cfg, []byte(fmt.Sprintf("Host *\n  UserKnownHostsFile %s\n  IdentityFile %s\n  ConnectTimeout 5\n", knownHosts, keyPath)), 0o600)
	dialer, err := remote.NewDialer(remote.Options{ConfigFile: cfg, Home: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer dialer.Close()

	pbPath := filepath.Join(dir, "alive.yaml")
	os.WriteFile(pbPath, []byte("checks:\n  - id: alive\n    title: Host answers\n    command: {argv: [echo, ok], stdout_contains: ok}\n"), 0o644)
	pb, err := playbooks.Open(pbPath, playbooks.Options{})
	if err != nil {
		t.Fatal(err)
	}

	const every = 5 * time.Second
	down, up := 20*time.Second, 45*time.Second
	t0 := time.Date(2025, 3, 4, 14, 0, 0, 0, time.UTC)
	clock := &watchClock{t: t0}
	var waits []time.Duration
	isDown := false
	schedule := func() {
		since := clock.Now().Sub(t0)
		switch off := since >= down && since < up; {
		case off && !isDown:
			g.shut()
		case !off && isDown:
			g.open()
		}
		isDown = since >= down && since < up
	}
	spec := sshtest.DefaultUser + "@" + g.addr
	journalPath := filepath.Join(dir, "watch.jsonl")
	j, err := reports.CreateJournal(journalPath, watchHeader([]*playbooks.Playbook{pb}, spec, "", every, t0))
	if err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	io := &streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &errOut}
	w := &watcher{
		io: io, every: every, dur: 90 * time.Second, now: clock.Now,
		hr:     &hostRunner{checkParallel: 1, checkTimeout: 5 * time.Second, now: clock.Now},
		job:    hostJob{Playbooks: []*playbooks.Playbook{pb}},
		dialer: dialer, spec: spec, hostTimeout: 30 * time.Second, journal: j,
		sleep: func(ctx context.Context, d time.Duration) {
			waits = append(waits, d)
			clock.advance(d)
			schedule()
		},
	}
	if err := w.run(context.Background()); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	j.Close()
	t.Logf("live view off a terminal:\n%s", errOut.String())

	// The journal: the loss once, at the first round after the gate
	// shut; the reconnection at the first attempt after it opened.
	f, err := os.Open(journalPath)
	if err != nil {
		t.Fatal(err)
	}
	jr, err := reports.ReadJournal(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, e := range jr.Events {
		events = append(events, fmt.Sprintf("%s@%s", e.Event, e.Time.Sub(t0)))
	}
	if len(jr.Events) != 3 || jr.Events[0].Event != reports.EventDisconnected || jr.Events[1].Event != reports.EventConnected || jr.Events[2].Event != reports.EventStopped {
		t.Fatalf("events %v, want disconnected, connected, stopped", events)
	}
	lost, back := jr.Events[0].Time.Sub(t0), jr.Events[1].Time.Sub(t0)
	if lost < down || lost > down+every {
		t.Errorf("the loss was journaled at %s; the network went at %s (want within %s)", lost, down, every)
	}
	if jr.Events[0].Error == "" {
		t.Errorf("the loss has no error: %+v", jr.Events[0])
	}
	// Dialled again after 1, 2, 4, 8 and 16 s: the fifth wait ends at
	// 51 s, the first attempt after the network came back at 45 s.
	var backoff []time.Duration
	for _, d := range waits[:len(waits)-1] { // the last: to the watch's end
		if d != every && d > 0 {
			backoff = append(backoff, d)
		}
	}
	if want := []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second}; fmt.Sprint(backoff) != fmt.Sprint(want) {
		t.Errorf("waits between attempts %v, want %v (all waits: %v)", backoff, want, waits)
	}
	if back < up || back > up+16*time.Second {
		t.Errorf("the reconnection was journaled at %s; the network came back at %s", back, up)
	}
	// Rounds went on after it, on the interval's grid again.
	// 0, 5, 10, 15 s; then 51, 56... 86 s.
	if n := jr.Rounds(); n != 12 {
		t.Errorf("%d rounds in the journal, want 4 before the loss and 8 after the reconnection (%v)", n, events)
	}
	if last := jr.Spans[len(jr.Spans)-1].Last.Sub(t0); last < 85*time.Second {
		t.Errorf("the last round started at %s; the watch was to go on until 90s", last)
	}

	// The report: the outage is an episode, named first, in every format.
	rep, err := w.report()
	if err != nil {
		t.Fatal(err)
	}
	h := rep.Hosts[0]
	if len(h.Episodes) != 1 || h.Episodes[0].Check != reports.ConnectionCheck || h.Episodes[0].Ongoing {
		t.Fatalf("episodes %+v, want the connection lost once", h.Episodes)
	}
	if len(h.Diagnosis) == 0 || h.Diagnosis[0].Check != reports.ConnectionCheck || !strings.Contains(h.Diagnosis[0].Summary, "lost once") {
		t.Errorf("diagnosis %+v, want the lost connection first", h.Diagnosis)
	}
	if tl := h.Timeline; tl == nil || len(tl.Gaps) != 1 {
		t.Errorf("timeline %+v, want one gap", tl)
	}
	for _, format := range []string{"text", "markdown", "html"} {
		var out bytes.Buffer
		r, _ := reports.Lookup(format)
		if err := r.Render(&out, rep, reports.Options{}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "SSH connection to "+spec) {
			t.Errorf("%s report does not mention the lost connection:\n%s", format, out.String())
		}
	}
	// The live view said so as it happened.
	for _, s := range []string{"lost " + spec + ": ", "connected to " + spec + " again"} {
		if !strings.Contains(errOut.String(), s) {
			t.Errorf("the live view did not say %q:\n%s", s, errOut.String())
		}
	}
}

// The live view's test lives here, beside the watch's other new tests.

// vscreen is as much of a terminal as the live view uses: text, CR, LF,
// ESC[K (clear to the end of the line) and ESC[nA (up n lines), wrapping
// at its width like a terminal does.
type vscreen struct {
	width    int
	rows     [][]rune
	row, col int
	wrapped  int // lines that wrapped: the redraw would go wrong
}

func (s *vscreen) Write(p []byte) (int, error) {
	in := []rune(string(p))
	for i := 0; i < len(in); i++ {
		for s.row >= len(s.rows) {
			s.rows = append(s.rows, nil)
		}
		switch c := in[i]; {
		case c == '\r':
			s.col = 0
		case c == '\n':
			s.row, s.col = s.row+1, 0
		case c == 0x1b && i+1 < len(in) && in[i+1] == '[':
			j := i + 2
			n := 0
			for ; j < len(in) && in[j] >= '0' && in[j] <= '9'; j++ {
				n = n*10 + int(in[j]-'0')
			}
			switch in[j] {
			case 'K':
				s.rows[s.row] = s.rows[s.row][:min(s.col, len(s.rows[s.row]))]
			case 'A':
				s.row = max(s.row-max(n, 1), 0)
			}
			i = j
		default:
			if s.col >= s.width {
				s.wrapped++
				s.row, s.col = s.row+1, 0
				for s.row >= len(s.rows) {
					s.rows = append(s.rows, nil)
				}
			}
			r := s.rows[s.row]
			for len(r) <= s.col {
				r = append(r, ' ')
			}
			r[s.col] = c
			s.rows[s.row] = r
			s.col++
		}
	}
	return len(p), nil
}

func (s *vscreen) String() string {
	var lines []string
	for _, r := range s.rows {
		lines = append(lines, strings.TrimRight(string(r), " "))
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

// TestWatchLiveView drives the live view, as on a terminal, through five
// rounds of three checks (one flapping, one with a long message, one
// blocked), on a screen 60 and then 40 columns wide, and compares the
// screen with what it must show: redrawn in place, nothing wrapped.
func TestWatchLiveView(t *testing.T) {
	at := time.Date(2025, 3, 4, 14, 2, 10, 0, time.UTC)
	loss := func(p float64) map[string]any { return map[string]any{"loss_percent": p} }
	round := func(router diag.Status, dnsBlocked bool) reports.Host {
		h := reports.Host{Results: []reports.Result{
			{ID: "router", Title: "Router", Status: router, Observed: loss(0)},
			{ID: "dns", Title: "DNS servers answer for the organisation's names", Status: diag.Pass},
			{ID: "web", Title: "Website", Status: diag.Pass},
		}}
		if router == diag.Fail {
			h.Results[0].Observed = loss(100)
			h.Results[0].Message = "the default gateway 198.18.0.1 does not answer: no reply to ping\nsecond line"
		}
		if dnsBlocked {
			h.Results[1].Status, h.Results[1].BlockedBy = diag.Skip, "router"
		}
		h.Results[2].Status, h.Results[2].Message = diag.Warn, "answered in 2.5s – slower than the 2s limit"
		return h
	}
	for _, tc := range []struct {
		width int
		want  string
	}{{60, `triage watch · round 5 at 14:02:14 · Ctrl-C to stop
  Router              ▁██▁▁ 0% loss
  DNS servers answer… ▁··▁▁
  Website             ▄▄▄▄▄ answered in 2.5s – slower than…
  ! 14:02:20 lost laptop: EOF; trying again
  ! 14:02:20 connected to laptop again`},
		{40, `triage watch · round 5 at 14:02:14 · C…
  Router        ▁██▁▁ 0% loss
  DNS servers … ▁··▁▁
  Website       ▄▄▄▄▄ answered in 2.5s…
  ! 14:02:20 lost laptop: EOF; trying …
  ! 14:02:20 connected to laptop again`}} {
		t.Run(strconv.Itoa(tc.width), func(t *testing.T) {
			scr := &vscreen{width: tc.width}
			io := &streams{Out: &bytes.Buffer{}, Err: scr, ErrIsTTY: true, NoColor: true}
			v := newLiveView(io)
			v.width = func() int { return tc.width }
			v.now = func() time.Time { return at.Add(10 * time.Second) }
			for i, st := range []diag.Status{diag.Pass, diag.Fail, diag.Fail, diag.Pass, diag.Pass} {
				v.round(at.Add(time.Duration(i)*time.Second), round(st, st == diag.Fail))
				// A connection lost and found again between rounds: the
				// events join the view, which stays one copy.
				if i == 3 {
					v.event("lost %s: %v; trying again", "laptop", "EOF")
					v.event("connected to %s again", "laptop")
				}
				if i == 1 {
					mid := "  Router              ▁█ 100% loss the default gateway 198…"
					if tc.width == 60 && !strings.Contains(scr.String(), mid) {
						t.Errorf("after round 2:\n%s\nwant the line\n%s", scr, mid)
					}
				}
			}
			if got := scr.String(); got != tc.want {
				t.Errorf("screen:\n%s\nwant:\n%s", got, tc.want)
			}
			if scr.wrapped > 0 {
				t.Errorf("%d lines wrapped", scr.wrapped)
			}
		})
	}
}
