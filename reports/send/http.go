package send

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Retries: a server that is down, overloaded (502, 503, 504) or limiting
// the rate (429) is asked again after a pause that doubles each time,
// from backoffBase up to backoffMax, or after the pause its Retry-After
// names, as long as the destination's timeout leaves time for it. A
// request the server answered otherwise is not repeated: a create that
// failed half-way must not open two tickets.
var (
	backoffBase = time.Second
	backoffMax  = 15 * time.Second
)

// maxAnswer caps what is read of a server's answer.
const maxAnswer = 4 << 20

// api talks to one HTTP destination.
type api struct {
	d      *Destination
	base   *url.URL
	client *http.Client
	secret string
	// authorize adds the credential to a request.
	authorize func(*http.Request)
}

func newAPI(d *Destination, secret string) (*api, error) {
	base, err := url.Parse(strings.TrimRight(d.URL, "/"))
	if err != nil {
		return nil, fmt.Errorf("url: %v", err)
	}
	tc, err := d.tlsConfig(base.Hostname())
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	a := &api{d: d, base: base, secret: secret, client: &http.Client{
		Transport: tr,
		// A redirect must not carry the credential elsewhere.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != base.Host {
				return fmt.Errorf("%w (%s): not following it with the credential", errRedirect, req.URL.Host)
			}
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			return nil
		},
	}}
	switch d.auth() {
	case "basic":
		user, pass, _ := strings.Cut(secret, ":")
		a.authorize = func(r *http.Request) { r.SetBasicAuth(user, pass) }
	case "bearer":
		a.authorize = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+secret) }
	case "token":
		a.authorize = func(r *http.Request) { r.Header.Set("Authorization", "token "+secret) }
	}
	return a, nil
}

// request is one call: its body is kept as bytes so that it can be sent
// again.
type request struct {
	method, path string
	query        url.Values
	contentType  string
	body         []byte
	header       http.Header
	// what names the call in errors: "creating the ticket".
	what string
}

// answer is a successful response.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a *answer) decode(v any) error {
	if err := json.Unmarshal(a.body, v); err != nil {
		return fmt.Errorf("%w: the answer is not the JSON expected: %v", ErrRejected, err)
	}
	return nil
}

