package syscheck

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"

	"github.com/triage-dev/triage/diag"
)

func init() {
	diag.Register(diag.Kind{
		Name:    "file",
		Summary: "Checks that a file exists (or not), its permissions and its content.",
		New:     func() diag.Checker { return &File{Exists: true} },
	})
}

// maxFileRead caps how much of a file contains/matches look at.
const maxFileRead = 4 << 20

// File checks a file on the target.
type File struct {
	Path     string `yaml:"path" required:"true" doc:"the file's path on the target"`
	Exists   bool   `yaml:"exists" doc:"whether the file should exist (default true)"`
	Contains string `yaml:"contains" doc:"text the file must contain"`
	Matches  string `yaml:"matches" doc:"a regular expression (RE2) the file's content must match"`
	Mode     string `yaml:"mode" doc:"the permission bits the file must have, in octal, such as \"0644\""`
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
	if !f.Exists && (f.Contains != "" || f.Matches != "" || f.Mode != "") {
		errs = append(errs, diag.FieldErrorf("exists", "is false, so contains, matches and mode cannot apply"))
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
	r := diag.Result{}.With("path", f.Path).With("exists", true).With("size_bytes", info.Size).
		With("mode", fmt.Sprintf("%04o", info.Mode.Perm()))
	if !f.Exists {
		r.Status, r.Message = diag.Fail, fmt.Sprintf("%s exists but should not", f.Path)
		return r.WithHint("remove %s if it is left over, or ask why it is there", f.Path)
	}
	var problems []string
	if f.Mode != "" {
		want, _ := parseMode(f.Mode)
		if got := info.Mode.Perm() | info.Mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky); got.Perm() != want.Perm() {
			problems = append(problems, fmt.Sprintf("has mode %04o, expected %04o", got.Perm(), want.Perm()))
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
		return r.WithHint("compare %s with what the software expects; it may have been edited by hand", f.Path)
	}
	r.Status, r.Message = diag.Pass, fmt.Sprintf("%s exists (%s, mode %04o)", f.Path, diag.FormatBytes(uint64(info.Size)), info.Mode.Perm())
	return r
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
