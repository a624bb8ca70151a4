//go:build windows

package netcheck

import (
	"errors"

	"golang.org/x/sys/windows"
)

// Windows reports socket errors as WSA codes, which syscall's portable
// names (ECONNREFUSED...) do not match.

func isRefused(err error) bool { return errors.Is(err, windows.WSAECONNREFUSED) }

func isUnreachable(err error) bool {
	return errors.Is(err, windows.WSAEHOSTUNREACH) || errors.Is(err, windows.WSAENETUNREACH)
}

func isReset(err error) bool {
	return errors.Is(err, windows.WSAECONNRESET) || errors.Is(err, windows.WSAECONNABORTED)
}
