package diag

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"time"
)

// Target is the machine a check runs against: this one, or another one over
// SSH. Checks are written once against Target and so work in both places.
//
// Every method takes the check's context first and must return soon after
// it is cancelled. Output read from a target is capped by the caller's
// limits, so a broken or hostile machine cannot exhaust memory.
type Target interface {
	// Name identifies the target in reports: "local", or "user@host:port".
	Name() string

	// Facts describes the target's platform. Implementations cache it: it
	// is asked for once per check that needs it.
	Facts(ctx context.Context) (Facts, error)

	// Run runs cmd.Argv directly (never through a shell on a local target;
	// quoted word by word for a remote one). A command that ran and exited
	// non-zero is not an error: its exit code is in the result. An error
	// means it could not be run at all; ErrCommandNotFound when the program
	// does not exist.
	Run(ctx context.Context, cmd Command) (CommandResult, error)

	// ReadFile returns at most limit bytes of the file; truncated reports
	// whether there was more.
	ReadFile(ctx context.Context, path string, limit int64) (data []byte, truncated bool, err error)

	// Stat describes the file at path, following symbolic links.
	// Errors wrap fs.ErrNotExist and fs.ErrPermission where they apply.
	Stat(ctx context.Context, path string) (FileInfo, error)

	// DiskUsage reports the space and inodes of the filesystem holding path.
	DiskUsage(ctx context.Context, path string) (DiskUsage, error)

	// Dial opens a connection from the target's point of view: on a
	// remote target the connection starts on that machine.
	Dial(ctx context.Context, network, address string) (net.Conn, error)
}

// Facts describes a target's platform. They are also the ${host.*}
// variables of a playbook (see Vars).
type Facts struct {
	Hostname string `json:"hostname"`
	OS       string `json:"os"`     // GOOS spelling: linux, darwin, windows, freebsd...
	Arch     string `json:"arch"`   // GOARCH spelling where known: amd64, arm64...
	Distro   string `json:"distro"` // os-release ID, such as debian or ubuntu
	// DistroVersion is os-release VERSION_ID, such as "12".
	DistroVersion string `json:"distro_version,omitempty"`
	// PrettyName is os-release PRETTY_NAME, such as "Debian GNU/Linux 12 (bookworm)".
	PrettyName string `json:"pretty_name,omitempty"`
	Kernel     string `json:"kernel"`
	// Gateway is the IPv4 default gateway, when one is known.
	Gateway string `json:"gateway,omitempty"`
}

// Vars returns the facts as the ${host.NAME} variables of a playbook.
// Every name is always present, empty when unknown, so that a playbook that
// mentions ${host.gateway} validates the same on every machine.
func (f Facts) Vars() map[string]string {
	return map[string]string{
		"hostname":       f.Hostname,
		"os":             f.OS,
		"arch":           f.Arch,
		"distro":         f.Distro,
		"distro_version": f.DistroVersion,
		"pretty_name":    f.PrettyName,
		"kernel":         f.Kernel,
		"gateway":        f.Gateway,
	}
}

// FactNames lists the names Facts.Vars provides, for validating ${host.*}.
func FactNames() []string {
	return []string{"arch", "distro", "distro_version", "gateway", "hostname", "kernel", "os", "pretty_name"}
}

// Command is a program to run on a target, as argv: never a shell string.
type Command struct {
	Argv []string
	// MaxOutput caps each of stdout and stderr; 0 means DefaultMaxOutput.
	MaxOutput int64
}

// DefaultMaxOutput caps what a command's stdout or stderr may return.
const DefaultMaxOutput = 1 << 20

// CommandResult is what a command that ran left behind.
type CommandResult struct {
	ExitCode  int
	Stdout    []byte
	Stderr    []byte
	Truncated bool // stdout or stderr exceeded MaxOutput
}

// ErrCommandNotFound is returned by Target.Run when the program does not exist.
var ErrCommandNotFound = errors.New("command not found")

