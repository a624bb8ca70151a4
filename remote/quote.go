package remote

import "strings"

// shellQuote turns argv into one command line for a POSIX shell (sh,
// bash, dash, zsh, ksh): every word in single quotes, a single quote
// written as '\”. Inside single quotes nothing is special — not $, `,
// \, ;, newlines — so no value can become shell syntax.
func shellQuote(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a != "" && isSafeWord(a) {
			b.WriteString(a)
			continue
		}
		b.WriteByte('\'')
		b.WriteString(strings.ReplaceAll(a, "'", `'\''`))
		b.WriteByte('\'')
	}
	return b.String()
}

// isSafeWord is true for words that mean the same to every shell
// unquoted, which keeps command lines readable in evidence and logs.
func isSafeWord(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-_./:=,+@%", r):
		default:
			return false
		}
	}
	return true
}
