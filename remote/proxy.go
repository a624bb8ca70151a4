package remote

import (
	"context"
	"strings"

	"github.com/triage-dev/triage/diag"
)

var _ diag.ProxyReporter = (*Target)(nil)

// proxyVars are the environment variables programs take their proxy from.
var proxyVars = []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy", "auto_proxy"}

// ProxySettings returns the proxies set for programs on the target: the
// environment of a session there (what sshd and the login's shell set up,
// read with env in one command), then /etc/environment (which pam_env
// gives desktop and console sessions) for the variables the session does
// not set. The login shell's profile is not run: it may be slow or wait
// for input.
func (t *Target) ProxySettings(ctx context.Context) (diag.ProxySettings, error) {
	t.proxyMu.Lock()
	defer t.proxyMu.Unlock()
	if t.proxy != nil {
		return *t.proxy, nil
	}
	session := map[string]string{}
	if !t.windows.Load() {
		res, err := t.Run(ctx, diag.Command{Argv: []string{"env"}, MaxOutput: 1 << 20})
		if err != nil && ctx.Err() != nil {
			return diag.ProxySettings{}, ctx.Err()
		}
		if err == nil && res.ExitCode == 0 {
			session = proxyEnv(string(res.Stdout), false)
		}
	}
	file := map[string]string{}
	if data, _, err := t.ReadFile(ctx, "/etc/environment", 64<<10); err == nil {
		file = proxyEnv(string(data), true)
	} else if ctx.Err() != nil {
		return diag.ProxySettings{}, ctx.Err()
	}
	fromFile := map[string]bool{}
	getenv := func(name string) string {
		if v, ok := session[name]; ok {
			return v
		}
		if v, ok := file[name]; ok {
			fromFile[name] = true
			return v
		}
		return ""
	}
	p := diag.ProxyFromEnv(getenv)
	for i := range p.Proxies {
		if fromFile[p.Proxies[i].Source] {
			p.Proxies[i].Source = "/etc/environment " + p.Proxies[i].Source
		}
	}
	if fromFile[p.AutoConfigSource] {
		p.AutoConfigSource = "/etc/environment " + p.AutoConfigSource
	}
	t.proxy = &p
	return p, nil
}

// proxyEnv picks the proxy variables out of env's output or of
// /etc/environment (whose lines may say "export NAME=value" and quote
// the value).
func proxyEnv(text string, file bool) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if file {
			if strings.HasPrefix(line, "#") {
				continue
			}
			line = strings.TrimSpace(strings.TrimPrefix(line, "export "))
		}
		name, val, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		for _, v := range proxyVars {
			if name == v {
				if file && len(val) >= 2 && (val[0] == '"' || val[0] == '\'') && val[len(val)-1] == val[0] {
					val = val[1 : len(val)-1]
				}
				out[name] = val
			}
		}
	}
	return out
}