// ErrUnsupported is returned for an operation a target cannot do, such as
// disk usage on a platform triage has no probe for.
var ErrUnsupported = errors.New("not supported on this target")

// FileInfo describes a file on a target.
type FileInfo struct {
	Path    string
	Size    int64
	Mode    fs.FileMode
	ModTime time.Time
	// UID and GID are -1 where the platform has none (Windows).
	UID, GID int
}

// DiskUsage describes the filesystem holding a path, in bytes and inodes.
type DiskUsage struct {
	Path string
	// Total is the size of the filesystem; Free what is free to root;
	// Avail what is free to an unprivileged user (df's "Available").
	Total, Free, Avail uint64
	// Files is the number of inodes, FilesFree those free; both 0 when the
	// filesystem has no fixed inode count.
	Files, FilesFree uint64
}

// Used is the space in use, as df counts it.
func (d DiskUsage) Used() uint64 {
	if d.Free > d.Total {
		return 0
	}
	return d.Total - d.Free
}

// UsedPercent is the share of the space an unprivileged user could have
// that is in use, computed like df's Use%: used / (used + avail).
func (d DiskUsage) UsedPercent() float64 {
	used := d.Used()
	if used+d.Avail == 0 {
		return 0
	}
	return 100 * float64(used) / float64(used+d.Avail)
}

// InodesUsedPercent is the share of inodes in use, 0 when the filesystem
// has no fixed inode count.
func (d DiskUsage) InodesUsedPercent() float64 {
	if d.Files == 0 || d.FilesFree > d.Files {
		return 0
	}
	return 100 * float64(d.Files-d.FilesFree) / float64(d.Files)
}

// FileTailer is an optional Target capability: reading the end of a file
// without reading all of it, for the tail of a large log. Checks ask for it
// with a type assertion and fall back to the tail command when absent.
type FileTailer interface {
	// ReadFileTail returns at most limit bytes from the end of the file;
	// truncated reports whether the file holds more before them.
	ReadFileTail(ctx context.Context, path string, limit int64) (data []byte, truncated bool, err error)
}

// Pinger is an optional Target capability: native ICMP echo. Checks ask for
// it with a type assertion and fall back to the ping command when absent.
type Pinger interface {
	Ping(ctx context.Context, req PingRequest) (PingStats, error)
}

// PingRequest says how to ping.
type PingRequest struct {
	Host     string
	Count    int
	Interval time.Duration
	Timeout  time.Duration
}

// PingStats is what a ping run saw.
type PingStats struct {
	Addr                   string
	Sent, Received         int
	MinRTT, AvgRTT, MaxRTT time.Duration
}

// KindLimiter is an optional Target capability: a target that cannot do
// what some kinds need (a Windows machine over SSH has no POSIX shell)
// names the reason, and the runner reports those checks as skip with it,
// rather than running them into errors that say nothing useful.
type KindLimiter interface {
	// Unsupported returns why checks of kind cannot run on the target, or "".
	Unsupported(ctx context.Context, kind string) string
}

// Clock is an optional Target capability for a target whose clock is not
// this machine's: the time check measures the reference against this
// machine, then adds how far the target's clock is from it.
type Clock interface {
	// ClockOffset returns how far the target's clock is ahead of this
	// machine's (negative when behind), and the uncertainty of the
	// measurement.
	ClockOffset(ctx context.Context) (offset, uncertainty time.Duration, err error)
}

// FileStreamer is an optional Target capability: opening a file to read it
// as a stream or at offsets, so that a large database (dpkg's status file)
// is searched or parsed as it arrives instead of being held whole in
// memory for every host of a sweep. Checks fall back to ReadFile when it
// is absent or answers ErrUnsupported.
type FileStreamer interface {
	OpenFile(ctx context.Context, path string) (File, error)
}

// File is a file opened by a FileStreamer. *os.File is one.
type File interface {
	io.ReadCloser
	io.ReaderAt
	Stat() (fs.FileInfo, error)
}
