package pkgcheck

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
		Name:    "package",
		Summary: "Checks that a package is installed (or absent), at a version that meets a constraint, with the rules of its package manager.",
		New:     func() diag.Checker { return &Package{State: "installed"} },
	})
}

// Package checks one installed package.
//
// Without a manager, every manager found on the target is asked, the
// system's own (dpkg, rpm, apk, pacman) before the application stores
// (flatpak, snap), and the first that has the package answers. With
// state: absent, all of them must lack it; a version constraint then
// names the versions that must be absent ("< 3.0.7" for a vulnerable
// range), and other versions may stay.
type Package struct {
	Name    string `yaml:"name" required:"true" doc:"the package name as the manager spells it: openssl, libc6:amd64 (dpkg), kernel.x86_64 (rpm), org.mozilla.firefox (flatpak); on macOS an app's name or bundle identifier (Firefox, org.mozilla.firefox), an installer receipt (com.microsoft.teams2) or a Homebrew formula; on Windows a program's name as Settings > Apps shows it (Mozilla Firefox)"`
	Version string `yaml:"version" doc:"a version constraint: \">= 2.5\", \"< 3\", \">= 1.2, < 2\", \"= 1.2.3\", \"!= 1.0\"; compared with the manager's own rules, and a constraint without an epoch or package release ignores the installed one's"`
	State   string `yaml:"state" doc:"installed (default) or absent"`
	Manager string `yaml:"manager" doc:"the package manager to ask: dpkg, rpm, apk, pacman, flatpak or snap on Linux; app (application bundles), pkgutil (installer receipts) or brew on macOS; registry (the programs in Settings > Apps) on Windows; by default every one of the target's platform that is found"`
}

// packageName is what package managers allow in names, with dpkg's
// ":arch" qualifier: it must start with a letter or digit, so a name can
// never be read as a command-line option.
var packageName = diag.LazyRegexp(`^[A-Za-z0-9][A-Za-z0-9+._@~-]*(:[A-Za-z0-9_-]+)?$`)

// programName is what macOS apps and Windows programs are called, spaces
// and brackets included ("Microsoft Visual C++ 2015-2022 Redistributable
// (x64)"); it too starts with a letter or digit and holds no control
// characters.
var programName = diag.LazyRegexp(`^[\pL\pN][^\x00-\x1f\x7f]*$`)

// linuxManager reports whether the manager, when one is named, reads a
// Linux package database, whose names follow packageName.
func linuxManager(name string) bool {
	s, ok := sourceByName(name)
	return ok && s.os == ""
}

func (p *Package) Validate() error {
	var errs []error
	switch {
	case len(p.Name) > 255:
		errs = append(errs, diag.FieldErrorf("name", "%q is longer than a package name can be (255 characters)", p.Name))
	case linuxManager(p.Manager) && !packageName().MatchString(p.Name):
		errs = append(errs, diag.FieldErrorf("name", "%q is not a package name (letters, digits and +._@~-, starting with a letter or digit)", p.Name))
	case !packageName().MatchString(p.Name) && !programName().MatchString(p.Name):
		errs = append(errs, diag.FieldErrorf("name", "%q is not a package or program name (it must start with a letter or digit, without control characters)", p.Name))
	}
	if p.Version != "" {
		c, err := parseConstraint(p.Version)
		if err != nil {
			errs = append(errs, diag.FieldErrorf("version", "invalid constraint %q: %v", p.Version, err))
		}
		// apk is the one manager with a strict version grammar; a version
		// it would call invalid compares as text, which is never meant.
		for _, cl := range c {
			if p.Manager == "apk" && !validAPK(cl.version) {
				errs = append(errs, diag.FieldErrorf("version", "%q is not an apk version (digits and dots, then an optional letter, _suffix and -rN, such as 1.2.3_rc1-r0)", cl.version))
			}
		}
	}
	if p.State != "installed" && p.State != "absent" {
		errs = append(errs, diag.FieldErrorf("state", "unknown state %q (want installed or absent)", p.State))
	}
	if p.Manager != "" {
		if _, ok := sourceByName(p.Manager); !ok {
			errs = append(errs, diag.FieldErrorf("manager", "unknown package manager %q (want %s)", p.Manager, strings.Join(managerNames(), ", ")))
		}
	}
	if p.Manager != "" && p.Manager != "dpkg" && strings.Contains(p.Name, ":") {
		errs = append(errs, diag.FieldErrorf("name", "%q has an architecture qualifier, which only dpkg understands", p.Name))
	}
	return errors.Join(errs...)
}

// answer is what one source said about the package.
type answer struct {
	src  source
	pkgs []installedPkg
	err  error
}

