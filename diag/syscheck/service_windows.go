package syscheck

import (
	"errors"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc/mgr"
)

// queryWindowsService asks the service control manager about one service.
// mgr.Connect asks for full access, which needs administrator rights; the
// manager is opened for SC_MANAGER_CONNECT and the service for its status
// and configuration only, which every user may read.
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
	s := &mgr.Service{Name: name, Handle: h}
	defer s.Close()
	status, err := s.Query()
	if err != nil {
		return winService{}, err
	}
	cfg, err := s.Config()
	if err != nil {
		return winService{}, err
	}
	return winService{
		exists:      true,
		state:       uint32(status.State),
		startType:   cfg.StartType,
		delayed:     cfg.DelayedAutoStart,
		displayName: cfg.DisplayName,
	}, nil
}
