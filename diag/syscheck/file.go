package syscheck

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/triage-dev/triage/diag"
)

func init() {
	diag.Register(diag.Kind{
		Name:    "file",
		Summary: "Checks that a file exists (or not), its permissions, owner, size, age and content.",
		New:     func() diag.Checker { return &File{Exists: true} },
	})
}

// maxFileRead caps how much of a file contains/matches look at.
const maxFileRead = 4 << 20

// File checks a file on the target.
type File struct {
	Path     string        `yaml:"path" required:"true" doc:"the file's path on the target"`
	Exists   bool          `yaml:"exists" doc:"whether the file should exist (default true)"`
	Contains string        `yaml:"contains" doc:"text the file must contain"`
	Matches  string        `yaml:"matches" doc:"a regular expression (RE2) the file's content must match"`
	Mode     string        `yaml:"mode" doc:"the permission bits the file must have, in octal, such as \"0644\"; with setuid, setgid or sticky bits (\"4755\") those are checked too"`
	Owner    string        `yaml:"owner" doc:"the user that must own the file: a name from the target's /etc/passwd, or a numeric uid"`
	Group    string        `yaml:"group" doc:"the group that must own the file: a name from the target's /etc/group, or a numeric gid"`
	MinSize  diag.Size     `yaml:"min_size" doc:"fail when the file is smaller than this, such as 1KiB"`
	MaxSize  diag.Size     `yaml:"max_size" doc:"fail when the file is larger than this, such as 100MiB; 0 means no limit"`
	MaxAge   diag.Duration `yaml:"max_age" doc:"fail when the file was last modified longer ago than this, such as 24h (for files a job should refresh)"`

	// now is the clock for max_age; nil means time.Now. The age is
	// measured against this machine's clock, so a target whose clock is
	// off shifts it by as much.
	now func() time.Time
}

func (f *File) Validate() error {
	var errs []error
	if f.Matches != "" {
		if _, err := regexp.Compile(f.Matches); err != nil {
			errs = append(errs, diag.FieldErrorf("matches", "invalid regular expression: %v", err))
		}
	}
	if f.Mode != "" {
		if _, err := parseMode(f.Mode); err != nil {
			errs = append(errs, diag.FieldErrorf("mode", "%v", err))
		}
	}
	for field, v := range map[string]string{"owner": f.Owner, "group": f.Group} {
		if v != "" && strings.ContainsAny(v, ": \t\n") {
			errs = append(errs, diag.FieldErrorf(field, "%q is not a name or a number (one %s, without spaces or colons)", v, field))
		}
	}
	if f.MaxSize > 0 && f.MinSize > f.MaxSize {
		errs = append(errs, diag.FieldErrorf("min_size", "%s is above max_size (%s)", diag.FormatBytes(uint64(f.MinSize)), diag.FormatBytes(uint64(f.MaxSize))))
	}
	if !f.Exists {
		var set []string
		for _, p := range []struct {
			name string
			set  bool
		}{
			{"contains", f.Contains != ""}, {"matches", f.Matches != ""}, {"mode", f.Mode != ""},
			{"owner", f.Owner != ""}, {"group", f.Group != ""}, {"min_size", f.MinSize > 0},
			{"max_size", f.MaxSize > 0}, {"max_age", f.MaxAge > 0},
		} {
			if p.set {
				set = append(set, p.name)
			}
		}
		if len(set) > 0 {
			errs = append(errs, diag.FieldErrorf("exists", "is false, so %s cannot apply", strings.Join(set, ", ")))
		}
	}
	return errors.Join(errs...)
}

func parseMode(s string) (fs.FileMode, error) {
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m > 0o7777 {
		return 0, fmt.Errorf("invalid mode %q (want octal permission bits such as \"0644\"; quote it so YAML keeps the leading 0)", s)
	}
	return fs.FileMode(m), nil
}

// unixMode writes Go's file mode the way chmod and ls count it: the
// permission bits plus 04000, 02000 and 01000 for setuid, setgid and sticky.
func unixMode(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		u |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		u |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		u |= 0o1000
	}
	return u
}

func (f *File) clock() time.Time {
	if f.now != nil {
		return f.now()
	}
	return time.Now()
}

