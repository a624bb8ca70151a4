package netcheck

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
)

// sntpServer answers SNTP queries on 127.0.0.1 with a clock that is offset
// from this one; answer, when given, turns the reply into the datagrams
// actually sent, so that a server can misbehave.
func sntpServer(t *testing.T, offset time.Duration, answer func(reply []byte) [][]byte) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 48 || buf[0]&7 != 3 {
				continue
			}
			received := time.Now().Add(offset)
			reply := make([]byte, 48)
			reply[0] = 0<<6 | 4<<3 | 4 // no leap warning, version 4, server mode
			reply[1] = 2               // stratum
			copy(reply[12:16], net.ParseIP("192.0.2.123").To4())
			copy(reply[24:32], buf[40:48]) // originate = the client's transmit time
			putNTPTime(reply[32:40], received)
			putNTPTime(reply[40:48], time.Now().Add(offset))
			send := [][]byte{reply}
			if answer != nil {
				send = answer(reply)
			}
			for _, p := range send {
				pc.WriteTo(p, from)
			}
		}
	}()
	return pc.LocalAddr().String()
}

func timeCheck(t *testing.T, edit func(*Time)) *Time {
	c := newKind[*Time](t, "time")
	c.Timeout = dur(2 * time.Second)
	edit(c)
	return c
}

func TestTimeSNTP(t *testing.T) {
	local := diag.NewLocal()
	tests := []struct {
		name   string
		server string
		edit   func(*Time)
		status diag.Status
		msg    []string
		offset time.Duration // expected offset_ms, to within 500ms
	}{
		{"in sync", sntpServer(t, 0, nil), nil, diag.Pass, []string{"the local clock is", "(±"}, 0},
		{"behind", sntpServer(t, 3*time.Second, nil), nil, diag.Warn, []string{"the local clock is 3", "behind", "more than warn_offset (1s)"}, 3 * time.Second},
		{"far ahead", sntpServer(t, -45*time.Second, nil), nil, diag.Fail, []string{"the local clock is 45s ahead of", "more than fail_offset (30s)"}, -45 * time.Second},
		{"thresholds from the playbook", sntpServer(t, 3*time.Second, nil), func(c *Time) { c.WarnOffset, c.FailOffset = dur(5*time.Second), dur(10*time.Second) }, diag.Pass, nil, 3 * time.Second},
		{"stray packets ignored", sntpServer(t, 2*time.Second, func(reply []byte) [][]byte {
			stray := append([]byte(nil), reply...)
			stray[24] ^= 0xff // answers some other request
			putNTPTime(stray[40:48], time.Now().Add(time.Hour))
			return [][]byte{stray, []byte("short"), reply}
		}), nil, diag.Warn, nil, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := timeCheck(t, func(c *Time) {
				c.Server = tt.server
				if tt.edit != nil {
					tt.edit(c)
				}
			})
			r := run(t, c, local)
			expect(t, r, tt.status, tt.msg...)
			got, ok := r.Observed["offset_ms"].(float64)
			if !ok || got < float64((tt.offset-500*time.Millisecond).Milliseconds()) || got > float64((tt.offset+500*time.Millisecond).Milliseconds()) {
				t.Errorf("offset_ms = %v, want about %v", r.Observed["offset_ms"], tt.offset.Milliseconds())
			}
			if r.Observed["server"] != tt.server || r.Observed["stratum"] != 2 || r.Observed["method"] != "ntp" {
				t.Errorf("observed %v", r.Observed)
			}
			if _, ok := r.Observed["rtt_ms"].(float64); !ok {
				t.Errorf("no rtt_ms: %v", r.Observed)
			}
			if !strings.Contains(r.Evidence, "reference 192.0.2.123") {
				t.Errorf("evidence %s", r.Evidence)
			}
		})
	}
}

