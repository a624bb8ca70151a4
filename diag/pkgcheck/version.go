package pkgcheck

import (
	"strings"
)

// Each package manager orders versions by its own rules, and the rules
// disagree: "1.0a" is newer than "1.0" for rpm and older for pacman, "~"
// means "before" for dpkg and rpm and nothing for apk. A constraint is
// therefore always compared with the rules of the manager that reported
// the installed version. The comparers return -1, 0 or +1, and are total:
// any two strings compare, valid versions or not, without panicking.

// scheme is one manager's version rules.
type scheme struct {
	name    string
	compare func(a, b string) int
	// split divides a version into the parts a constraint may leave out:
	// an epoch and a packaging release (Debian revision, rpm release, apk
	// -rN, pacman pkgrel). hasEpoch and hasRel say whether they were there.
	split func(v string) versionParts
	join  func(p versionParts) string
}

type versionParts struct {
	epoch, upstream, rel string
	hasEpoch, hasRel     bool
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }

// compareDigits compares two runs of decimal digits by value without
// converting them, so no length of digits overflows.
func compareDigits(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return sign(strings.Compare(a, b))
}

// splitEpochRel splits "[epoch:]upstream[-rel]" the way dpkg, rpm and
// pacman do: the epoch is the digits before the first colon, the release
// what follows the last hyphen.
func splitEpochRel(v string) versionParts {
	var p versionParts
	if i := strings.IndexByte(v, ':'); i >= 0 && allDigits(v[:i]) {
		p.epoch, p.hasEpoch, v = v[:i], true, v[i+1:]
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		p.rel, p.hasRel, v = v[i+1:], true, v[:i]
	}
	p.upstream = v
	return p
}

func joinEpochRel(p versionParts) string {
	s := p.upstream
	if p.hasEpoch {
		s = p.epoch + ":" + s
	}
	if p.hasRel {
		s += "-" + p.rel
	}
	return s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// ---- Debian (dpkg) ----

var debianScheme = scheme{name: "debian", compare: compareDebian, split: splitEpochRel, join: joinEpochRel}

// compareDebian orders Debian versions, [epoch:]upstream[-revision], per
// Debian Policy 5.6.12: epochs compare as numbers; upstream and revision
// compare in turns of non-digits and digits, where "~" sorts before
// everything (even the end of the string), letters before other
// characters, and digit runs by value. A missing revision is an empty one.
func compareDebian(a, b string) int {
	pa, pb := splitEpochRel(a), splitEpochRel(b)
	if c := compareEpochs(pa.epoch, pb.epoch); c != 0 {
		return c
	}
	if c := debianVerrevcmp(pa.upstream, pb.upstream); c != 0 {
		return c
	}
	return debianVerrevcmp(pa.rel, pb.rel)
}

// debianOrder weighs one character of a non-digit run; 0 stands for the
// end of the run, which only "~" (-1) sorts before.
func debianOrder(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	c := s[i]
	switch {
	case isDigit(c):
		return 0
	case isAlpha(c):
		return int(c)
	case c == '~':
		return -1
	}
	return int(c) + 256
}

func debianVerrevcmp(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			ac, bc := debianOrder(a, i), debianOrder(b, j)
			if ac != bc {
				return sign(ac - bc)
			}
			// Only a string that has not ended moves on; the one that
			// ended weighs 0 until the other's run ends too.
			if i < len(a) {
				i++
			}
			if j < len(b) {
				j++
			}
		}
		si, sj := i, j
		for i < len(a) && isDigit(a[i]) {
			i++
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		if c := compareDigits(a[si:i], b[sj:j]); c != 0 {
			return c
		}
	}
	return 0
}

// ---- RPM ----

var rpmScheme = scheme{name: "rpm", compare: compareRPM, split: splitEpochRel, join: joinEpochRel}

