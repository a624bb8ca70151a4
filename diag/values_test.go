package diag_test

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
)

func TestDurationUnmarshalText(t *testing.T) {
	good := []struct {
		in   string
		want time.Duration
	}{
		{"3s", 3 * time.Second},
		{"250ms", 250 * time.Millisecond},
		{"30d", 30 * 24 * time.Hour},
		{"1d12h", 36 * time.Hour},
		{"1m30s", 90 * time.Second},
		{" 2s ", 2 * time.Second},
		{"1.5h", 90 * time.Minute},
		{"1us", time.Microsecond},
		{"1µs", time.Microsecond},
		{"1ns", 1},
	}
	for _, tc := range good {
		var d diag.Duration
		if err := d.UnmarshalText([]byte(tc.in)); err != nil || d.D() != tc.want {
			t.Errorf("Duration(%q) = %v, %v; want %v", tc.in, d.D(), err, tc.want)
		}
	}
	bad := []struct{ in, want string }{
		{"3", `duration "3" has no unit: write 3s or 3ms`},
		{"1.5", `duration "1.5" has no unit: write 1.5s or 1.5ms`},
		{"0", `duration "0" must be positive`},
		{"0s", `duration "0s" must be positive`},
		{"-1s", `duration "-1s" must be positive`},
		{"", `invalid duration "" (want a number and a unit, such as 3s, 250ms, 1m30s or 30d)`},
		{"soon", `invalid duration "soon" (want a number and a unit, such as 3s, 250ms, 1m30s or 30d)`},
		{"3 s", `invalid duration "3 s"`},
		{"3sec", `invalid duration "3sec"`},
		{"3x", `invalid duration "3x"`},
		{"1dd", `invalid duration "1dd"`},
		{"99999999999h", `invalid duration "99999999999h"`},
	}
	for _, tc := range bad {
		d := diag.Duration(time.Hour)
		err := d.UnmarshalText([]byte(tc.in))
		if err == nil {
			t.Errorf("Duration(%q) accepted as %v", tc.in, d.D())
			continue
		}
		if !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Duration(%q) error\n got %q\nwant %q...", tc.in, err, tc.want)
		}
		if d.D() != time.Hour {
			t.Errorf("Duration(%q) changed the value to %v on error", tc.in, d.D())
		}
	}
}

func TestDurationMarshalText(t *testing.T) {
	for _, in := range []string{"3s", "250ms", "1m30s", "2h0m0s"} {
		var d diag.Duration
		if err := d.UnmarshalText([]byte(in)); err != nil {
			t.Fatal(err)
		}
		if out, _ := d.MarshalText(); string(out) != in {
			t.Errorf("%q marshals back as %q", in, out)
		}
	}
}

func TestPercentUnmarshalText(t *testing.T) {
	good := []struct {
		in   string
		want float64
	}{
		{"90%", 90},
		{"90", 90},
		{"12.5", 12.5},
		{"12.5%", 12.5},
		{"0", 0},
		{"0%", 0},
		{"100%", 100},
		{" 85% ", 85},
		{"1e1", 10},
	}
	for _, tc := range good {
		var p diag.Percent
		if err := p.UnmarshalText([]byte(tc.in)); err != nil || float64(p) != tc.want {
			t.Errorf("Percent(%q) = %v, %v; want %v", tc.in, float64(p), err, tc.want)
		}
	}
	const invalid = "(want a number from 0 to 100, such as 90% or 12.5)"
	bad := []struct{ in, want string }{
		{"lots", `invalid percentage "lots" ` + invalid},
		{"", `invalid percentage "" ` + invalid},
		{"%", `invalid percentage "%" ` + invalid},
		{"90%%", `invalid percentage "90%%" ` + invalid},
		{"%90", `invalid percentage "%90" ` + invalid},
		{"NaN", `invalid percentage "NaN" ` + invalid},
		{"nan%", `invalid percentage "nan%" ` + invalid},
		{"101", `percentage "101" is out of range (want 0 to 100)`},
		{"100.5%", `percentage "100.5%" is out of range (want 0 to 100)`},
		{"120%", `percentage "120%" is out of range (want 0 to 100)`},
		{"-1%", `percentage "-1%" is out of range (want 0 to 100)`},
		{"Inf", `percentage "Inf" is out of range (want 0 to 100)`},
		{"-Inf%", `percentage "-Inf%" is out of range (want 0 to 100)`},
	}
	for _, tc := range bad {
		p := diag.Percent(42)
		err := p.UnmarshalText([]byte(tc.in))
		if err == nil {
			t.Errorf("Percent(%q) accepted as %v", tc.in, float64(p))
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("Percent(%q) error\n got %q\nwant %q", tc.in, err, tc.want)
		}
		if p != 42 {
			t.Errorf("Percent(%q) changed the value to %v on error", tc.in, float64(p))
		}
	}
}

