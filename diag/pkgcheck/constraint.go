package pkgcheck

import (
	"fmt"
	"strings"
)

// A constraint is a list of clauses that must all hold, written
// ">= 1.2, < 2": an operator and a version per clause, separated by
// commas. A version alone means "= version".
type constraint []clause

type clause struct {
	op      string // one of >=, <=, >, <, =, !=
	version string
}

// operators lists the spellings accepted, longest first so that ">=" is
// not read as ">". "==" is for those used to programming languages, ">>"
// and "<<" for those used to Debian control files; both mean the same as
// their one-character forms.
var operators = []struct{ text, op string }{
	{">=", ">="}, {"<=", "<="}, {"==", "="}, {"!=", "!="}, {">>", ">"}, {"<<", "<"},
	{">", ">"}, {"<", "<"}, {"=", "="},
}

// constraintError is a problem at a position in the constraint text,
// counted in characters from 1 as an editor shows columns.
type constraintError struct {
	pos int
	msg string
}

func (e *constraintError) Error() string {
	return fmt.Sprintf("at character %d: %s", e.pos, e.msg)
}

// parseConstraint reads a version constraint. Errors say where in the
// text the problem is.
func parseConstraint(s string) (constraint, error) {
	if strings.TrimSpace(s) == "" {
		return nil, &constraintError{pos: 1, msg: "empty constraint; write one such as \">= 2.5\" or \">= 1.2, < 2\""}
	}
	var out constraint
	pos := 0
	for {
		// One clause, from pos to the next comma.
		end := strings.IndexByte(s[pos:], ',')
		if end < 0 {
			end = len(s)
		} else {
			end += pos
		}
		c, err := parseClause(s, pos, end)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		if end == len(s) {
			return out, nil
		}
		pos = end + 1
	}
}

// parseClause reads s[start:end]; positions in errors count from the
// start of s.
func parseClause(s string, start, end int) (clause, error) {
	i := start
	skipSpace := func() {
		for i < end && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
	}
	skipSpace()
	if i == end {
		what := "nothing before this comma"
		if end == len(s) {
			what = "nothing after the last comma"
		}
		return clause{}, &constraintError{pos: i + 1, msg: what + "; want an operator and a version such as >= 2.5"}
	}
	c := clause{op: "="}
	opStart := i
	for _, o := range operators {
		if strings.HasPrefix(s[i:end], o.text) {
			c.op = o.op
			i += len(o.text)
			break
		}
	}
	if i < end && strings.IndexByte(opChars, s[i]) >= 0 {
		// "=>", "~>", "^1.2", "!": an operator triage does not know.
		return clause{}, &constraintError{pos: opStart + 1, msg: fmt.Sprintf("unknown operator %q; use >=, <=, >, <, = or !=", opPrefix(s[opStart:end]))}
	}
	opEnd := i
	skipSpace()
	if i == end {
		return clause{}, &constraintError{pos: i + 1, msg: fmt.Sprintf("no version after %q", strings.TrimSpace(s[start:opEnd]))}
	}
	vStart := i
	for i < end && s[i] != ' ' && s[i] != '\t' {
		if strings.ContainsRune("<>=!", rune(s[i])) {
			return clause{}, &constraintError{pos: i + 1, msg: fmt.Sprintf("unexpected %q in version %q; separate clauses with a comma, as in \">= 1.2, < 2\"", s[i], s[vStart:end])}
		}
		i++
	}
	c.version = s[vStart:i]
	skipSpace()
	if i != end {
		return clause{}, &constraintError{pos: i + 1, msg: fmt.Sprintf("unexpected %q after version %s; separate clauses with a comma", strings.TrimSpace(s[i:end]), c.version)}
	}
	if !hasAlnum(c.version) {
		return clause{}, &constraintError{pos: vStart + 1, msg: fmt.Sprintf("%q is not a version", c.version)}
	}
	return c, nil
}

// opChars are the characters operators are made of, here or elsewhere.
const opChars = "<>=!~^"

func opPrefix(s string) string {
	i := 0
	for i < len(s) && strings.IndexByte(opChars, s[i]) >= 0 {
		i++
	}
	return s[:i]
}

func hasAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if isAlnum(s[i]) {
			return true
		}
	}
	return false
}

func (c constraint) String() string {
	parts := make([]string, len(c))
	for i, cl := range c {
		parts[i] = cl.op + " " + cl.version
	}
	return strings.Join(parts, ", ")
}

// satisfied reports whether installed meets every clause under the
// scheme's rules, and returns the first clause that fails.
//
// A clause compares only the parts of a version it names: a clause
// without an epoch ignores the installed epoch, and one without a
// packaging release ignores the installed release. So ">= 9.3" is met by
// Debian's "1:9.3p1-2", and "= 3.0.11" by "3.0.11-1~deb12u2", which is
// what people mean when they write an upstream version. rpm's and
// pacman's own dependency matching already ignore a release the
// requirement does not give; triage extends that to the epoch and to
// dpkg, whose epochs (2:9.0 for vim) would otherwise make every
// epoch-less upper bound fail. Write the epoch or release to compare it.
func (c constraint) satisfied(s scheme, installed string) (bool, clause) {
	for _, cl := range c {
		if !cl.holds(s, installed) {
			return false, cl
		}
	}
	return true, clause{}
}

func (cl clause) holds(s scheme, installed string) bool {
	have, want := s.split(installed), s.split(cl.version)
	if !want.hasEpoch {
		have.epoch, have.hasEpoch = "", false
	}
	if !want.hasRel {
		have.rel, have.hasRel = "", false
	}
	cmp := s.compare(s.join(have), cl.version)
	switch cl.op {
	case ">=":
		return cmp >= 0
	case "<=":
		return cmp <= 0
	case ">":
		return cmp > 0
	case "<":
		return cmp < 0
	case "!=":
		return cmp != 0
	}
	return cmp == 0
}

// lowerBound reports whether the clause is a minimum (>= or >), for
// choosing between "upgrade" and "install another version" hints.
func (cl clause) lowerBound() bool { return cl.op == ">=" || cl.op == ">" }