// compareRPM orders [epoch:]version[-release] as rpm's rpmverCmp does: a
// missing epoch is 0, then version and release compare with rpmvercmp,
// and a version with a release sorts after the same version without one.
// (rpm's dependency matching instead ignores a release that one side
// leaves out; constraint.satisfied does the same for every manager.)
func compareRPM(a, b string) int {
	pa, pb := splitEpochRel(a), splitEpochRel(b)
	if c := compareEpochs(pa.epoch, pb.epoch); c != 0 {
		return c
	}
	if c := rpmvercmp(pa.upstream, pb.upstream); c != 0 {
		return c
	}
	switch {
	case pa.hasRel && pb.hasRel:
		return rpmvercmp(pa.rel, pb.rel)
	case pa.hasRel:
		return 1
	case pb.hasRel:
		return -1
	}
	return 0
}

// rpmvercmp is rpm's segment comparison (rpmio/rpmvercmp.c, rpm >= 4.15):
// versions are runs of digits or of letters; anything else only separates.
// Digit runs compare by value and beat letter runs; "~" sorts before
// everything, including the end ("1.0~rc1" < "1.0"); "^" sorts after the
// end but before anything else ("1.0" < "1.0^git1" < "1.0.1"). When all
// runs are equal, the version with runs left over is newer.
func rpmvercmp(a, b string) int {
	if a == b {
		return 0
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for i < len(a) && !isAlnum(a[i]) && a[i] != '~' && a[i] != '^' {
			i++
		}
		for j < len(b) && !isAlnum(b[j]) && b[j] != '~' && b[j] != '^' {
			j++
		}
		ca, cb := byteAt(a, i), byteAt(b, j)
		if ca == '~' || cb == '~' {
			if ca != '~' {
				return 1
			}
			if cb != '~' {
				return -1
			}
			i++
			j++
			continue
		}
		if ca == '^' || cb == '^' {
			switch {
			case i >= len(a):
				return -1
			case j >= len(b):
				return 1
			case ca != '^':
				return 1
			case cb != '^':
				return -1
			}
			i++
			j++
			continue
		}
		if i >= len(a) || j >= len(b) {
			break
		}
		si, sj := i, j
		num := isDigit(a[i])
		for i < len(a) && isAlnum(a[i]) && isDigit(a[i]) == num {
			i++
		}
		for j < len(b) && isAlnum(b[j]) && isDigit(b[j]) == num {
			j++
		}
		if sj == j {
			// The runs differ in type: digits are newer than letters.
			if num {
				return 1
			}
			return -1
		}
		var c int
		if num {
			c = compareDigits(a[si:i], b[sj:j])
		} else {
			c = sign(strings.Compare(a[si:i], b[sj:j]))
		}
		if c != 0 {
			return c
		}
	}
	switch {
	case i >= len(a) && j >= len(b):
		return 0
	case i >= len(a):
		return -1
	}
	return 1
}

