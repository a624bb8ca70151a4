package syscheck

import (
	"context"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
)

func TestParseLoadavg(t *testing.T) {
	for _, tc := range []struct {
		file string
		want loadavg
	}{
		{"loadavg/debian12-vm.txt", loadavg{Avg: [3]float64{0.52, 0.29, 0.15}, Running: 2, Total: 93}},
		{"loadavg/busy-4cpu.txt", loadavg{Avg: [3]float64{3.17, 2.88, 2.41}, Running: 7, Total: 1432}},
		{"loadavg/idle.txt", loadavg{Avg: [3]float64{0, 0.01, 0.05}, Running: 1, Total: 123}},
	} {
		got, err := parseLoadavg([]byte(readTestdata(t, tc.file)))
		if err != nil || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", tc.file, got, err, tc.want)
		}
	}
	// Three averages are enough; the task counts are optional.
	if got, err := parseLoadavg([]byte("1.00 2.00 3.00\n")); err != nil || got.Avg != [3]float64{1, 2, 3} || got.Total != 0 {
		t.Errorf("short loadavg: %+v, %v", got, err)
	}
	for _, bad := range []string{"", "1.0 2.0", "a b c", "NaN 1 1", "-1 0 0", "Inf 0 0"} {
		if _, err := parseLoadavg([]byte(bad)); err == nil {
			t.Errorf("parseLoadavg(%q) succeeded", bad)
		}
	}
}

func FuzzParseLoadavg(f *testing.F) {
	f.Add([]byte("0.52 0.29 0.15 2/93 10079\n"))
	f.Add([]byte("1 2 3 9/3 x"))
	f.Fuzz(func(t *testing.T, data []byte) {
		la, err := parseLoadavg(data)
		if err != nil {
			return
		}
		for _, v := range la.Avg {
			if v < 0 || v != v {
				t.Fatalf("bad average %v", v)
			}
		}
		if la.Running > la.Total {
			t.Fatalf("running %d > total %d", la.Running, la.Total)
		}
	})
}

func TestParseCPUList(t *testing.T) {
	for _, tc := range []struct {
		file string
		want int
	}{
		{"cpu/online-2cpu.txt", 2}, {"cpu/online-4cpu.txt", 4}, {"cpu/online-sparse.txt", 7},
	} {
		if got, err := parseCPUList(readTestdata(t, tc.file)); err != nil || got != tc.want {
			t.Errorf("%s: %d, %v; want %d", tc.file, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "x", "3-1", "0-", "-1", "0-99999999999"} {
		if _, err := parseCPUList(bad); err == nil {
			t.Errorf("parseCPUList(%q) succeeded", bad)
		}
	}
	if got := countCPUInfo([]byte(readTestdata(t, "cpu/cpuinfo-2cpu.txt"))); got != 2 {
		t.Errorf("countCPUInfo = %d, want 2", got)
	}
}

func FuzzParseCPUList(f *testing.F) {
	f.Add("0-3,5,7-8")
	f.Add("0")
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := parseCPUList(s); err == nil && n <= 0 {
			t.Fatalf("parseCPUList(%q) = %d without an error", s, n)
		}
	})
}

func newLoad(mod func(*Load)) *Load {
	k, _ := diag.LookupKind("load")
	l := k.New().(*Load)
	if mod != nil {
		mod(l)
	}
	return l
}

func TestLoadValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Load)
		want []string
	}{
		{"defaults", nil, nil},
		{"15m", func(l *Load) { l.Period = diag.Duration(15 * time.Minute) }, nil},
		{"10m", func(l *Load) { l.Period = diag.Duration(10 * time.Minute) }, []string{"period"}},
		{"warn above fail", func(l *Load) { l.WarnPerCPU, l.FailPerCPU = 3, 2 }, []string{"warn_per_cpu"}},
		{"negative", func(l *Load) { l.FailPerCPU = -1 }, []string{"fail_per_cpu"}},
		{"zero", func(l *Load) { l.WarnPerCPU = 0 }, []string{"warn_per_cpu"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fieldsOf(validate(newLoad(tc.mod))); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("fields = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLoadKind(t *testing.T) {
	busy := newFake().withFile(t, "/proc/loadavg", "loadavg/busy-4cpu.txt")
	// No online list: the CPUs are counted in cpuinfo, which has 2 here.
	busy.withFile(t, "/proc/cpuinfo", "cpu/cpuinfo-2cpu.txt")
	r := newLoad(nil).Run(context.Background(), busy)
	checkResult(t, r, diag.Warn)
	if r.Message != "load average 3.17, 2.88, 2.41 on 2 CPUs: 1.44 per CPU over 5 minutes, at or above the 1 warning" {
		t.Errorf("message %q", r.Message)
	}
	if r.Observed["cpus"] != 2 || r.Observed["load_per_cpu"] != 1.44 || r.Observed["load5"] != 2.88 {
		t.Errorf("observed %v", r.Observed)
	}
	busy.withFile(t, "/sys/devices/system/cpu/online", "cpu/online-4cpu.txt")
	r = newLoad(nil).Run(context.Background(), busy)
	checkResult(t, r, diag.Pass)
	if r.Observed["cpus"] != 4 {
		t.Errorf("cpus = %v, want 4 from the online list", r.Observed["cpus"])
	}
	r = newLoad(func(l *Load) { l.Period = diag.Duration(time.Minute); l.WarnPerCPU, l.FailPerCPU = 0.5, 0.75 }).Run(context.Background(), busy)
	checkResult(t, r, diag.Fail)
	if !strings.Contains(r.Message, "0.79 per CPU over 1 minute") {
		t.Errorf("message %q", r.Message)
	}

	noCPUs := newFake().withFile(t, "/proc/loadavg", "loadavg/idle.txt")
	checkResult(t, newLoad(nil).Run(context.Background(), noCPUs), diag.Error)
	checkResult(t, newLoad(nil).Run(context.Background(), newFake()), diag.Error)
	win := newFake()
	win.facts.OS = "windows"
	checkResult(t, newLoad(nil).Run(context.Background(), win), diag.Skip)
}

func TestLoadOnThisMachine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the load average is read from /proc/loadavg")
	}
	r := newLoad(func(l *Load) { l.WarnPerCPU, l.FailPerCPU = 1000, 1000 }).Run(context.Background(), diag.NewLocal())
	checkResult(t, r, diag.Pass)
	// The online CPUs are at least those this process may run on.
	if cpus := r.Observed["cpus"].(int); cpus < runtime.NumCPU() {
		t.Errorf("cpus = %d, but this process can use %d", cpus, runtime.NumCPU())
	}
}
