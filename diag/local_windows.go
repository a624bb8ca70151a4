//go:build windows

package diag

import (
	"context"
	"fmt"
	"io/fs"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

func diskUsage(path string) (DiskUsage, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return DiskUsage{}, &fs.PathError{Op: "GetDiskFreeSpaceEx", Path: path, Err: err}
	}
	var avail, total, free uint64
	if err := windows.GetDiskFreeSpaceEx(p, &avail, &total, &free); err != nil {
		return DiskUsage{}, &fs.PathError{Op: "GetDiskFreeSpaceEx", Path: path, Err: err}
	}
	return DiskUsage{Path: path, Total: total, Free: free, Avail: avail}, nil
}

func fileOwner(fs.FileInfo, *FileInfo) {}

func platformFacts(ctx context.Context, f *Facts) {
	v := windows.RtlGetVersion()
	f.Kernel = fmt.Sprintf("%d.%d.%d", v.MajorVersion, v.MinorVersion, v.BuildNumber)
	f.Distro = "windows"
	f.DistroVersion = fmt.Sprintf("%d.%d", v.MajorVersion, v.MinorVersion)
	var product, display string
	if k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SOFTWARE\Microsoft\Windows NT\CurrentVersion`, registry.QUERY_VALUE); err == nil {
		product, _, _ = k.GetStringValue("ProductName")
		if display, _, _ = k.GetStringValue("DisplayVersion"); display == "" {
			display, _, _ = k.GetStringValue("ReleaseId")
		}
		k.Close()
	}
	f.PrettyName = WindowsPrettyName(product, display, v.BuildNumber)
	if as, err := adapters(); err == nil {
		f.Gateway = adapterGateway(as)
	}
}
