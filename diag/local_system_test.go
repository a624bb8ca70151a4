package diag

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"
)

func TestProxyFromEnv(t *testing.T) {
	env := map[string]string{
		"HTTPS_PROXY": "http://user:secret@proxy.example.com:3128",
		"https_proxy": "http://ignored.example.com:1",
		"http_proxy":  "proxy.example.com:3128",
		"no_proxy":    "localhost, .corp.example.com,10.0.0.0/8",
		"auto_proxy":  " http://wpad.corp.example.com/wpad.dat ",
		"AUTO_PROXY":  "http://ignored.example.com/x.pac",
	}
	p := ProxyFromEnv(func(k string) string { return env[k] })
	want := []Proxy{
		{"https", "http://user:secret@proxy.example.com:3128", "HTTPS_PROXY"},
		{"http", "http://proxy.example.com:3128", "http_proxy"},
	}
	if !slices.Equal(p.Proxies, want) {
		t.Errorf("proxies %+v, want %+v", p.Proxies, want)
	}
	if p.AutoConfigURL != "http://wpad.corp.example.com/wpad.dat" || p.AutoConfigSource != "auto_proxy" {
		t.Errorf("auto-configuration %q from %q, want auto_proxy's", p.AutoConfigURL, p.AutoConfigSource)
	}
	if wantBypass := []string{"localhost", ".corp.example.com", "10.0.0.0/8"}; !slices.Equal(p.Bypass, wantBypass) {
		t.Errorf("bypass %q, want %q", p.Bypass, wantBypass)
	}
	if p := ProxyFromEnv(func(string) string { return "" }); !p.IsZero() {
		t.Errorf("an empty environment gave %+v", p)
	}
}

func TestLocalInterfaces(t *testing.T) {
	ifs, err := NewLocal().Interfaces(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, ni := range ifs {
		if !ni.Loopback {
			continue
		}
		for _, a := range ni.Addrs {
			if a.Addr().IsLoopback() && a.Addr().Is4() && a.Bits() == 8 {
				return
			}
		}
	}
	t.Errorf("no loopback interface with 127.0.0.1/8 among %+v", ifs)
}

func TestLocalCapabilitiesOnThisPlatform(t *testing.T) {
	l := NewLocal()
	ctx := context.Background()
	home, err := l.HomeDir(ctx)
	if err != nil || home == "" {
		t.Errorf("HomeDir = %q, %v", home, err)
	}
	_, memErr := l.MemoryStats(ctx)
	_, upErr := l.Uptime(ctx)
	_, dnsErr := l.Nameservers(ctx)
	switch runtime.GOOS {
	case "darwin", "windows":
		for name, err := range map[string]error{"MemoryStats": memErr, "Uptime": upErr, "Nameservers": dnsErr} {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	default:
		// Here the checks read /proc and /etc/resolv.conf themselves.
		for name, err := range map[string]error{"MemoryStats": memErr, "Uptime": upErr, "Nameservers": dnsErr} {
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("%s on %s: %v, want ErrUnsupported", name, runtime.GOOS, err)
			}
		}
	}
}
