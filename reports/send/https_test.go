package send

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestSendHTTPS(t *testing.T) {
	token := "tok-" + planted
	var got struct {
		method, auth, subject, ticket, body string
		files                               map[string][]byte
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.method, got.auth = r.Method, r.Header.Get("Authorization")
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		got.subject, got.ticket = r.FormValue("subject"), r.FormValue("ticket")
		got.files = map[string][]byte{}
		for field, fhs := range r.MultipartForm.File {
			for _, fh := range fhs {
				f, _ := fh.Open()
				data, _ := io.ReadAll(f)
				if field == "body" {
					got.body = string(data)
				} else {
					got.files[fh.Filename] = data
				}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		io.WriteString(w, `{"ticket":"HD-7","url":"https://hd.example.com/HD-7"}`)
	}))
	defer srv.Close()
	env := map[string]string{"HD_TOKEN": token}
	d := &Destination{Name: "own", Type: "https", URL: srv.URL + "/intake", Method: "PUT", Credential: Credential{"env:HD_TOKEN"},
		Getenv: func(k string) string { return env[k] }, TLS: tlsClientOf(srv).TLSClientConfig}
	s, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	m := composed(t, "")
	rc, err := Deliver(context.Background(), d, s, m)
	if err != nil {
		t.Fatal(err)
	}
	if rc.Ticket != "HD-7" || rc.URL != "https://hd.example.com/HD-7" || !rc.Created {
		t.Errorf("receipt %+v", rc)
	}
	if got.method != "PUT" || got.auth != "Bearer "+token || got.subject != m.Subject || got.body != m.Body || got.ticket != "" {
		t.Errorf("request: %s %q subject %q ticket %q", got.method, got.auth, got.subject, got.ticket)
	}
	for _, a := range m.Attachments {
		if !bytes.Equal(got.files[a.Name], a.Data) {
			t.Errorf("attachment %s differs", a.Name)
		}
	}
}

func tlsClientOf(srv *httptest.Server) *http.Transport {
	return srv.Client().Transport.(*http.Transport)
}

// TestSendHTTPErrors checks the answers every system gives for the usual
// failures, and that none puts the credential into the error.
func TestSendHTTPErrors(t *testing.T) {
	defer func(b time.Duration) { backoffBase = b }(backoffBase)
	backoffBase = 10 * time.Millisecond
	token := "tok-" + planted
	for _, tc := range []struct {
		name   string
		status int
		header map[string]string
		body   string
		want   error
		tries  int32
	}{
		{"401", 401, nil, `{"message":"bad token ` + token + `"}`, ErrAuth, 1},
		{"403", 403, nil, `{"errorMessages":["You do not have permission"]}`, ErrAuth, 1},
		{"404", 404, nil, `{"error":"RecordNotFound"}`, ErrNotFound, 1},
		{"413", 413, nil, `<html>too big</html>`, ErrTooLarge, 1},
		{"400", 400, nil, `{"errors":{"summary":"required"}}`, ErrRejected, 1},
		{"429 then ok", 429, map[string]string{"Retry-After": "0"}, `{"message":"slow down"}`, nil, 2},
		{"503 then ok", 503, nil, ``, nil, 2},
		{"429 too long", 429, map[string]string{"Retry-After": "3600"}, `{"message":"slow down"}`, ErrUnavailable, 1},
		{"500", 500, nil, `{"message":"boom"}`, ErrUnavailable, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tries atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := tries.Add(1)
				if strings.HasSuffix(tc.name, "then ok") && n > 1 {
					w.WriteHeader(200)
					io.WriteString(w, `{}`)
					return
				}
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			d := &Destination{Name: "own", Type: "https", URL: srv.URL, Credential: Credential{"env:T"}, Timeout: 3 * time.Second,
				Getenv: func(string) string { return token }}
			s, err := New(d)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Deliver(context.Background(), d, s, composed(t, ""))
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if tries.Load() != tc.tries {
				t.Errorf("%d tries, want %d", tries.Load(), tc.tries)
			}
			if err != nil {
				assertNoSecret(t, "the error", []byte(err.Error()), token, planted)
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("the error is not one line: %q", err)
				}
			}
		})
	}
}

func TestSendRefusesRedirectElsewhere(t *testing.T) {
	var leaked atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Store(true)
		}
	}))
	defer other.Close()
	srv := httptest.NewServer(http.RedirectHandler(strings.Replace(other.URL, "127.0.0.1", "localhost", 1), http.StatusTemporaryRedirect))
	defer srv.Close()
	d := &Destination{Name: "own", Type: "https", URL: srv.URL, Credential: Credential{"env:T"}, Getenv: func(string) string { return "tok" }}
	s, _ := New(d)
	if _, err := Deliver(context.Background(), d, s, composed(t, "")); err == nil {
		t.Error("followed a redirect to another server")
	}
	if leaked.Load() {
		t.Error("the credential went to another server")
	}
}

func TestDestinationProblems(t *testing.T) {
	for _, tc := range []struct {
		d    Destination
		want string
	}{
		{Destination{Type: "rt", URL: "https://rt.example.com", Credential: Credential{"s3cret-literal"}}, "credential: want env:NAME or file:PATH"},
		{Destination{Type: "rt", URL: "https://root:s3cret-literal@rt.example.com"}, "url: holds a user name or password"},
		{Destination{Type: "rt", URL: "http://rt.example.com"}, "url: want an https URL"},
		{Destination{Type: "fax", URL: "https://x"}, `unknown type "fax"`},
		{Destination{Type: "smtp", URL: "smtp://mail:587"}, "from: missing"},
	} {
		err := tc.d.Check()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.d, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret-literal") {
			t.Errorf("the error repeats the secret: %v", err)
		}
	}
	// Credential files: read whole, without the final newline.
	path := t.TempDir() + "/token"
	if err := writeFile(path, "abc\n"); err != nil {
		t.Fatal(err)
	}
	if v, err := (Credential{"file:" + path}).Read(nil); err != nil || v != "abc" {
		t.Errorf("file credential: %q %v", v, err)
	}
	if _, err := (Credential{"env:NOPE"}).Read(func(string) string { return "" }); !errors.Is(err, ErrAuth) {
		t.Errorf("missing env: %v", err)
	}
}
