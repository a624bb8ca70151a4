//go:build linux

package faultlab

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// ProxyAddr is where the lab's HTTP proxy listens, on the internet (as a
// company's proxy in a data centre would), once StartProxy started it.
const ProxyAddr = "203.0.113.20:3128"

// ProxyURL is the proxy's URL, for SetProxy.
const ProxyURL = "http://" + ProxyAddr

// ProxyBehaviour is how the lab's proxy answers. The zero value relays.
type ProxyBehaviour struct {
	// RequireAuth answers every request 407 Proxy Authentication Required.
	RequireAuth bool
}

// labProxy is a small HTTP proxy: CONNECT tunnels and absolute-URI GETs,
// with its connections out made in the internet namespace.
type labProxy struct {
	ns string
	ln net.Listener
	mu sync.Mutex
	b  ProxyBehaviour
	wg sync.WaitGroup
}

var (
	proxiesMu sync.Mutex
	proxies   = map[*Lab]*labProxy{}
)

// StartProxy starts the lab's proxy (once; later calls change its
// behaviour) and returns its URL. Point the user's machine at it with
// SetProxy.
func (l *Lab) StartProxy(b ProxyBehaviour) (string, error) {
	proxiesMu.Lock()
	defer proxiesMu.Unlock()
	p := proxies[l]
	if p == nil {
		ln, err := listenIn(l.Inet, ProxyAddr)
		if err != nil {
			return "", fmt.Errorf("start the proxy: %w", err)
		}
		p = &labProxy{ns: l.Inet, ln: ln}
		proxies[l] = p
		p.wg.Add(1)
		go p.serve()
		l.t.Cleanup(func() {
			ln.Close()
			p.wg.Wait()
			proxiesMu.Lock()
			delete(proxies, l)
			proxiesMu.Unlock()
		})
	}
	p.mu.Lock()
	p.b = b
	p.mu.Unlock()
	return ProxyURL, nil
}

func (p *labProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *labProxy) handle(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	p.mu.Lock()
	b := p.b
	p.mu.Unlock()
	if b.RequireAuth && req.Header.Get("Proxy-Authorization") == "" {
		io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"fault lab\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if req.Method == http.MethodConnect {
		up, err := dialIn(ctx, p.ns, zoneAddr(req.Host))
		if err != nil {
			io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
			return
		}
		defer up.Close()
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		_ = c.SetDeadline(time.Time{})
		done := make(chan struct{}, 2)
		go func() { io.Copy(up, br); done <- struct{}{} }()
		go func() { io.Copy(c, up); done <- struct{}{} }()
		<-done
		return
	}
	host := req.URL.Host
	if _, _, err := net.SplitHostPort(host); err != nil {
		host = net.JoinHostPort(host, "80")
	}
	up, err := dialIn(ctx, p.ns, zoneAddr(host))
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		return
	}
	defer up.Close()
	req.Header.Del("Proxy-Authorization")
	req.Header.Set("Connection", "close")
	req.RequestURI = ""
	if err := req.Write(up); err != nil {
		return
	}
	io.Copy(c, up)
}

// zoneAddr resolves host:port by the lab's zone, as the proxy's own DNS
// server would.
func zoneAddr(hostport string) string {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	if a, ok := Zone[strings.ToLower(strings.TrimSuffix(host, "."))]; ok {
		return net.JoinHostPort(a, port)
	}
	return hostport
}
