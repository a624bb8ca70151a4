// Package pkgcheck holds the package kind: is a piece of software installed,
// and at which version, compared with the rules of its package manager.
//
// The installed packages are read through diag.Target only, so a check runs
// the same locally and over SSH: dpkg's and apk's databases as files (read
// whole, capped at 64 MiB, and parsed as a stream), rpm, pacman, flatpak and
// snap through their listing commands, run as argv. Versions compare with
// each manager's own rules (Debian policy, rpmvercmp, libalpm, apk-tools),
// and generic upstream rules for flatpak and snap.
//
// A Mac is asked the same way, through the Target: application bundles by
// their Info.plist (XML, binary or OpenStep, read with howett.net/plist),
// installer receipts with pkgutil --pkg-info, and Homebrew with brew list
// --versions. A Windows machine lists its programs in the registry's
// Uninstall keys (HKLM, its WOW6432Node view and HKCU), read on the local
// machine only. These compare versions with the generic rules, but for
// Homebrew's, whose "_N" revisions and "-with-options" kegs have rules of
// their own. Each
// platform asks only its own sources unless manager names one.
//
// A manager that is not installed is skipped; one that is installed but
// cannot be read makes the check an error, never a "not installed" fail.
// The package does not change anything on the target.
package pkgcheck
