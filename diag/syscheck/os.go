package syscheck

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/triage-dev/triage/diag"
)

func init() {
	diag.Register(diag.Kind{
		Name:    "os",
		Summary: "Reports the operating system, distribution, kernel, hostname and uptime, and checks them against expectations.",
		New:     func() diag.Checker { return &OS{} },
	})
}

// OS describes the target's system and, when asked, checks it. With no
// parameters it always passes: its observed values are the facts a ticket
// needs (which distribution, which kernel, up since when).
type OS struct {
	Distro     []string `yaml:"distro" doc:"the distributions allowed, as os-release IDs such as [debian, ubuntu, rhel, alpine], or macos or windows; ID_LIKE does not count (ubuntu is not debian)"`
	MinVersion string   `yaml:"min_version" doc:"the lowest distribution version allowed (os-release VERSION_ID, compared number by number: 22.04 < 24.04)"`
	MinKernel  string   `yaml:"min_kernel" doc:"the lowest kernel release allowed, such as 5.15 (compared number by number; the -generic or -amd64 tail is ignored)"`
}

func (o *OS) Validate() error {
	var errs []error
	for i, d := range o.Distro {
		if d == "" || strings.ContainsAny(d, " \t") || d != strings.ToLower(d) {
			errs = append(errs, diag.FieldErrorf("distro", "entry %d %q is not an os-release ID (lowercase, no spaces, such as debian)", i+1, d))
		}
	}
	for field, v := range map[string]string{"min_version": o.MinVersion, "min_kernel": o.MinKernel} {
		if v != "" && !isDottedVersion(v) {
			errs = append(errs, diag.FieldErrorf(field, "%q is not a version such as 12, 22.04 or 5.15.0", v))
		}
	}
	return errors.Join(errs...)
}

// osReleasePaths are read in the order os-release(5) prescribes.
var osReleasePaths = []string{"/etc/os-release", "/usr/lib/os-release"}

func (o *OS) Run(ctx context.Context, t diag.Target) diag.Result {
	facts, err := t.Facts(ctx)
	if err != nil {
		return diag.Resultf(diag.Error, "cannot learn the platform of %s: %v", t.Name(), err).
			WithHint("the target did not answer basic questions; check that it is reachable and responsive")
	}
	r := diag.Result{}.
		With("os", facts.OS).With("arch", facts.Arch).With("hostname", facts.Hostname).
		With("kernel", facts.Kernel)
	distro, version, pretty := facts.Distro, facts.DistroVersion, facts.PrettyName
	upText := ""

	if facts.OS == "linux" {
		// The target's own os-release has more than the facts keep
		// (ID_LIKE, the codename), and is what min_version compares.
		for _, p := range osReleasePaths {
			data, err := readTargetFile(ctx, t, p, maxProcFile)
			if err != nil {
				continue
			}
			rel := diag.ParseOSRelease(data)
			distro, version, pretty = rel["ID"], rel["VERSION_ID"], rel["PRETTY_NAME"]
			if distro == "" {
				// os-release(5): "If not set, a default of ID=linux may be used."
				distro = "linux"
			}
			if like := strings.Fields(rel["ID_LIKE"]); len(like) > 0 {
				r = r.With("id_like", like)
			}
			if c := rel["VERSION_CODENAME"]; c != "" {
				r = r.With("version_codename", c)
			}
			break
		}
		if data, err := readTargetFile(ctx, t, uptimePath, maxProcFile); err == nil {
			if up, err := parseUptime(data); err == nil {
				r = r.With("uptime_seconds", int64(up.Seconds()))
				upText = "up " + humanDuration(up)
			}
		}
	}
	if ur, ok := t.(diag.UptimeReader); ok && upText == "" {
		if up, err := ur.Uptime(ctx); err == nil {
			r = r.With("uptime_seconds", int64(up.Seconds()))
			upText = "up " + humanDuration(up)
		}
	}
	r = r.With("distro", distro).With("distro_version", version).With("pretty_name", pretty)

	name := pretty
	if name == "" {
		name = strings.TrimSpace(distro + " " + version)
	}
	if name == "" {
		name = facts.OS
	}
	summary := name
	if facts.Kernel != "" {
		summary += ", kernel " + facts.Kernel
	}
	if facts.Hostname != "" {
		summary = facts.Hostname + ": " + summary
	}
	if upText != "" {
		summary += ", " + upText
	}

	var problems []string
	hint := ""
	if len(o.Distro) > 0 && !slices.Contains(o.Distro, distro) {
		problems = append(problems, fmt.Sprintf("distribution %q is not one of %s", distro, strings.Join(o.Distro, ", ")))
		hint = "this playbook was written for " + strings.Join(o.Distro, " or ") + "; run it on such a machine, or add a when: {os: ...} condition to the checks that need it"
	}
	if o.MinVersion != "" {
		switch {
		case version == "":
			return diag.Resultf(diag.Error, "%s: the distribution reports no version (VERSION_ID) to compare with min_version %s", summary, o.MinVersion).
				WithHint("rolling-release distributions such as Arch have no version; drop min_version for them")
		case compareDotted(version, o.MinVersion) < 0:
			problems = append(problems, fmt.Sprintf("version %s is older than the %s minimum", version, o.MinVersion))
			if hint == "" {
				hint = "upgrade the distribution to a supported release (for Debian and Ubuntu: the release notes' upgrade chapter), or ask whether this machine is still meant to be in service"
			}
		}
	}
	if o.MinKernel != "" {
		switch {
		case facts.Kernel == "":
			return diag.Resultf(diag.Error, "%s: the kernel release is not known, so it cannot be compared with min_kernel %s", summary, o.MinKernel).
				WithHint("the target did not report its kernel; check it with a command check running uname -r")
		case compareDotted(kernelNumber(facts.Kernel), o.MinKernel) < 0:
			problems = append(problems, fmt.Sprintf("kernel %s is older than the %s minimum", facts.Kernel, o.MinKernel))
			if hint == "" {
				hint = "install a newer kernel from the distribution and reboot into it; if one is installed already, the machine has not rebooted since"
			}
		}
	}
	if len(problems) > 0 {
		r.Status, r.Message, r.Hint = diag.Fail, summary+": "+strings.Join(problems, "; "), hint
		return r
	}
	r.Status, r.Message = diag.Pass, summary
	return r
}

