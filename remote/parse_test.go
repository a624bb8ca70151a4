package remote

import (
	"io/fs"
	"strings"
	"testing"
	"time"
)

func TestParseDFP(t *testing.T) {
	cases := []struct {
		name, out          string
		total, free, avail uint64
	}{
		{"gnu", "Filesystem     1024-blocks     Used Available Capacity Mounted on\n/dev/vda1         51474912 21088852  27740776      44% /\n",
			51474912 * 1024, (51474912 - 21088852) * 1024, 27740776 * 1024},
		{"busybox", "Filesystem           1024-blocks    Used Available Capacity Mounted on\noverlay                 61255492  5431212  52682956  10% /\n",
			61255492 * 1024, (61255492 - 5431212) * 1024, 52682956 * 1024},
		{"spaces in names", "Filesystem 1024-blocks Used Available Capacity Mounted on\nmy disk 100 40 60 40% /mnt/my disk\n",
			100 * 1024, 60 * 1024, 60 * 1024},
		{"macos", "Filesystem   1024-blocks      Used Available Capacity  Mounted on\n/dev/disk3s1   482797652 405006864  55541040    88%    /System/Volumes/Data\n",
			482797652 * 1024, (482797652 - 405006864) * 1024, 55541040 * 1024},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u, err := ParseDFP("/", []byte(c.out))
			if err != nil {
				t.Fatal(err)
			}
			if u.Total != c.total || u.Free != c.free || u.Avail != c.avail {
				t.Errorf("got total %d free %d avail %d, want %d %d %d", u.Total, u.Free, u.Avail, c.total, c.free, c.avail)
			}
		})
	}
	for _, bad := range []string{"", "Filesystem 1024-blocks Used Available Capacity Mounted on\n", "header\nx y z\n", "h\n/dev/x a b c 10% /\n"} {
		if _, err := ParseDFP("/", []byte(bad)); err == nil {
			t.Errorf("ParseDFP(%q) succeeded", bad)
		}
	}
}

func FuzzParseDFP(f *testing.F) {
	f.Add([]byte("Filesystem     1024-blocks     Used Available Capacity Mounted on\n/dev/vda1         51474912 21088852  27740776      44% /\n"))
	f.Add([]byte("h\n1 2 3 4%\n"))
	f.Add([]byte("h\n% % % %\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := ParseDFP("/", data)
		if err == nil && u.Free > u.Total {
			t.Errorf("free %d above total %d", u.Free, u.Total)
		}
	})
}

func TestParseGNUStat(t *testing.T) {
	fi, err := parseGNUStat("/etc/hosts", []byte("174 81a4 1700000000 0 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size != 174 || fi.Mode != 0o644 || fi.ModTime.Unix() != 1700000000 || fi.UID != 0 {
		t.Errorf("got %+v", fi)
	}
	dir, err := parseGNUStat("/tmp", []byte("4096 43ff 1 0 0"))
	if err != nil || !dir.Mode.IsDir() || dir.Mode&fs.ModeSticky == 0 || dir.Mode.Perm() != 0o777 {
		t.Errorf("sticky dir: %+v %v", dir, err)
	}
	for _, bad := range []string{"", "1 2 3", "x 81a4 1 0 0", "1 zz 1 0 0"} {
		if _, err := parseGNUStat("/x", []byte(bad)); err == nil {
			t.Errorf("parseGNUStat(%q) succeeded", bad)
		}
	}
}

func TestGoosGoarch(t *testing.T) {
	for in, want := range map[string]string{"Linux": "linux", "Darwin": "darwin", "FreeBSD": "freebsd", "SunOS": "solaris", "MINGW64_NT-10.0": "windows"} {
		if got := goos(in); got != want {
			t.Errorf("goos(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"} {
		if got := goarch(in); got != want {
			t.Errorf("goarch(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseGetent(t *testing.T) {
	cases := []struct {
		qtype, out string
		want       []string
	}{
		{"A", "93.184.215.14   STREAM example.com\n93.184.215.14   DGRAM  \n93.184.215.14   RAW    \n", []string{"93.184.215.14"}},
		{"A", "127.0.0.1       STREAM localhost\n127.0.0.1       DGRAM  \n", []string{"127.0.0.1"}},
		{"AAAA", "::ffff:127.0.0.1 STREAM localhost\n::1             STREAM localhost\n::1             DGRAM  \n", []string{"::1"}},
		{"AAAA", "::ffff:93.184.215.14 STREAM example.com\n", nil},
		{"PTR", "127.0.0.1       localhost localhost.localdomain\n", []string{"localhost", "localhost.localdomain"}},
		{"A", "garbage\n\n", nil},
	}
	for _, c := range cases {
		got := ParseGetent(c.qtype, []byte(c.out))
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("ParseGetent(%s, %q) = %q, want %q", c.qtype, c.out, got, c.want)
		}
	}
}

func FuzzParseGetent(f *testing.F) {
	f.Add("A", []byte("93.184.215.14   STREAM example.com\n"))
	f.Add("PTR", []byte("127.0.0.1 localhost\n"))
	f.Fuzz(func(t *testing.T, qtype string, out []byte) {
		ParseGetent(qtype, out)
	})
}

// FuzzParseGNUStat feeds the stat fallback (no SFTP) arbitrary output: an
// error or a FileInfo for the path asked about, never a panic.
func FuzzParseGNUStat(f *testing.F) {
	f.Add([]byte("13 81a4 1700000000 1000 1000\n"))
	f.Add([]byte("4096 41ed 1700000000 0 0\n"))
	f.Add([]byte("-1 ffffffff -9223372036854775808 -1 -1\n"))
	f.Add([]byte("stat: cannot stat 'x': No such file or directory\n"))
	f.Fuzz(func(t *testing.T, out []byte) {
		fi, err := parseGNUStat("/p", out)
		if err == nil && fi.Path != "/p" {
			t.Fatalf("path %q, want /p", fi.Path)
		}
	})
}

// FuzzParseEpoch feeds the clock check's date +%s.%N reading arbitrary text.
func FuzzParseEpoch(f *testing.F) {
	for _, s := range []string{"1700000000.123456789", "1700000000.%N", "1700000000", "-5.000000001", "x.1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, precision, err := parseEpoch(s)
		if err == nil && precision != 0 && precision != time.Second {
			t.Fatalf("precision %v", precision)
		}
	})
}