func (a *api) endpoint(path string, q url.Values) string {
	u := *a.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawPath = ""
	if strings.Contains(path, "%") {
		// A path with escaped parts (GitLab's group%2Fproject) is kept as
		// written.
		u.RawPath = strings.TrimRight(a.base.EscapedPath(), "/") + path
		if p, err := url.PathUnescape(u.RawPath); err == nil {
			u.Path = p
		}
	}
	if q != nil {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// do sends r, retrying what may be retried, and returns a 2xx answer or a
// typed error that holds no secret.
func (a *api) do(ctx context.Context, r request) (*answer, error) {
	for attempt := 0; ; attempt++ {
		ans, wait, err := a.once(ctx, r)
		if err == nil {
			return ans, nil
		}
		if wait < 0 {
			return nil, err
		}
		if wait == 0 {
			wait = min(backoffBase<<attempt, backoffMax)
			wait += time.Duration(rand.Int64N(int64(wait)/4 + 1))
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return nil, fmt.Errorf("%w; gave up after %d %s", err, attempt+1, plural(attempt+1, "attempt"))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w; gave up after %d %s", err, attempt+1, plural(attempt+1, "attempt"))
		case <-t.C:
		}
	}
}

func plural(n int, w string) string {
	if n == 1 {
		return w
	}
	return w + "s"
}

// once sends r once. wait < 0 means do not retry; 0 means retry after
// the usual backoff; more means the server asked for that pause.
func (a *api) once(ctx context.Context, r request) (*answer, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, r.method, a.endpoint(r.path, r.query), bytes.NewReader(r.body))
	if err != nil {
		return nil, -1, fmt.Errorf("%w: %s: %v", ErrRejected, r.what, err)
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("User-Agent", "triage")
	if a.authorize != nil {
		a.authorize(req)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		// Connection refused, reset, DNS, TLS: url.Error names the URL, which
		// holds no secret (url: refuses user info), and the cause.
		msg := err.Error()
		var ue *url.Error
		if errors.As(err, &ue) {
			msg = ue.Err.Error()
		}
		if ctx.Err() != nil {
			return nil, -1, fmt.Errorf("%w: %s: no answer from %s in time", ErrUnavailable, r.what, a.base.Host)
		}
		if !retryable(err) {
			return nil, -1, fmt.Errorf("%w: %s: %s: %s", ErrRejected, r.what, a.base.Host, a.scrub(msg))
		}
		return nil, 0, fmt.Errorf("%w: %s: %s: %s", ErrUnavailable, r.what, a.base.Host, a.scrub(msg))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if resp.StatusCode/100 == 2 {
		return &answer{status: resp.StatusCode, header: resp.Header, body: body}, 0, nil
	}
	says := a.scrub(serverSays(body))
	if says != "" {
		says = ": " + says
	}
	status := resp.Status
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		return nil, -1, fmt.Errorf("%w: %s: %s answered %s%s", ErrAuth, r.what, a.base.Host, status, says)
	case http.StatusNotFound:
		return nil, -1, fmt.Errorf("%w: %s: %s answered %s%s", ErrNotFound, r.what, a.base.Host, status, says)
	case http.StatusRequestEntityTooLarge:
		return nil, -1, fmt.Errorf("%w: %s: %s answered %s%s", ErrTooLarge, r.what, a.base.Host, status, says)
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		wait := retryAfter(resp.Header.Get("Retry-After"))
		err := fmt.Errorf("%w: %s: %s answered %s%s", ErrUnavailable, r.what, a.base.Host, status, says)
		if wait > 0 {
			err = fmt.Errorf("%w (it asked to wait %s)", err, wait)
		}
		return nil, wait, err
	}
	if resp.StatusCode >= 500 {
		return nil, -1, fmt.Errorf("%w: %s: %s answered %s%s", ErrUnavailable, r.what, a.base.Host, status, says)
	}
	return nil, -1, fmt.Errorf("%w: %s: %s answered %s%s", ErrRejected, r.what, a.base.Host, status, says)
}

var errRedirect = errors.New("redirected to another server")

// retryable says whether a failed request may be worth another try: a
// refused or dropped connection is; a certificate the system does not
// trust or a redirect to another server is not.
func retryable(err error) bool {
	var ce *tls.CertificateVerificationError
	var he x509.HostnameError
	var ue x509.UnknownAuthorityError
	var re tls.RecordHeaderError
	return !errors.Is(err, errRedirect) && !errors.As(err, &ce) && !errors.As(err, &he) && !errors.As(err, &ue) && !errors.As(err, &re)
}

// scrub removes the secret (and its encodings) from text a server sent
// back: an echoing server must not put it in an error.
func (a *api) scrub(s string) string {
	if a.secret == "" {
		return s
	}
	for _, v := range []string{a.secret, base64.StdEncoding.EncodeToString([]byte(a.secret)), url.QueryEscape(a.secret)} {
		s = strings.ReplaceAll(s, v, "[REDACTED]")
	}
	if _, pass, ok := strings.Cut(a.secret, ":"); ok && len(pass) >= 4 {
		s = strings.ReplaceAll(s, pass, "[REDACTED]")
	}
	return s
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return max(time.Duration(n)*time.Second, time.Millisecond)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), time.Millisecond)
	}
	return 0
}

// serverSays picks the message out of an error body, in the shapes the
// supported systems use, cut to one short line.
func serverSays(body []byte) string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		s := strings.TrimSpace(string(body))
		if strings.HasPrefix(s, "<") {
			return "" // an HTML error page says nothing useful in one line
		}
		return cut(s, 200)
	}
	var msgs []string
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > 3 {
			return
		}
		switch x := v.(type) {
		case string:
			if x != "" {
				msgs = append(msgs, x)
			}
		case []any:
			for _, e := range x {
				walk(e, depth+1)
			}
		case map[string]any:
			for _, k := range []string{"message", "errorMessages", "errors", "error", "detail", "description"} {
				if e, ok := x[k]; ok {
					walk(e, depth+1)
				}
			}
		}
	}
	walk(v, 0)
	return cut(strings.Join(msgs, "; "), 200)
}

// jsonRequest makes a JSON request.
func jsonRequest(method, path, what string, v any) (request, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return request{}, err
	}
	return request{method: method, path: path, contentType: "application/json", body: body, what: what}, nil
}

// formPart is one part of a multipart/form-data body.
type formPart struct {
	field, filename, contentType string
	data                         []byte
}

// multipartBody builds a multipart/form-data body and its content type.
func multipartBody(parts []formPart) ([]byte, string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disp := fmt.Sprintf(`form-data; name="%s"`, escapeQuotes(p.field))
		if p.filename != "" {
			disp += fmt.Sprintf(`; filename="%s"`, escapeQuotes(p.filename))
		}
		h.Set("Content-Disposition", disp)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			return nil, "", err
		}
		if _, err := w.Write(p.data); err != nil {
			return nil, "", err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), mw.FormDataContentType(), nil
}

var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "", "\n", "")

func escapeQuotes(s string) string { return quoteEscaper.Replace(s) }
