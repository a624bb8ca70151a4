package syscheck

import (
	"reflect"
	"strings"
	"testing"
)

func TestUnescapeMount(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`/media/alice/My\040Passport`, "/media/alice/My Passport"},
		{`/mnt/tab\011and\134backslash`, "/mnt/tab\tand\\backslash"},
		{`/mnt/new\012line`, "/mnt/new\nline"},
		{`/plain`, "/plain"},
		{`/trailing\04`, `/trailing\04`}, // too short to be an escape
		{`/not\999octal`, `/not\999octal`},
		{`/over\777range`, `/over\777range`}, // above 0377 is no byte
		{`\`, `\`},
	} {
		if got := unescapeMount(tc.in); got != tc.want {
			t.Errorf("unescapeMount(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseMounts(t *testing.T) {
	got := parseMounts([]byte(readTestdata(t, "mounts/desktop.mounts")))
	if len(got) != 19 {
		t.Fatalf("parsed %d mounts, want 19", len(got))
	}
	want := mountEntry{Device: "/dev/sda1", Path: "/media/alice/My Passport", FSType: "exfat"}
	if got[11] != want {
		t.Errorf("mount 12 = %+v, want %+v", got[11], want)
	}
	if got[14].Device != "nas.example.lan:/export/home" || got[14].FSType != "nfs4" {
		t.Errorf("nfs mount = %+v", got[14])
	}
}

func TestParseMountinfo(t *testing.T) {
	got := parseMountinfo([]byte(readTestdata(t, "mounts/desktop.mountinfo")))
	if len(got) != 34 {
		t.Fatalf("parsed %d mounts, want 34", len(got))
	}
	byPath := map[string]mountEntry{}
	for _, m := range got {
		byPath[m.Path] = m
	}
	for _, want := range []mountEntry{
		{Device: "/dev/nvme0n1p2", Path: "/", FSType: "ext4", DevID: "259:2", Root: "/"},
		{Device: "/dev/nvme0n1p3", Path: "/srv/projects", FSType: "ext4", DevID: "259:3", Root: "/alice/projects"},
		{Device: "/dev/sda1", Path: "/media/alice/My Passport", FSType: "exfat", DevID: "8:1", Root: "/"},
		{Device: "/dev/sdd1", Path: "/mnt/tab\tand\\backslash", FSType: "ext4", DevID: "8:49", Root: "/"},
		// A source that is not a device.
		{Device: "systemd-1", Path: "/proc/sys/fs/binfmt_misc", FSType: "autofs", DevID: "0:31", Root: "/"},
	} {
		if m := byPath[want.Path]; m != want {
			t.Errorf("mount at %q = %+v, want %+v", want.Path, m, want)
		}
	}
}

func TestParseMountinfoMalformed(t *testing.T) {
	data := strings.Join([]string{
		"36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue",
		"too short",
		"36 35 98:0 /mnt1 /mnt3 rw,noatime master:1 no-separator ext3 /dev/root rw",
		"36 35 nodev /mnt1 /mnt4 rw - ext3 /dev/root rw",
		"36 35 98:0 /mnt1 /mnt5 rw -",
		"",
	}, "\n")
	got := parseMountinfo([]byte(data))
	want := []mountEntry{{DevID: "98:0", Root: "/mnt1", Path: "/mnt2", FSType: "ext3", Device: "/dev/root"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func paths(ms []mountEntry) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Path
	}
	return out
}

func TestLocalDisks(t *testing.T) {
	for _, tc := range []struct {
		file  string
		parse func([]byte) []mountEntry
		want  []string
	}{
		{"mounts/desktop.mountinfo", parseMountinfo, []string{
			"/", "/boot/efi", "/home", "/media/alice/My Passport", "/mnt/backup",
			"/mnt/tab\tand\\backslash", "/var/lib/docker/overlay2/4f1c2e/merged",
		}},
		{"mounts/desktop.mounts", parseMounts, []string{
			"/", "/boot/efi", "/home", "/media/alice/My Passport", "/mnt/backup",
			"/var/lib/docker/overlay2/4f1c2e/merged",
		}},
		// In a container, "/" is an overlay, and the host's disk shows
		// through three bind-mounted files, of which one is kept.
		{"mounts/container.mountinfo", parseMountinfo, []string{"/", "/data", "/etc/hosts"}},
		{"mounts/debian12-vm.mountinfo", parseMountinfo, []string{"/"}},
		{"mounts/debian12-vm.mounts", parseMounts, []string{"/"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got := paths(localDisks(tc.parse([]byte(readTestdata(t, tc.file)))))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("local disks:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestLocalDisksStackedMountKeepsTop(t *testing.T) {
	ms := localDisks(parseMountinfo([]byte(readTestdata(t, "mounts/desktop.mountinfo"))))
	for _, m := range ms {
		if m.Path == "/mnt/backup" && m.FSType != "btrfs" {
			t.Errorf("/mnt/backup is %s, want the btrfs mounted over the xfs", m.FSType)
		}
		if m.Path == "/home" && m.Root != "/" {
			t.Errorf("/home kept the bind mount (root %s) instead of the real mount", m.Root)
		}
	}
}

func TestIsLocalDisk(t *testing.T) {
	for fstype, want := range map[string]bool{
		"ext4": true, "xfs": true, "btrfs": true, "zfs": true, "vfat": true, "overlay": true, "fuseblk": true,
		"tmpfs": false, "proc": false, "squashfs": false, "nfs4": false, "cifs": false,
		"fuse.sshfs": false, "fuse.lxcfs": false, "cgroup2": false, "devtmpfs": false,
	} {
		if got := isLocalDisk(mountEntry{Path: "/x", FSType: fstype}); got != want {
			t.Errorf("isLocalDisk(%s) = %v, want %v", fstype, got, want)
		}
	}
	if isLocalDisk(mountEntry{Path: "relative", FSType: "ext4"}) {
		t.Error("a mount point that is not absolute was kept")
	}
}

func FuzzParseMounts(f *testing.F) {
	f.Add([]byte("/dev/sda1 / ext4 rw 0 0\n"))
	f.Add([]byte(`/dev/sda1 /media/My\040Disk exfat rw 0 0`))
	f.Add([]byte("a\\\n\\0\\01\\012 b c"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, m := range parseMounts(data) {
			if m.Path == "" || m.FSType == "" {
				t.Fatalf("empty field in %+v", m)
			}
		}
		localDisks(parseMounts(data))
	})
}

func FuzzParseMountinfo(f *testing.F) {
	f.Add([]byte("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n"))
	f.Add([]byte("1 2 3:4 / / rw - - - -\n"))
	f.Add([]byte("1 2 3:4 / /a\\040b rw shared:1 master:2 - ext4 /dev/x rw\n1 2 3:4 /sub /c rw - ext4 /dev/x rw"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ms := parseMountinfo(data)
		for _, m := range ms {
			if m.DevID == "" {
				t.Fatalf("mountinfo entry without a device id: %+v", m)
			}
		}
		seen := map[string]bool{}
		for _, m := range localDisks(ms) {
			if seen[m.Path] {
				t.Fatalf("mount point %q listed twice", m.Path)
			}
			seen[m.Path] = true
		}
	})
}
