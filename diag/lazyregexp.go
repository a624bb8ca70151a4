package diag

import (
	"regexp"
	"sync"
)

// LazyRegexp compiles expr the first time the returned function is called,
// and returns the same Regexp every time after. Package variables use it
// instead of regexp.MustCompile, whose cost every start of triage would
// pay, `triage version` included, for expressions most runs never use.
// expr must be valid: an invalid one panics on first use, as MustCompile
// would at start-up, and the tests that use it find it.
func LazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