// isDottedVersion accepts what compareDotted can compare: runs of letters
// and digits separated by dots, dashes, underscores or plus signs.
func isDottedVersion(s string) bool {
	if s == "" || !isAlnum(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && !strings.ContainsRune(".-_+~", rune(c)) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// kernelNumber keeps the numeric release of a kernel string:
// "6.1.0-18-amd64" -> "6.1.0", "5.15.0-91-generic" -> "5.15.0".
func kernelNumber(k string) string {
	end := 0
	for end < len(k) && (isDigit(k[end]) || k[end] == '.') {
		end++
	}
	return strings.TrimRight(k[:end], ".")
}

// compareDotted compares distribution versions and kernel releases, which
// are dotted numbers with the odd letter: numbers compare as numbers
// (22.10 > 22.04, 5.15 > 5.4), letters alphabetically, a number beats
// letters, and a longer version beats its own prefix (12.1 > 12).
func compareDotted(a, b string) int {
	for {
		a, b = strings.TrimLeft(a, ".-_+~"), strings.TrimLeft(b, ".-_+~")
		if a == "" || b == "" {
			switch {
			case a == b:
				return 0
			case a == "":
				return -1
			}
			return 1
		}
		var sa, sb string
		sa, a = splitRun(a)
		sb, b = splitRun(b)
		da, db := isDigit(sa[0]), isDigit(sb[0])
		if da != db {
			if da {
				return 1
			}
			return -1
		}
		if c := compareRun(sa, sb, da); c != 0 {
			return c
		}
	}
}

// splitRun splits off the leading run of digits, or of non-digit
// alphanumerics, of a non-empty string starting with an alphanumeric.
func splitRun(s string) (run, rest string) {
	digit := isDigit(s[0])
	i := 0
	for i < len(s) && isAlnum(s[i]) && isDigit(s[i]) == digit {
		i++
	}
	if i == 0 {
		i = 1
	}
	return s[:i], s[i:]
}

// compareRun compares two runs of the same type; digit runs by value,
// without converting them, so no length of digits can overflow.
func compareRun(a, b string, digits bool) int {
	if digits {
		a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(a) != len(b) {
			if len(a) < len(b) {
				return -1
			}
			return 1
		}
	}
	return strings.Compare(a, b)
}
