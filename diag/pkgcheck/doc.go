// Package pkgcheck holds the package kind: is a piece of software installed,
// and at which version, compared with the rules of its package manager.
package pkgcheck
