package syscheck

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/windows"
)

// queryWindowsService asks the service control manager about one service.
// mgr.Connect asks for full access, which needs administrator rights; the
// manager is opened for SC_MANAGER_CONNECT and the service for its status
// and configuration only, which every user may read.
//
// It asks for nothing it does not use: mgr.Service.Config also reads the
// description and the service SID type, and fails as a whole when either
// cannot be read (Wine 8 knows neither information level), which lost the
// service's state and start type with it.
func queryWindowsService(name string) (winService, error) {
	m, err := windows.OpenSCManager(nil, nil, windows.SC_MANAGER_CONNECT)
	if err != nil {
		return winService{}, err
	}
	defer windows.CloseServiceHandle(m)
	n, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return winService{}, err
	}
	h, err := windows.OpenService(m, n, windows.SERVICE_QUERY_STATUS|windows.SERVICE_QUERY_CONFIG)
	if errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) {
		return winService{}, nil
	}
	if err != nil {
		return winService{}, err
	}
	defer windows.CloseServiceHandle(h)
	var status windows.SERVICE_STATUS
	if err := windows.QueryServiceStatus(h, &status); err != nil {
		return winService{}, err
	}
	cfg, err := serviceConfig(h)
	if err != nil {
		return winService{}, err
	}
	return winService{
		exists:      true,
		state:       status.CurrentState,
		startType:   cfg.StartType,
		delayed:     delayedAutoStart(h),
		displayName: windows.UTF16PtrToString(cfg.DisplayName),
	}, nil
}

// serviceConfig reads QUERY_SERVICE_CONFIG, whose strings follow it in
// the same buffer.
func serviceConfig(h windows.Handle) (*windows.QUERY_SERVICE_CONFIG, error) {
	size := uint32(1024)
	for range 4 {
		buf := make([]byte, size)
		cfg := (*windows.QUERY_SERVICE_CONFIG)(unsafe.Pointer(&buf[0]))
		err := windows.QueryServiceConfig(h, cfg, size, &size)
		if errors.Is(err, windows.ERROR_INSUFFICIENT_BUFFER) {
			continue // size now holds what is needed
		}
		if err != nil {
			return nil, err
		}
		return cfg, nil
	}
	return nil, errors.New("QueryServiceConfig: the configuration kept growing")
}

// delayedAutoStart reports whether an automatic service waits until the
// boot is over. It only refines how the start type is told, so a system
// that cannot say (Wine) has the service counted as not delayed.
func delayedAutoStart(h windows.Handle) bool {
	var info windows.SERVICE_DELAYED_AUTO_START_INFO
	var needed uint32
	err := windows.QueryServiceConfig2(h, windows.SERVICE_CONFIG_DELAYED_AUTO_START_INFO,
		(*byte)(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)), &needed)
	return err == nil && info.IsDelayedAutoStartUp != 0
}