func TestTimeSNTPFailures(t *testing.T) {
	local := diag.NewLocal()
	kod := sntpServer(t, 0, func(reply []byte) [][]byte {
		reply[1] = 0
		copy(reply[12:16], "RATE")
		return [][]byte{reply}
	})
	unsync := sntpServer(t, 0, func(reply []byte) [][]byte {
		reply[0] |= 3 << 6
		return [][]byte{reply}
	})
	wrongOrigin := sntpServer(t, 0, func(reply []byte) [][]byte {
		reply[24] ^= 0xff
		return [][]byte{reply}
	})
	tests := []struct {
		name   string
		check  *Time
		target diag.Target
		msg    string
		hint   string
	}{
		{"kiss-o'-death", timeCheck(t, func(c *Time) { c.Server = kod }), local, "kiss-o'-death RATE", "rate-limiting"},
		{"unsynchronised server", timeCheck(t, func(c *Time) { c.Server = unsync }), local, "own clock is not synchronised", "another"},
		{"no answer", timeCheck(t, func(c *Time) { c.Server, c.Timeout = silentUDP(t), dur(300*time.Millisecond) }), local, "no answer from the NTP server within 300ms", "url:"},
		{"answers that are not ours", timeCheck(t, func(c *Time) { c.Server, c.Timeout = wrongOrigin, dur(300*time.Millisecond) }), local, "no answer from the NTP server", ""},
		{"nothing listens", timeCheck(t, func(c *Time) { c.Server = closedUDPPort(t) }), local, "nothing listens on its UDP port 123", ""},
		{"target without UDP", timeCheck(t, func(c *Time) { c.Server = kod }), tcpOnly{local}, "cannot query the NTP server", "url:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.check, tt.target)
			// The reference could not be read: the clock was not judged.
			expect(t, r, diag.Error, tt.msg)
			if tt.hint != "" && !strings.Contains(r.Hint, tt.hint) {
				t.Errorf("hint %q does not mention %q", r.Hint, tt.hint)
			}
		})
	}
}

func TestTimeHTTPDate(t *testing.T) {
	skewed := func(offset time.Duration) string {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Date", time.Now().Add(offset).UTC().Format(http.TimeFormat))
		}))
		t.Cleanup(s.Close)
		return s.URL + "/"
	}
	noDate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil
	}))
	t.Cleanup(noDate.Close)

	local := diag.NewLocal()
	r := run(t, timeCheck(t, func(c *Time) { c.URL = skewed(0) }), local)
	expect(t, r, diag.Pass, "the local clock is")
	if u, _ := r.Observed["uncertainty_ms"].(float64); u < 500 {
		t.Errorf("an HTTP date is precise to a second, yet uncertainty_ms = %v", u)
	}

	r = run(t, timeCheck(t, func(c *Time) { c.URL = skewed(10 * time.Second) }), local)
	expect(t, r, diag.Warn, "behind", "more than warn_offset (1s)")
	if off, _ := r.Observed["offset_ms"].(float64); off < 9000 || off > 11000 {
		t.Errorf("offset_ms = %v, want about 10000", off)
	}
	if r.Observed["method"] != "http" {
		t.Errorf("observed %v", r.Observed)
	}

	r = run(t, timeCheck(t, func(c *Time) { c.URL = skewed(-2 * time.Minute) }), local)
	expect(t, r, diag.Fail, "ahead of")

	r = run(t, timeCheck(t, func(c *Time) { c.URL = noDate.URL }), local)
	expect(t, r, diag.Error, "no Date header in the response")

	// With server and url, the URL is the fallback for an NTP server that
	// does not answer (NTP blocked), not an error in the playbook.
	r = run(t, timeCheck(t, func(c *Time) {
		c.Server, c.URL, c.Timeout = silentUDP(t), skewed(-2*time.Minute), dur(time.Second)
	}), local)
	expect(t, r, diag.Fail, "ahead of", "from the web server's Date header, since")
	if r.Observed["method"] != "http" {
		t.Errorf("observed %v", r.Observed)
	}
}

func TestNTPTimestamps(t *testing.T) {
	for _, want := range []time.Time{
		time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC),
		// After the NTP era rolls over in February 2036.
		time.Date(2040, 1, 1, 0, 0, 0, 250000000, time.UTC),
	} {
		b := make([]byte, 8)
		putNTPTime(b, want)
		got := ntpTime(b)
		if d := got.Sub(want).Abs(); d > time.Microsecond {
			t.Errorf("%v came back as %v", want, got)
		}
	}
}

func TestTimeValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Time)
		field string
	}{
		{"bad server port", func(c *Time) { c.Server = "pool.ntp.org:0" }, "server"},
		{"server URL", func(c *Time) { c.Server = "ntp://pool.ntp.org" }, "server"},
		{"bad url", func(c *Time) { c.URL = "example.com" }, "url"},
		{"warn above fail", func(c *Time) { c.WarnOffset, c.FailOffset = dur(time.Minute), dur(time.Second) }, "warn_offset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertFieldError(t, timeCheck(t, tt.edit).Validate(), tt.field)
		})
	}
	if err := timeCheck(t, func(*Time) {}).Validate(); err != nil {
		t.Errorf("the defaults do not validate: %v", err)
	}
}
