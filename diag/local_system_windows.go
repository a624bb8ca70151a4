package diag

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// Windows keeps its network configuration behind the IP helper API and
// its proxy settings in the user's registry hive; memory and uptime come
// from kernel32. None of it needs administrator rights.

// adapters lists the network adapters with their gateways and DNS
// servers, through GetAdaptersAddresses.
func adapters() ([]netAdapter, error) {
	size := uint32(16 << 10)
	for range 4 {
		buf := make([]byte, size)
		first := (*windows.IpAdapterAddresses)(unsafe.Pointer(&buf[0]))
		flags := uint32(windows.GAA_FLAG_INCLUDE_GATEWAYS | windows.GAA_FLAG_SKIP_MULTICAST | windows.GAA_FLAG_SKIP_ANYCAST)
		err := windows.GetAdaptersAddresses(windows.AF_UNSPEC, flags, 0, first, &size)
		var errno syscall.Errno
		if errors.As(err, &errno) && errno == windows.ERROR_BUFFER_OVERFLOW {
			continue // size now holds what is needed
		}
		if err != nil {
			return nil, os.NewSyscallError("GetAdaptersAddresses", err)
		}
		var out []netAdapter
		for a := first; a != nil; a = a.Next {
			na := netAdapter{
				Name:     windows.UTF16PtrToString(a.FriendlyName),
				Up:       a.OperStatus == windows.IfOperStatusUp,
				Loopback: a.IfType == windows.IF_TYPE_SOFTWARE_LOOPBACK,
				Metric:   a.Ipv4Metric,
			}
			for g := a.FirstGatewayAddress; g != nil; g = g.Next {
				if ip, ok := netip.AddrFromSlice(g.Address.IP()); ok {
					na.Gateways = append(na.Gateways, ip.Unmap())
				}
			}
			for d := a.FirstDnsServerAddress; d != nil; d = d.Next {
				if ip, ok := netip.AddrFromSlice(d.Address.IP()); ok {
					na.DNS = append(na.DNS, ip.Unmap())
				}
			}
			out = append(out, na)
		}
		return out, nil
	}
	return nil, errors.New("GetAdaptersAddresses: the adapter list kept growing")
}

func platformNameservers(ctx context.Context, l *Local) (DNSConfig, error) {
	as, err := adapters()
	if err != nil {
		return DNSConfig{}, err
	}
	return DNSConfig{Servers: adapterNameservers(as), Source: "the network adapters' settings"}, nil
}

const internetSettingsKey = `Software\Microsoft\Windows\CurrentVersion\Internet Settings`

func platformProxy(ctx context.Context, l *Local) (ProxySettings, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, internetSettingsKey, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return ProxySettings{}, nil
	}
	if err != nil {
		return ProxySettings{}, fmt.Errorf(`HKCU\%s: %w`, internetSettingsKey, err)
	}
	defer k.Close()
	enable, _, _ := k.GetIntegerValue("ProxyEnable")
	server, _, _ := k.GetStringValue("ProxyServer")
	override, _, _ := k.GetStringValue("ProxyOverride")
	pac, _, _ := k.GetStringValue("AutoConfigURL")
	return ProxyFromWinINet(enable, server, override, pac), nil
}

var (
	kernel32                 = windows.NewLazySystemDLL("kernel32.dll")
	procGlobalMemoryStatusEx = kernel32.NewProc("GlobalMemoryStatusEx")
	procGetTickCount64       = kernel32.NewProc("GetTickCount64")
)

// memoryStatusEx is MEMORYSTATUSEX.
type memoryStatusEx struct {
	Length               uint32
	MemoryLoad           uint32
	TotalPhys            uint64
	AvailPhys            uint64
	TotalPageFile        uint64
	AvailPageFile        uint64
	TotalVirtual         uint64
	AvailVirtual         uint64
	AvailExtendedVirtual uint64
}

func platformMemory(ctx context.Context, l *Local) (MemoryStats, error) {
	m := memoryStatusEx{}
	m.Length = uint32(unsafe.Sizeof(m))
	if r, _, err := procGlobalMemoryStatusEx.Call(uintptr(unsafe.Pointer(&m))); r == 0 {
		return MemoryStats{}, os.NewSyscallError("GlobalMemoryStatusEx", err)
	}
	ms := MemoryStats{Total: m.TotalPhys, Available: m.AvailPhys, Source: "GlobalMemoryStatusEx"}
	ms.SwapTotal, ms.SwapUsed = swapFromCommit(m.TotalPhys, m.AvailPhys, m.TotalPageFile, m.AvailPageFile)
	return ms, nil
}

func platformUptime(ctx context.Context, l *Local) (time.Duration, error) {
	if err := procGetTickCount64.Find(); err != nil {
		return 0, err
	}
	r, _, _ := procGetTickCount64.Call()
	return time.Duration(r) * time.Millisecond, nil
}

// platformProcesses takes a Toolhelp snapshot of the processes: their ids
// and executable file names, what tasklist shows.
func platformProcesses(ctx context.Context) ([]ProcessEntry, error) {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPPROCESS, 0)
	if err != nil {
		return nil, fmt.Errorf("CreateToolhelp32Snapshot: %w", err)
	}
	defer windows.CloseHandle(snap)
	var out []ProcessEntry
	e := windows.ProcessEntry32{Size: uint32(unsafe.Sizeof(windows.ProcessEntry32{}))}
	for err = windows.Process32First(snap, &e); err == nil; err = windows.Process32Next(snap, &e) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		out = append(out, ProcessEntry{PID: int(e.ProcessID), Name: windows.UTF16ToString(e.ExeFile[:])})
	}
	if !errors.Is(err, windows.ERROR_NO_MORE_FILES) {
		return nil, fmt.Errorf("Process32Next: %w", err)
	}
	return out, nil
}