func (p *Package) Run(ctx context.Context, t diag.Target) diag.Result {
	// Validate has accepted the parameters at load time; parsing again
	// here keeps Run free of state on the shared struct.
	var want constraint
	if p.Version != "" {
		var err error
		if want, err = parseConstraint(p.Version); err != nil {
			return diag.Resultf(diag.Error, "invalid version constraint %q: %v", p.Version, err).WithHint("fix the playbook")
		}
	}
	facts, _ := t.Facts(ctx)
	platform := facts.OS
	if platform == "linux" {
		platform = ""
	}
	if platform != "" && platform != "darwin" && platform != "windows" && p.Manager == "" {
		return diag.Resultf(diag.Skip, "triage cannot list installed software on %s yet: it knows Linux package managers, flatpak and snap, macOS apps, receipts and Homebrew, and Windows programs", facts.OS).
			With("name", p.Name).
			WithHint("check the program with a file or command check instead")
	}

	var candidates []source
	for _, s := range sources {
		if s.os == platform {
			candidates = append(candidates, s)
		}
	}
	if p.Manager != "" {
		s, _ := sourceByName(p.Manager)
		candidates = []source{s}
	}
	var answers []answer
	for _, s := range candidates {
		if err := ctx.Err(); err != nil {
			return diag.Resultf(diag.Error, "stopped while asking the package managers: %v", err).With("name", p.Name).
				WithHint("the check ran out of time; raise its timeout")
		}
		// The first manager that has the package decides the verdict
		// (judge looks no further), whatever the state and version asked:
		// the others need not be asked.
		if hasPackage(answers) {
			break
		}
		pkgs, err := s.query(ctx, t, p.Name)
		answers = append(answers, answer{src: s, pkgs: pkgs, err: err})
	}
	return p.judge(want, answers, facts)
}

func hasPackage(answers []answer) bool {
	for _, a := range answers {
		if a.err == nil && len(a.pkgs) > 0 {
			return true
		}
	}
	return false
}

func (p *Package) judge(want constraint, answers []answer, facts diag.Facts) diag.Result {
	base := diag.Result{}.With("name", p.Name)
	if p.Version != "" {
		base = base.With("required", want.String())
	}
	var present, failed []answer
	var asked []string
	for _, a := range answers {
		switch {
		case errors.Is(a.err, errAbsent):
		case a.err != nil:
			failed = append(failed, a)
			asked = append(asked, a.src.name)
		default:
			asked = append(asked, a.src.name)
			if len(a.pkgs) > 0 {
				present = append(present, a)
			}
		}
	}

	if len(asked) == 0 {
		r := base.With("installed", false)
		r.Status = diag.Error
		if p.Manager != "" {
			r.Message = fmt.Sprintf("%s is not available on this system: %s", p.Manager, strings.TrimPrefix(answers[0].err.Error(), errAbsent.Error()+": "))
			r.Hint = fmt.Sprintf("leave manager out to ask whichever package manager the system has, or check that %s is installed", p.Manager)
			return r
		}
		var tried []string
		for _, a := range answers {
			tried = append(tried, a.src.name)
		}
		r.Message = "found no package manager: none of " + strings.Join(tried, ", ") + " is on this system"
		r.Hint = "triage knows dpkg, rpm, apk, pacman, flatpak and snap on Linux, apps, receipts and Homebrew on macOS, and the registry's programs on Windows; elsewhere, check the program with a file or command check"
		return r
	}

	if len(present) == 0 {
		if len(failed) > 0 {
			return p.couldNotCheck(base, failed)
		}
		r := base.With("installed", false).With("version", "")
		if p.State == "absent" {
			r.Status, r.Message = diag.Pass, fmt.Sprintf("%s is not installed (asked %s), as required", p.Name, strings.Join(asked, ", "))
			return r
		}
		r.Status, r.Message = diag.Fail, fmt.Sprintf("%s is not installed (asked %s)", p.Name, strings.Join(asked, ", "))
		src := primary(answers)
		r.Hint = "install it: " + command(src.hints(facts).install, p.Name)
		if p.Version != "" {
			r.Hint += fmt.Sprintf(", at a version that satisfies %s", want)
		}
		return r
	}
	return p.judgeInstalled(base, want, present[0], facts)
}

// couldNotCheck reports managers that failed while none that answered
// had the package: it may be in the one that could not be read.
func (p *Package) couldNotCheck(base diag.Result, failed []answer) diag.Result {
	var msgs []string
	for _, a := range failed {
		msgs = append(msgs, fmt.Sprintf("%s: %v", a.src.name, a.err))
	}
	r := base
	r.Status = diag.Error
	r.Message = fmt.Sprintf("could not read the package database: %s", strings.Join(msgs, "; "))
	r.Hint = "triage may lack permission to read it, or the database is damaged or locked; run the manager's own query (dpkg -l, rpm -qa) on the target to see"
	return r
}

