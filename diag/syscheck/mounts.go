package syscheck

import (
	"bufio"
	"bytes"
	"sort"
	"strings"
)

// mountEntry is one mounted filesystem from a Linux mount table.
type mountEntry struct {
	Device string // the source: /dev/sda1, tmpfs, server:/export
	Path   string // the mount point, with the kernel's escapes undone
	FSType string
	// DevID is "major:minor" and Root the directory of the filesystem that
	// is mounted here ("/" unless a bind mount of a subtree). Both come
	// from mountinfo only and are "" when the table was /proc/mounts.
	DevID string
	Root  string
}

// The mount tables are read in this order. mountinfo comes first although
// /proc/self/mounts is the classic source: only mountinfo carries the device
// numbers that tell two bind mounts of one filesystem apart from two
// filesystems that merely share a source name (every overlay is "overlay",
// every ZFS dataset of a pool looks alike), which is how df deduplicates.
var mountTables = []string{"/proc/self/mountinfo", "/proc/self/mounts", "/proc/mounts"}

// parseMounts reads the fstab-like format of /proc/self/mounts:
// "device mountpoint fstype options dump pass", fields escaped with \ooo.
// Lines that do not have at least the first three fields are skipped.
func parseMounts(data []byte) []mountEntry {
	var out []mountEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxTableFile)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 {
			continue
		}
		out = append(out, mountEntry{
			Device: unescapeMount(f[0]),
			Path:   unescapeMount(f[1]),
			FSType: unescapeMount(f[2]),
		})
	}
	return out
}

// parseMountinfo reads /proc/self/mountinfo (proc(5)):
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//
// The optional fields before "-" vary in number, so the fields after it are
// found by the separator rather than by position.
func parseMountinfo(data []byte) []mountEntry {
	var out []mountEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxTableFile)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 7 {
			continue
		}
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+2 >= len(f) || !strings.Contains(f[2], ":") {
			continue
		}
		out = append(out, mountEntry{
			DevID:  f[2],
			Root:   unescapeMount(f[3]),
			Path:   unescapeMount(f[4]),
			FSType: unescapeMount(f[sep+1]),
			Device: unescapeMount(f[sep+2]),
		})
	}
	return out
}

// unescapeMount undoes the kernel's octal escapes (\040 for a space, \011
// tab, \012 newline, \134 backslash). Anything that is not a valid
// three-digit octal escape is kept as written.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			v := (int(s[i+1]-'0') << 6) | (int(s[i+2]-'0') << 3) | int(s[i+3]-'0')
			if v <= 0xff {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// Filesystems that `disk: {all: true}` leaves out, like `df -x` would.
//
// Pseudo and RAM filesystems hold no disk space (tmpfs and devtmpfs are
// memory, which the memory kind covers; check /dev/shm or /run with path:
// when it matters). Read-only images (squashfs for snaps, ISO 9660, EROFS)
// are always 100% full by design. Network filesystems are not local disks,
// and statfs on a dead NFS server can hang for minutes; check them with
// path:. FUSE mounts are remote (sshfs, rclone, s3fs) or virtual (lxcfs,
// gvfs, portals), except fuseblk, which is a block device (ntfs-3g).
//
// overlay stays in: it reports its upper layer, which is the real disk a
// container writes to, and in a container it is "/" itself.
var skippedFSTypes = map[string]bool{
	// pseudo filesystems
	"proc": true, "sysfs": true, "devpts": true, "cgroup": true, "cgroup2": true,
	"pstore": true, "bpf": true, "tracefs": true, "debugfs": true, "securityfs": true,
	"configfs": true, "fusectl": true, "mqueue": true, "hugetlbfs": true, "autofs": true,
	"binfmt_misc": true, "rpc_pipefs": true, "nsfs": true, "efivarfs": true,
	"selinuxfs": true, "nfsd": true, "rootfs": true, "sockfs": true, "pipefs": true,
	"anon_inodefs": true, "usbfs": true, "xenfs": true, "functionfs": true, "devfs": true,
	"kernfs": true, "none": true,
	// memory
	"tmpfs": true, "devtmpfs": true, "ramfs": true,
	// read-only images
	"squashfs": true, "iso9660": true, "erofs": true, "cramfs": true,
	// network
	"nfs": true, "nfs4": true, "cifs": true, "smb3": true, "smbfs": true, "ncpfs": true,
	"afs": true, "coda": true, "ceph": true, "glusterfs": true, "lustre": true,
	"gpfs": true, "9p": true, "davfs": true, "sshfs": true, "beegfs": true,
	"orangefs": true, "vboxsf": true, "fuse": true,
}

// isLocalDisk reports whether a mount is a local filesystem worth measuring.
func isLocalDisk(m mountEntry) bool {
	if skippedFSTypes[m.FSType] {
		return false
	}
	if strings.HasPrefix(m.FSType, "fuse.") {
		return false
	}
	return strings.HasPrefix(m.Path, "/")
}

// localDisks picks the mounts to measure from a mount table, in path order:
// local filesystems only, one entry per mount point, and one entry per
// filesystem.
//
// A mount point listed twice has had a second filesystem mounted over the
// first; only the last one is visible there, so only it is kept. A
// filesystem mounted in several places (bind mounts) is measured once,
// under its real mount (root "/") if it is visible, else under the shortest
// path, as df does. Without device numbers (/proc/mounts), only sources
// that are device paths are taken to be the same filesystem.
func localDisks(table []mountEntry) []mountEntry {
	last := map[string]int{}
	for i, m := range table {
		last[m.Path] = i
	}
	best := map[string]mountEntry{}
	var order []string
	for i, m := range table {
		if last[m.Path] != i || !isLocalDisk(m) {
			continue
		}
		key := m.DevID
		if key == "" {
			key = "path:" + m.Path
			if strings.HasPrefix(m.Device, "/") {
				key = "dev:" + m.Device
			}
		}
		prev, seen := best[key]
		if !seen {
			order = append(order, key)
			best[key] = m
			continue
		}
		if betterMount(m, prev) {
			best[key] = m
		}
	}
	out := make([]mountEntry, 0, len(order))
	for _, k := range order {
		out = append(out, best[k])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// betterMount reports whether a is a better representative of a
// filesystem than b: a whole-filesystem mount beats a bind of a subtree,
// then the shorter path wins.
func betterMount(a, b mountEntry) bool {
	aWhole, bWhole := a.Root == "/" || a.Root == "", b.Root == "/" || b.Root == ""
	if aWhole != bWhole {
		return aWhole
	}
	if len(a.Path) != len(b.Path) {
		return len(a.Path) < len(b.Path)
	}
	return a.Path < b.Path
}
