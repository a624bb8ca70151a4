//go:build linux

package faultlab

import (
	"fmt"
	"sync"
)

// SecondDNSAddr is where StartSecondDNS puts a second DNS server: on the
// router, beside the first, at a second address of its side towards the
// user (as a DNS filter, a parental control or a VPN's server would sit
// beside the router's own).
const SecondDNSAddr = "198.18.0.5"

var (
	secondDNSMu sync.Mutex
	secondDNS   = map[*Lab]*dnsServer{}
)

// StartSecondDNS starts a second DNS server on the router at
// SecondDNSAddr (once; later calls change its behaviour), answering the
// same Zone as the first, and returns its address. The user's machine asks
// it only once SetNameservers names it. Reset removes it.
func (l *Lab) StartSecondDNS(b DNSBehaviour) (string, error) {
	secondDNSMu.Lock()
	defer secondDNSMu.Unlock()
	s := secondDNS[l]
	if s == nil {
		if err := l.IP(l.Router, "addr", "add", SecondDNSAddr+"/32", "dev", RouterUserIface); err != nil {
			return "", fmt.Errorf("start the second DNS server: %w", err)
		}
		var err error
		if s, err = startDNS(l.Router, SecondDNSAddr+":53"); err != nil {
			_ = l.IP(l.Router, "addr", "del", SecondDNSAddr+"/32", "dev", RouterUserIface)
			return "", fmt.Errorf("start the second DNS server: %w", err)
		}
		// Idempotent: a lab that starts the server again after a Reset
		// registers it again, harmlessly.
		l.t.Cleanup(func() { _ = l.stopSecondDNS() })
		secondDNS[l] = s
	}
	s.set(b)
	return SecondDNSAddr, nil
}

// stopSecondDNS stops the second DNS server, if one runs, and takes its
// address off the router.
func (l *Lab) stopSecondDNS() error {
	secondDNSMu.Lock()
	defer secondDNSMu.Unlock()
	s := secondDNS[l]
	if s == nil {
		return nil
	}
	delete(secondDNS, l)
	s.close()
	return l.IP(l.Router, "addr", "del", SecondDNSAddr+"/32", "dev", RouterUserIface)
}