// primary is the manager a hint should name: the system's own if one
// answered, else the first that did.
func primary(answers []answer) source {
	for _, a := range answers {
		if a.err == nil && !a.src.appStore {
			return a.src
		}
	}
	for _, a := range answers {
		if a.err == nil {
			return a.src
		}
	}
	return answers[0].src
}

func command(pattern, name string) string { return strings.ReplaceAll(pattern, "%s", name) }

func (p *Package) judgeInstalled(base diag.Result, want constraint, a answer, facts diag.Facts) diag.Result {
	src, hints := a.src, a.src.hints(facts)
	var usable, broken []installedPkg
	for _, pkg := range a.pkgs {
		if pkg.Broken != "" {
			broken = append(broken, pkg)
		} else {
			usable = append(usable, pkg)
		}
	}
	r := base.With("source", src.name)

	if len(usable) == 0 {
		// dpkg has it only half-installed or half-configured.
		b := broken[0]
		r = r.With("installed", false).With("version", b.Version).With("dpkg_state", b.Broken)
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("%s %s is only partly installed (%s state %s)", p.Name, b.Version, src.name, b.Broken)
		r.Hint = "an installation or upgrade was interrupted; finish it: " + command(hints.repair, p.Name)
		if p.State == "absent" {
			r.Message += "; it should be absent"
			r.Hint = "an installation or removal was interrupted; finish the removal: " + command(hints.remove, p.Name)
		}
		return r
	}

	// The newest installed version speaks for the package, unless an older
	// copy alongside it (kernels, multi-version installs) is the one that
	// decides the verdict.
	slices.SortFunc(usable, func(x, y installedPkg) int { return -src.scheme.compare(x.Version, y.Version) })
	var versions []string
	for _, pkg := range usable {
		if !slices.Contains(versions, pkg.Version) {
			versions = append(versions, pkg.Version)
		}
	}
	r = r.With("installed", true)
	if len(versions) > 1 {
		r = r.With("versions", versions)
	}
	also := ""
	if len(versions) > 1 {
		also = fmt.Sprintf(" (also installed: %s)", strings.Join(versions[1:], ", "))
	}

	// The first (newest) version that satisfies the constraint, if any.
	match, firstFailed := "", clause{}
	for i, v := range versions {
		ok, failedClause := want.satisfied(src.scheme, v)
		if ok && match == "" {
			match = v
		}
		if i == 0 {
			firstFailed = failedClause
		}
	}

	switch p.State {
	case "absent":
		if p.Version == "" {
			r = r.With("version", versions[0])
			r.Status = diag.Fail
			r.Message = fmt.Sprintf("%s %s is installed (%s)%s but should be absent", p.Name, versions[0], src.name, also)
			r.Hint = "remove it: " + command(hints.remove, p.Name)
			return r
		}
		if match != "" {
			r = r.With("version", match)
			r.Status = diag.Fail
			r.Message = fmt.Sprintf("%s %s is installed (%s); no version matching %s should be", p.Name, match, src.name, want)
			r.Hint = fmt.Sprintf("upgrade it past that range: %s, or remove it: %s", command(hints.upgrade, p.Name), command(hints.remove, p.Name))
			return r
		}
		r = r.With("version", versions[0])
		r.Status = diag.Pass
		r.Message = fmt.Sprintf("%s %s is installed (%s)%s, none matching %s, as required", p.Name, versions[0], src.name, also, want)
		return r
	}

	if p.Version == "" {
		r = r.With("version", versions[0])
		r.Status, r.Message = diag.Pass, fmt.Sprintf("%s %s is installed (%s)%s", p.Name, versions[0], src.name, also)
		return r
	}
	if match != "" {
		r = r.With("version", match)
		r.Status = diag.Pass
		r.Message = fmt.Sprintf("%s %s is installed (%s), as required (%s)", p.Name, match, src.name, want)
		if match != versions[0] {
			r.Message += fmt.Sprintf("; newer installed: %s", versions[0])
		}
		return r
	}
	r = r.With("version", versions[0])
	r.Status = diag.Fail
	r.Message = fmt.Sprintf("%s %s is installed (%s)%s; required %s", p.Name, versions[0], src.name, also, want)
	if firstFailed.lowerBound() {
		r.Hint = "upgrade it: " + command(hints.upgrade, p.Name)
	} else {
		r.Hint = fmt.Sprintf("install a version that satisfies %s: %s", want, command(hints.pick, p.Name))
	}
	return r
}
