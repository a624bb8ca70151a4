package diag_test

import (
	"net"
	"reflect"
	"strings"
	"testing"

	"github.com/triage-dev/triage/diag"
)

const debianOSRelease = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
`

func TestParseOSRelease(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{
			name: "debian 12",
			in:   debianOSRelease,
			want: map[string]string{
				"PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)", "NAME": "Debian GNU/Linux", "VERSION_ID": "12",
				"VERSION": "12 (bookworm)", "VERSION_CODENAME": "bookworm", "ID": "debian",
				"HOME_URL": "https://www.debian.org/", "SUPPORT_URL": "https://www.debian.org/support",
				"BUG_REPORT_URL": "https://bugs.debian.org/",
			},
		},
		{
			name: "single quotes and no quotes",
			in:   "ID='rhel'\nID_LIKE=fedora\nVERSION_ID='9.3'\n",
			want: map[string]string{"ID": "rhel", "ID_LIKE": "fedora", "VERSION_ID": "9.3"},
		},
		{
			name: "escapes in double quotes",
			in:   `PRETTY_NAME="Foo \"Bar\" \\ \$HOME \` + "`x\\`" + `"` + "\n",
			want: map[string]string{"PRETTY_NAME": `Foo "Bar" \ $HOME ` + "`x`"},
		},
		{
			name: "an escaped backslash before a quote",
			in:   `A="x\\\"y"` + "\n",
			want: map[string]string{"A": `x\"y`},
		},
		{
			name: "no escapes in single quotes",
			in:   `A='a\"b\\c'` + "\n",
			want: map[string]string{"A": `a\"b\\c`},
		},
		{
			name: "space around the equals sign",
			in:   `NAME = "Foo \"Bar\""` + "\n",
			want: map[string]string{"NAME": `Foo "Bar"`},
		},
		{
			name: "comments and blank lines",
			in:   "# a comment\n\n   \n  # indented comment\nID=arch\n\t\n#ID=debian\n",
			want: map[string]string{"ID": "arch"},
		},
		{
			name: "CRLF line ends",
			in:   "ID=alpine\r\nVERSION_ID=3.19.1\r\n",
			want: map[string]string{"ID": "alpine", "VERSION_ID": "3.19.1"},
		},
		{
			name: "no trailing newline",
			in:   "ID=void",
			want: map[string]string{"ID": "void"},
		},
		{
			name: "lines without an equals sign are ignored",
			in:   "garbage\nID=nixos\nexport\n",
			want: map[string]string{"ID": "nixos"},
		},
		{
			name: "an equals sign inside a value",
			in:   "HOME_URL=https://example.com/?a=b\n",
			want: map[string]string{"HOME_URL": "https://example.com/?a=b"},
		},
		{
			name: "empty values",
			in:   "A=\nB=\"\"\nC=''\n",
			want: map[string]string{"A": "", "B": "", "C": ""},
		},
		{
			name: "unbalanced quotes are kept",
			in:   "A=\"abc\nB='x\"\nC=\"\n",
			want: map[string]string{"A": `"abc`, "B": `'x"`, "C": `"`},
		},
		{
			name: "the last of a repeated key wins",
			in:   "ID=one\nID=two\n",
			want: map[string]string{"ID": "two"},
		},
		{
			name: "empty input",
			in:   "",
			want: map[string]string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := diag.ParseOSRelease([]byte(tc.in)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestApplyOSRelease(t *testing.T) {
	f := diag.Facts{OS: "linux", Distro: "stale"}
	diag.ApplyOSRelease(&f, diag.ParseOSRelease([]byte(debianOSRelease)))
	want := diag.Facts{OS: "linux", Distro: "debian", DistroVersion: "12", PrettyName: "Debian GNU/Linux 12 (bookworm)"}
	if f != want {
		t.Errorf("got %+v, want %+v", f, want)
	}
	// The facts are also the ${host.*} variables, all of them always present.
	vars := f.Vars()
	for _, name := range diag.FactNames() {
		if _, ok := vars[name]; !ok {
			t.Errorf("Vars() lacks %q", name)
		}
	}
	if len(vars) != len(diag.FactNames()) || vars["distro"] != "debian" || vars["distro_version"] != "12" || vars["gateway"] != "" {
		t.Errorf("Vars() = %v", vars)
	}
}

// routeHeader is the first line of /proc/net/route, exactly as Linux writes it.
const routeHeader = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       \n"

func route(iface, dest, gw, flags, metric, mask string) string {
	return iface + "\t" + dest + "\t" + gw + "\t" + flags + "\t0\t0\t" + metric + "\t" + mask + "\t0\t0\t0                                                                               \n"
}

func TestParseProcNetRoute(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{
			name: "default route via 192.0.2.1",
			in: routeHeader +
				route("eth0", "00000000", "010200C0", "0003", "0", "00000000") +
				route("eth0", "000200C0", "00000000", "0001", "0", "00FFFFFF"),
			want: "192.0.2.1",
		},
		{
			name: "no default route",
			in: routeHeader +
				route("eth0", "000200C0", "00000000", "0001", "0", "00FFFFFF") +
				route("lo", "0000007F", "00000000", "0001", "0", "000000FF"),
			want: "",
		},
		{
			name: "only the header",
			in:   routeHeader,
			want: "",
		},
		{
			name: "empty",
			in:   "",
			want: "",
		},
		{
			name: "several default routes: the lowest metric wins",
			in: routeHeader +
				route("wlan0", "00000000", "0101A8C0", "0003", "600", "00000000") +
				route("eth0", "00000000", "FE01000A", "0003", "100", "00000000") +
				route("wwan0", "00000000", "0100640A", "0003", "700", "00000000") +
				route("eth0", "0000000A", "00000000", "0001", "100", "0000FFFF"),
			want: "10.0.1.254",
		},
		{
			name: "several default routes with equal metrics: the first wins",
			in: routeHeader +
				route("eth0", "00000000", "0101A8C0", "0003", "100", "00000000") +
				route("eth1", "00000000", "0102A8C0", "0003", "100", "00000000"),
			want: "192.168.1.1",
		},
		{
			name: "a route that is down is not used",
			in: routeHeader +
				route("eth0", "00000000", "0100000A", "0002", "0", "00000000") +
				route("wlan0", "00000000", "0101A8C0", "0003", "600", "00000000"),
			want: "192.168.1.1",
		},
		{
			name: "a default route without a gateway (point-to-point) has none to report",
			in: routeHeader +
				route("ppp0", "00000000", "00000000", "0001", "0", "00000000"),
			want: "",
		},
		{
			name: "VPN half routes (0/1 and 128/1) are not the default route",
			in: routeHeader +
				route("tun0", "00000000", "0108080A", "0003", "0", "00000080") +
				route("tun0", "00000080", "0108080A", "0003", "0", "00000080") +
				route("eth0", "00000000", "010200C0", "0003", "100", "00000000"),
			want: "192.0.2.1",
		},
		{
			name: "malformed lines are skipped",
			in: routeHeader +
				"eth0\t00000000\t0100000A\n" +
				route("eth0", "00000000", "ZZ00000A", "0003", "0", "00000000") +
				route("eth0", "00000000", "0100000A00", "0003", "0", "00000000") +
				route("eth0", "00000000", "0100000A", "00G3", "0", "00000000") +
				route("eth0", "00000000", "0100000A", "0003", "x", "00000000") +
				route("eth1", "00000000", "0101A8C0", "0003", "900", "00000000"),
			want: "192.168.1.1",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := diag.ParseProcNetRoute([]byte(tc.in)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzParseOSRelease(f *testing.F) {
	f.Add([]byte(debianOSRelease))
	f.Add([]byte(`PRETTY_NAME="Foo \"Bar\" \\ \$HOME"` + "\nID='x'\n# c\n\nA=\"\nB=\n=\n"))
	f.Add([]byte("NAME = \"x\"\r\nID=\"\\\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for k, v := range diag.ParseOSRelease(data) {
			if strings.ContainsAny(k, "=\n") || k != strings.TrimSpace(k) {
				t.Fatalf("bad key %q", k)
			}
			if strings.Contains(v, "\n") {
				t.Fatalf("value of %q spans lines: %q", k, v)
			}
		}
	})
}

func FuzzParseProcNetRoute(f *testing.F) {
	f.Add([]byte(routeHeader + route("eth0", "00000000", "010200C0", "0003", "0", "00000000")))
	f.Add([]byte(routeHeader + route("eth0", "00000000", "0100000A", "0002", "-5", "00000000") +
		route("eth1", "00000000", "0101A8C0", "0003", "99999999999999999999", "00000000")))
	f.Add([]byte("x\t00000000\tFFFFFFFF\tFFFF\t0\t0\t-1\t00000000\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		gw := diag.ParseProcNetRoute(data)
		if gw != "" && net.ParseIP(gw).To4() == nil {
			t.Fatalf("gateway %q is not an IPv4 address", gw)
		}
	})
}