func (f *File) Run(ctx context.Context, t diag.Target) diag.Result {
	info, err := t.Stat(ctx, f.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !f.Exists {
			return diag.Resultf(diag.Pass, "%s does not exist, as expected", f.Path).With("path", f.Path).With("exists", false)
		}
		return diag.Resultf(diag.Fail, "%s does not exist", f.Path).With("path", f.Path).With("exists", false).
			WithHint("create or restore %s, or reinstall the software that provides it", f.Path)
	case err != nil:
		return statError(f.Path, err)
	}
	mode := unixMode(info.Mode)
	r := diag.Result{}.With("path", f.Path).With("exists", true).With("size_bytes", info.Size).
		With("mode", fmt.Sprintf("%04o", mode)).With("modified", info.ModTime.UTC().Format(time.RFC3339))
	if info.UID >= 0 {
		r = r.With("uid", info.UID)
	}
	if info.GID >= 0 {
		r = r.With("gid", info.GID)
	}
	if !f.Exists {
		r.Status, r.Message = diag.Fail, fmt.Sprintf("%s exists but should not", f.Path)
		return r.WithHint("remove %s if it is left over, or ask why it is there", f.Path)
	}

	var problems []string
	if f.Mode != "" {
		want, _ := parseMode(f.Mode)
		got := mode
		if want <= 0o777 {
			// Only permission bits were asked for: a setuid bit the author
			// did not mention is not a mismatch.
			got &= 0o777
		}
		if got != uint32(want) {
			problems = append(problems, fmt.Sprintf("has mode %04o, expected %04o", got, uint32(want)))
		}
	}
	if (f.MinSize > 0 || f.MaxSize > 0) && info.Mode.IsDir() {
		return diag.Resultf(diag.Error, "%s is a directory; min_size and max_size need a file", f.Path).
			WithHint("point path at a file")
	}
	if f.MinSize > 0 && info.Size < int64(f.MinSize) {
		problems = append(problems, fmt.Sprintf("is %s, smaller than the %s minimum", diag.FormatBytes(uint64(info.Size)), diag.FormatBytes(uint64(f.MinSize))))
	}
	if f.MaxSize > 0 && info.Size > int64(f.MaxSize) {
		problems = append(problems, fmt.Sprintf("is %s, larger than the %s maximum", diag.FormatBytes(uint64(info.Size)), diag.FormatBytes(uint64(f.MaxSize))))
	}
	age := f.clock().Sub(info.ModTime)
	if f.MaxAge > 0 {
		r = r.With("age_seconds", max(0, int64(age.Seconds())))
		if age > f.MaxAge.D() {
			problems = append(problems, fmt.Sprintf("was last modified %s ago, longer than max_age %s", humanDuration(age), formatDuration(f.MaxAge)))
		}
	}

	ownerNote, noOwners := "", false
	if f.Owner != "" || f.Group != "" {
		if info.UID < 0 || info.GID < 0 {
			noOwners = true
		} else {
			var owned []string
			for _, c := range []idCheck{
				{field: "owner", noun: "user", idNoun: "uid", file: "/etc/passwd", want: f.Owner, got: info.UID},
				{field: "group", noun: "group", idNoun: "gid", file: "/etc/group", want: f.Group, got: info.GID},
			} {
				if c.want == "" {
					continue
				}
				res := c.run(ctx, t)
				if res.err != nil {
					return diag.Resultf(diag.Error, "cannot check the %s of %s: %v", c.field, f.Path, res.err).
						With("path", f.Path).
						WithHint("give the %s as a number (%s %d is what the file has), or make %s readable", c.field, c.idNoun, c.got, c.file)
				}
				r = r.With(c.field, res.gotName)
				owned = append(owned, res.gotName)
				if res.problem != "" {
					problems = append(problems, res.problem)
				}
			}
			ownerNote = ", owned by " + strings.Join(owned, ":")
		}
	}

	if f.Contains != "" || f.Matches != "" {
		if info.Mode.IsDir() {
			return diag.Resultf(diag.Error, "%s is a directory; contains and matches need a file", f.Path).
				WithHint("point path at a file")
		}
		data, truncated, err := t.ReadFile(ctx, f.Path, maxFileRead)
		if err != nil {
			return statError(f.Path, err)
		}
		scope := ""
		if truncated {
			scope = fmt.Sprintf(" (only the first %s was read)", diag.FormatBytes(maxFileRead))
		}
		if f.Contains != "" && !strings.Contains(string(data), f.Contains) {
			problems = append(problems, fmt.Sprintf("does not contain %q%s", f.Contains, scope))
		}
		if f.Matches != "" {
			if re, err := regexp.Compile(f.Matches); err == nil && !re.Match(data) {
				problems = append(problems, fmt.Sprintf("does not match /%s/%s", f.Matches, scope))
			}
		}
	}
	if len(problems) > 0 {
		r.Status, r.Message = diag.Fail, f.Path+" "+strings.Join(problems, "; ")
		return r.WithHint("%s", f.hint(problems))
	}
	details := fmt.Sprintf("%s, mode %04o%s", diag.FormatBytes(uint64(info.Size)), mode, ownerNote)
	if f.MaxAge > 0 {
		details += ", modified " + humanDuration(age) + " ago"
	}
	if noOwners {
		// The rest passed, but part of what was asked cannot be looked at
		// on this platform: say so rather than pass it.
		r.Status = diag.Skip
		r.Message = fmt.Sprintf("%s exists (%s) but its owner cannot be checked: %s reports no file owners", f.Path, details, t.Name())
		return r.WithHint("check ownership with a command check using the platform's own tools")
	}
	r.Status, r.Message = diag.Pass, fmt.Sprintf("%s exists (%s)", f.Path, details)
	return r
}