func TestPercentMarshalText(t *testing.T) {
	tests := []struct {
		p    diag.Percent
		want string
	}{{90, "90%"}, {12.5, "12.5%"}, {0, "0%"}, {100, "100%"}, {33.333, "33.333%"}}
	for _, tc := range tests {
		if out, _ := tc.p.MarshalText(); string(out) != tc.want {
			t.Errorf("Percent(%v) marshals as %q, want %q", float64(tc.p), out, tc.want)
		}
		var back diag.Percent
		if err := back.UnmarshalText([]byte(tc.want)); err != nil || back != tc.p {
			t.Errorf("%q reads back as %v, %v", tc.want, float64(back), err)
		}
	}
}

func TestSizeUnmarshalText(t *testing.T) {
	good := []struct {
		in   string
		want uint64
	}{
		{"5GiB", 5 << 30},
		{"500MB", 500e6},
		{"1.5G", 3 << 29},
		{"1024", 1024},
		{"0", 0},
		{"0B", 0},
		{"1B", 1},
		{"10K", 10 << 10},
		{"10KiB", 10 << 10},
		{"10KB", 10e3},
		{"10kb", 10e3},
		{"5 gib", 5 << 30},
		{" 7 MiB ", 7 << 20},
		{"2T", 2 << 40},
		{"2TiB", 2 << 40},
		{"2TB", 2e12},
		{"1P", 1 << 50},
		{"1PiB", 1 << 50},
		{"1PB", 1e15},
		{"1e3", 1000},
		{"16383PiB", 16383 << 50},
	}
	for _, tc := range good {
		var sz diag.Size
		if err := sz.UnmarshalText([]byte(tc.in)); err != nil || uint64(sz) != tc.want {
			t.Errorf("Size(%q) = %d, %v; want %d", tc.in, uint64(sz), err, tc.want)
		}
	}
	const invalid = "(want a number and a unit, such as 5GiB, 500MB or 1024)"
	bad := []struct{ in, want string }{
		{"", `invalid size "" ` + invalid},
		{"GiB", `invalid size "GiB" ` + invalid},
		{"B", `invalid size "B" ` + invalid},
		{"5 parsecs", `invalid size "5 parsecs" ` + invalid},
		{"5iB", `invalid size "5iB" ` + invalid},
		{"5 EiB", `invalid size "5 EiB" ` + invalid},
		{"5GiBs", `invalid size "5GiBs" ` + invalid},
		{"NaN", `invalid size "NaN" ` + invalid},
		{"InfB", `invalid size "InfB" ` + invalid},
		{"0x10", `invalid size "0x10" ` + invalid},
		{"-5GiB", `size "-5GiB" must not be negative`},
		{"-1", `size "-1" must not be negative`},
		{"1e30", `size "1e30" is too large`},
		{"16384PiB", `size "16384PiB" is too large`},
		{"18446744073709551616", `size "18446744073709551616" is too large`},
	}
	for _, tc := range bad {
		sz := diag.Size(42)
		err := sz.UnmarshalText([]byte(tc.in))
		if err == nil {
			t.Errorf("Size(%q) accepted as %d", tc.in, uint64(sz))
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("Size(%q) error\n got %q\nwant %q", tc.in, err, tc.want)
		}
		if sz != 42 {
			t.Errorf("Size(%q) changed the value to %d on error", tc.in, uint64(sz))
		}
	}
}

func TestSizeMarshalText(t *testing.T) {
	for _, in := range []string{"0B", "512B", "1.5KiB", "5GiB", "2TiB"} {
		var sz diag.Size
		if err := sz.UnmarshalText([]byte(in)); err != nil {
			t.Fatal(err)
		}
		if out, _ := sz.MarshalText(); string(out) != in {
			t.Errorf("%q marshals back as %q", in, out)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		n    uint64
		want string
	}{
		{0, "0B"},
		{1, "1B"},
		{512, "512B"},
		{1023, "1023B"},
		{1024, "1KiB"},
		{1536, "1.5KiB"},
		{1024*1024 - 1, "1MiB"},
		{1 << 20, "1MiB"},
		{1<<20 + 1<<19, "1.5MiB"},
		{5 << 30, "5GiB"},
		{20 << 30, "20GiB"},
		{1<<30 - 1<<20, "1023MiB"},
		{1 << 40, "1TiB"},
		{270553174016, "252GiB"},
		{1 << 50, "1PiB"},
		{1 << 60, "1024PiB"},
		{math.MaxUint64, "16384PiB"},
	}
	for _, tc := range tests {
		if got := diag.FormatBytes(tc.n); got != tc.want {
			t.Errorf("FormatBytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	// What FormatBytes writes, Size reads back to within its rounding.
	for _, n := range []uint64{1, 1000, 1 << 20, 123456789, 1 << 42, 987654321012} {
		var sz diag.Size
		s := diag.FormatBytes(n)
		if err := sz.UnmarshalText([]byte(s)); err != nil {
			t.Errorf("Size cannot read FormatBytes(%d) = %q: %v", n, s, err)
			continue
		}
		if diff := math.Abs(float64(sz) - float64(n)); diff > 0.05*float64(n) {
			t.Errorf("FormatBytes(%d) = %q reads back as %s", n, s, strconv.FormatUint(uint64(sz), 10))
		}
	}
}