func byteAt(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// ---- pacman (libalpm) ----

var pacmanScheme = scheme{name: "pacman", compare: comparePacman, split: splitEpochRel, join: joinEpochRel}

// comparePacman is alpm_pkg_vercmp: [epoch:]version[-pkgrel], a missing
// epoch is 0, the pkgrel counts only when both have one, and the parts
// compare with pacman's own rpmvercmp, which predates "~" and "^" and
// differs from rpm's at the end: a trailing letter run is older than none
// ("1.0beta" < "1.0"), and a longer separator is newer ("2___a" > "2_a").
func comparePacman(a, b string) int {
	if a == b {
		return 0
	}
	pa, pb := pacmanSplit(a), pacmanSplit(b)
	if c := pacmanVercmp(pa.epoch, pb.epoch); c != 0 {
		return c
	}
	if c := pacmanVercmp(pa.upstream, pb.upstream); c != 0 || !pa.hasRel || !pb.hasRel {
		return c
	}
	return pacmanVercmp(pa.rel, pb.rel)
}

// pacmanSplit is libalpm's parseEVR: leading digits then ":" make the
// epoch (an empty one is "0"); the release is after the last "-".
func pacmanSplit(v string) versionParts {
	p := versionParts{epoch: "0"}
	k := 0
	for k < len(v) && isDigit(v[k]) {
		k++
	}
	if k < len(v) && v[k] == ':' {
		if k > 0 {
			p.epoch = v[:k]
		}
		p.hasEpoch = true
		v = v[k+1:]
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		p.rel, p.hasRel, v = v[i+1:], true, v[:i]
	}
	p.upstream = v
	return p
}

func pacmanVercmp(a, b string) int {
	if a == b {
		return 0
	}
	i, j := 0, 0   // the current positions
	pi, pj := 0, 0 // where the previous segment ended
	for i < len(a) && j < len(b) {
		for i < len(a) && !isAlnum(a[i]) {
			i++
		}
		for j < len(b) && !isAlnum(b[j]) {
			j++
		}
		if i >= len(a) || j >= len(b) {
			break
		}
		if i-pi != j-pj {
			if i-pi < j-pj {
				return -1
			}
			return 1
		}
		si, sj := i, j
		num := isDigit(a[i])
		for i < len(a) && isAlnum(a[i]) && isDigit(a[i]) == num {
			i++
		}
		for j < len(b) && isAlnum(b[j]) && isDigit(b[j]) == num {
			j++
		}
		pi, pj = i, j
		if sj == j {
			if num {
				return 1
			}
			return -1
		}
		var c int
		if num {
			c = compareDigits(a[si:i], b[sj:j])
		} else {
			c = sign(strings.Compare(a[si:i], b[sj:j]))
		}
		if c != 0 {
			return c
		}
	}
	if i >= len(a) && j >= len(b) {
		return 0
	}
	// What is left over decides: a letter run left over is older than
	// nothing; anything else left over is newer.
	if (i >= len(a) && !isAlpha(b[j])) || (i < len(a) && isAlpha(a[i])) {
		return -1
	}
	return 1
}

// ---- apk (Alpine) ----

var apkScheme = scheme{name: "apk", compare: compareAPK, split: apkSplit, join: apkJoin}

// apkSplit splits off the "-rN" package release; apk has no epoch.
func apkSplit(v string) versionParts { return splitSuffixRel(v, "-r") }

func apkJoin(p versionParts) string { return joinSuffixRel(p, "-r") }

// splitSuffixRel splits off a package release written as sep and digits at
// the end of a version: apk's "-r1", Homebrew's "_1".
func splitSuffixRel(v, sep string) versionParts {
	if i := strings.LastIndex(v, sep); i >= 0 && i+len(sep) < len(v) && allDigits(v[i+len(sep):]) {
		return versionParts{upstream: v[:i], rel: v[i+len(sep):], hasRel: true}
	}
	return versionParts{upstream: v}
}

func joinSuffixRel(p versionParts, sep string) string {
	if p.hasRel {
		return p.upstream + sep + p.rel
	}
	return p.upstream
}

// The token types of an apk version, in the order apk-tools ranks them
// when one version runs out of a kind of token before the other:
// digit{.digit}...{letter}{_suffix{number}}...{~hash}{-rN}.
const (
	apkInitialDigit = iota
	apkDigit
	apkLetter
	apkSuffix
	apkSuffixNo
	apkCommitHash
	apkRevisionNo
	apkEnd
	apkInvalid
)

// apkSuffixes ranks the _suffix words: pre-releases (alpha to rc) sort
// before the plain version, post-releases (cvs to p) after it.
var apkSuffixes = map[string]int{
	"alpha": -4, "beta": -3, "pre": -2, "rc": -1,
	"cvs": 1, "svn": 2, "git": 3, "hg": 4, "p": 5,
}

type apkToken struct {
	kind   int
	value  string // the token's text: digits, a letter, a suffix word, a hash
	suffix int    // the rank of a suffix word
}

// apkTokenizer walks an apk version (apk-tools src/version.c).
type apkTokenizer struct {
	s   string
	tok apkToken
}

func (t *apkTokenizer) digits() {
	i := 0
	for i < len(t.s) && isDigit(t.s[i]) {
		i++
	}
	t.tok.value, t.s = t.s[:i], t.s[i:]
	if i == 0 {
		t.tok.kind = apkInvalid
	}
}

func (t *apkTokenizer) first() {
	t.tok.kind = apkInitialDigit
	t.digits()
}

// next reads the next token; a token that may not follow the previous
// one makes the rest of the version invalid.
func (t *apkTokenizer) next() {
	if t.s == "" {
		t.tok.kind = apkEnd
		return
	}
	prev := t.tok.kind
	c := t.s[0]
	switch {
	case c >= 'a' && c <= 'z':
		if prev > apkDigit {
			t.tok.kind = apkInvalid
			return
		}
		t.tok = apkToken{kind: apkLetter, value: t.s[:1]}
		t.s = t.s[1:]
	case c == '.' || isDigit(c):
		if c == '.' {
			if prev > apkDigit {
				t.tok.kind = apkInvalid
				return
			}
			t.s = t.s[1:]
		}
		switch prev {
		case apkInitialDigit, apkDigit:
			t.tok.kind = apkDigit
		case apkSuffix:
			t.tok.kind = apkSuffixNo
		default:
			t.tok.kind = apkInvalid
			return
		}
		t.digits()
	case c == '_':
		if prev > apkSuffixNo {
			t.tok.kind = apkInvalid
			return
		}
		i := 1
		for i < len(t.s) && t.s[i] >= 'a' && t.s[i] <= 'z' {
			i++
		}
		rank, ok := apkSuffixes[t.s[1:i]]
		if !ok {
			t.tok.kind = apkInvalid
			return
		}
		t.tok = apkToken{kind: apkSuffix, value: t.s[1:i], suffix: rank}
		t.s = t.s[i:]
	case c == '~':
		if prev >= apkCommitHash {
			t.tok.kind = apkInvalid
			return
		}
		i := 1
		for i < len(t.s) && (isDigit(t.s[i]) || t.s[i] >= 'a' && t.s[i] <= 'f' || t.s[i] >= 'A' && t.s[i] <= 'F') {
			i++
		}
		if i == 1 {
			t.tok.kind = apkInvalid
			return
		}
		t.tok = apkToken{kind: apkCommitHash, value: t.s[1:i]}
		t.s = t.s[i:]
	case c == '-':
		if prev >= apkRevisionNo || !strings.HasPrefix(t.s, "-r") {
			t.tok.kind = apkInvalid
			return
		}
		t.s = t.s[2:]
		t.tok.kind = apkRevisionNo
		t.digits()
	default:
		t.tok.kind = apkInvalid
	}
}

func apkTokenCompare(a, b apkToken) int {
	switch a.kind {
	case apkDigit:
		if a.value[0] == '0' || b.value[0] == '0' {
			// A leading zero makes a digit run a decimal fraction, so it
			// compares as text (Gentoo's rule): 1.01 < 1.1.
			return sign(strings.Compare(a.value, b.value))
		}
		return compareDigits(a.value, b.value)
	case apkInitialDigit, apkSuffixNo, apkRevisionNo:
		return compareDigits(a.value, b.value)
	case apkLetter:
		return sign(int(a.value[0]) - int(b.value[0]))
	case apkSuffix:
		return sign(a.suffix - b.suffix)
	}
	return sign(strings.Compare(a.value, b.value))
}

// compareAPK is apk-tools' apk_version_compare: tokens compare in turn
// while both versions have the same kind of token; when the kinds part,
// the version that ended sorts first, unless the other goes on with a
// pre-release suffix (1.0_rc1 < 1.0 < 1.0_p1 < 1.0-r1).
func compareAPK(a, b string) int {
	ta, tb := apkTokenizer{s: a}, apkTokenizer{s: b}
	ta.first()
	tb.first()
	for ta.tok.kind == tb.tok.kind && ta.tok.kind < apkEnd {
		if c := apkTokenCompare(ta.tok, tb.tok); c != 0 {
			return c
		}
		ta.next()
		tb.next()
	}
	ka, kb := ta.tok.kind, tb.tok.kind
	switch {
	case ka == kb:
		return 0
	case ka == apkSuffix && ta.tok.suffix < 0:
		return -1
	case kb == apkSuffix && tb.tok.suffix < 0:
		return 1
	case ka > kb:
		return -1
	}
	return 1
}

// validAPK reports whether v is a well-formed apk version.
func validAPK(v string) bool {
	t := apkTokenizer{s: v}
	for t.first(); t.tok.kind < apkEnd; t.next() {
	}
	return t.tok.kind == apkEnd
}

// ---- Homebrew ----

// brewScheme orders what `brew list --versions` prints: the formula's
// version, then "_N", its revision (5.0_1 is 5.0 rebuilt), which a
// constraint may leave out. Unlike in generic, a "-" before a word is not
// a pre-release mark: Homebrew named kegs built with options
// "5.0-with-options". Only its own pre-release words (alpha, beta, pre,
// rc, and a or b before a number) make a version older than the release.
var brewScheme = scheme{name: "brew", compare: compareBrew, split: splitBrew, join: joinBrew}

func compareBrew(a, b string) int {
	pa, pb := splitBrew(a), splitBrew(b)
	if c := rpmvercmp(brewNormalize(pa.upstream), brewNormalize(pb.upstream)); c != 0 {
		return c
	}
	// No revision is revision 0.
	return compareDigits(pa.rel, pb.rel)
}

// splitBrew splits off the revision: "_" and digits at the end.
func splitBrew(v string) versionParts { return splitSuffixRel(v, "_") }

func joinBrew(p versionParts) string { return joinSuffixRel(p, "_") }

// brewNormalize drops a leading "v" and marks Homebrew's pre-release
// words with "~", as generic does for every word after a "-": 1.0-rc1,
// 1.0rc1 and 1.0.rc1 are all older than 1.0.
func brewNormalize(v string) string {
	if len(v) > 1 && (v[0] == 'v' || v[0] == 'V') && isDigit(v[1]) {
		v = v[1:]
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if isAlpha(c) && (i == 0 || !isAlpha(v[i-1])) {
			j := i
			for j < len(v) && isAlpha(v[j]) {
				j++
			}
			word := strings.ToLower(v[i:j])
			// "a" and "b" only before a number (1.0a1), as Homebrew reads
			// them: 1.1.1w is a later OpenSSL, not an earlier one.
			if brewPreRelease[word] || (word == "a" || word == "b") && j < len(v) && isDigit(v[j]) {
				// The separator before the word, if any, gives way to "~".
				out := strings.TrimRight(b.String(), "-.")
				b.Reset()
				b.WriteString(out + "~")
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

var brewPreRelease = map[string]bool{"alpha": true, "beta": true, "pre": true, "rc": true}

// ---- everything else (flatpak, snap) ----

var genericScheme = scheme{name: "generic", compare: compareGeneric,
	split: func(v string) versionParts { return versionParts{upstream: v} },
	join:  func(p versionParts) string { return p.upstream }}

// compareGeneric orders the free-form versions of flatpak and snap, which
// follow upstream projects: mostly semantic versions, sometimes with a
// packaging suffix. It is rpmvercmp after two rewrites: a leading "v" is
// dropped (v1.2 = 1.2), and a "-" followed by a letter marks a
// pre-release like "~" does, as in semver (1.0.0-rc1 < 1.0.0), while a
// "-" followed by a digit is a build number (122.0-2 > 122.0).
func compareGeneric(a, b string) int {
	return rpmvercmp(genericNormalize(a), genericNormalize(b))
}

func genericNormalize(v string) string {
	if len(v) > 1 && (v[0] == 'v' || v[0] == 'V') && isDigit(v[1]) {
		v = v[1:]
	}
	if !strings.Contains(v, "-") {
		return v
	}
	b := []byte(v)
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '-' && isAlpha(b[i+1]) {
			b[i] = '~'
		}
	}
	return string(b)
}

// compareEpochs orders the epochs of Debian and RPM versions: numbers,
// with a missing epoch counting as 0.
func compareEpochs(a, b string) int {
	if a == "" {
		a = "0"
	}
	if b == "" {
		b = "0"
	}
	return compareDigits(a, b)
}
