//go:build !unix && !windows

package remote

import "os"

// lockFile is a no-op where the platform has no file locks; the in-process
// mutex still keeps one triage's writes apart.
func lockFile(*os.File) (func(), error) { return func() {}, nil }
