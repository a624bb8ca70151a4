//go:build !unix && !windows

package netcheck

// Platforms without BSD socket errors are classified by message text alone.

func isRefused(error) bool     { return false }
func isUnreachable(error) bool { return false }
func isReset(error) bool       { return false }