// hint picks advice for the first kind of problem found.
func (f *File) hint(problems []string) string {
	first := problems[0]
	switch {
	case strings.HasPrefix(first, "was last modified"):
		return "the job or service that should keep " + f.Path + " fresh may have stopped: look at its timer, cron entry or logs"
	case strings.HasPrefix(first, "is owned by"), strings.HasPrefix(first, "has mode"):
		return "fix it with chown or chmod if it was changed by mistake, or reinstall the software that provides " + f.Path
	case strings.Contains(first, "smaller than"):
		return f.Path + " may be empty or cut short: the program that writes it may have failed"
	case strings.Contains(first, "larger than"):
		return f.Path + " has grown too large: rotate or truncate it (logrotate), and find out what writes so much"
	}
	return "compare " + f.Path + " with what the software expects; it may have been edited by hand"
}

// idCheck compares a file's numeric owner or group with the one a
// playbook names, by name or by number.
type idCheck struct {
	field, noun, idNoun, file string
	want                      string
	got                       int
}

type idOutcome struct {
	gotName string // the file's owner as a name when known, else its number
	problem string // "" when it matches
	err     error  // the comparison could not be made
}

func (c idCheck) run(ctx context.Context, t diag.Target) idOutcome {
	names, loadErr := loadIDNames(ctx, t, c.file)
	gotName := strconv.Itoa(c.got)
	if loadErr == nil {
		if n, ok := names.byID[c.got]; ok {
			gotName = n
		}
	}
	described := func(id int) string {
		if n, ok := names.byID[id]; ok && loadErr == nil {
			return fmt.Sprintf("%s (%s %d)", n, c.idNoun, id)
		}
		return fmt.Sprintf("%s %d", c.idNoun, id)
	}
	mismatch := func(want string) idOutcome {
		return idOutcome{gotName: gotName, problem: fmt.Sprintf("is owned by %s %s, expected %s", c.noun, described(c.got), want)}
	}
	if id, err := strconv.Atoi(c.want); err == nil {
		if id == c.got {
			return idOutcome{gotName: gotName}
		}
		return mismatch(described(id))
	}
	if loadErr != nil {
		return idOutcome{gotName: gotName, err: fmt.Errorf("%s %q cannot be looked up: %w", c.noun, c.want, loadErr)}
	}
	if id, ok := names.byName[c.want]; ok {
		if id == c.got {
			return idOutcome{gotName: gotName}
		}
		return mismatch(described(id))
	}
	if _, known := names.byID[c.got]; known {
		// The file's owner has a local name, and it is not the one wanted:
		// whatever the wanted name maps to elsewhere, it is not this owner.
		return mismatch(fmt.Sprintf("%s (not in %s)", c.want, c.file))
	}
	return idOutcome{gotName: gotName, err: fmt.Errorf("neither %s %q nor %s %d is in the target's %s (directory services such as LDAP are not consulted)", c.noun, c.want, c.idNoun, c.got, c.file)}
}

// statError reports a file that could not be looked at, which is not the
// same as a file that is missing.
func statError(path string, err error) diag.Result {
	r := diag.Resultf(diag.Error, "cannot look at %s: %v", path, err).With("path", path)
	if errors.Is(err, fs.ErrPermission) {
		return r.WithHint("triage runs as a user who may not read %s; run it as a user who can", path)
	}
	return r.WithHint("the target could not read %s; see the message for why", path)
}
