// Package rttest starts a real Request Tracker for tests: Debian's
// request-tracker5 with rt5-db-sqlite and rt5-standalone, on a fresh
// SQLite database in a temporary folder, serving on a loopback port. It
// is for tests only; nothing else imports it.
package rttest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Paths of Debian's packages.
const (
	RTServer      = "/usr/share/request-tracker5/libexec/rt-server"
	SetupDatabase = "/usr/sbin/rt-setup-database"
	libDir        = "/usr/share/request-tracker5/lib"
)

// RequireEnv makes a missing RT a failure rather than a skip (CI sets it).
const RequireEnv = "TRIAGE_REQUIRE_RT"

// Server is a running RT.
type Server struct {
	// URL is its base address, http://127.0.0.1:PORT.
	URL string
	// Token is an auth token of the user root ("Authorization: token").
	Token string
	// Password is root's password, for basic auth.
	Password string
}

// Start prepares a database and starts RT, or skips the test (fails it
// when TRIAGE_REQUIRE_RT=1) when RT is not installed. RT is stopped when
// the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	for _, p := range []string{RTServer, SetupDatabase} {
		if _, err := os.Stat(p); err != nil {
			msg := fmt.Sprintf("Request Tracker is not installed (%s: %v); .ci/rt installs it", p, err)
			if os.Getenv(RequireEnv) == "1" {
				t.Fatal(msg + " and " + RequireEnv + "=1 requires it")
			}
			t.Skip(msg)
		}
	}
	dir := t.TempDir()
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	site := filepath.Join(dir, "RT_SiteConfig.pm")
	conf := fmt.Sprintf(`Set($rtname, 'triage.test');
Set($Organization, 'triage.test');
Set($DatabaseType, 'SQLite');
Set($DatabaseName, '%s');
Set($DatabaseHost, 'localhost');
Set($DatabaseUser, '');
Set($DatabasePassword, '');
Set($WebPath, '');
Set($WebDomain, '127.0.0.1');
Set($WebPort, %d);
Set($WebBaseURL, '%s');
Set($LogToSTDERR, 'warning');
Set($LogToSyslog, undef);
Set($LogToFile, undef);
Set($MailCommand, 'testfile');
1;
`, filepath.Join(dir, "rtdb"), port, base)
	if err := os.WriteFile(site, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	confDir := filepath.Join(dir, "RT_SiteConfig.d")
	if err := os.Mkdir(confDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The package's own /etc/request-tracker5 is left alone: the site
	// config and its .d folder come from the environment.
	env := append(os.Environ(), "RT_SITE_CONFIG="+site, "RT_SITE_CONFIG_DIR="+confDir)
	run := func(name string, args ...string) string {
		cmd := exec.Command(name, args...)
		cmd.Env, cmd.Dir = env, dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run(SetupDatabase, "--action", "init", "--dba", "", "--dba-password", "")
	out := run("perl", "-I"+libDir, "-e", `use RT; RT::LoadConfig(); RT::Init();
my $u = RT::CurrentUser->new(RT->SystemUser); $u->Load("root");
my $t = RT::AuthToken->new($u);
my ($ok, $msg, $auth) = $t->Create(Owner => $u->Id, Description => "triage test");
die $msg unless $ok; print "TOKEN=$auth\n";`)
	token := ""
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "TOKEN="); ok {
			token = strings.TrimSpace(v)
		}
	}
	if token == "" {
		t.Fatalf("no auth token made:\n%s", out)
	}

	logf, err := os.Create(filepath.Join(dir, "rt-server.log"))
	if err != nil {
		t.Fatal(err)
	}
	srv := exec.Command(RTServer, "--port", fmt.Sprint(port))
	srv.Env, srv.Dir, srv.Stdout, srv.Stderr = env, dir, logf, logf
	ownProcessGroup(srv)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// rt-server may have children: end its own process group only.
		endProcessGroup(srv, false)
		done := make(chan struct{})
		go func() { srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			endProcessGroup(srv, true)
			<-done
		}
		logf.Close()
	})
	s := &Server{URL: base, Token: token, Password: "password"}
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(base + "/REST/2.0/rt")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("RT did not answer on %s within 90s (last: %v)\n%s", base, err, log)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Get reads a REST 2 resource as root into v.
func (s *Server) Get(t testing.TB, path string, v any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, s.URL+"/REST/2.0"+path, nil)
	req.Header.Set("Authorization", "token "+s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", path, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
}

// Attachment is one attachment of a ticket, read back through REST 2.
type Attachment struct {
	ID          int
	Filename    string
	ContentType string
	Transaction string
	Content     []byte
}

// Attachments reads every attachment of a ticket, with its bytes.
func (s *Server) Attachments(t testing.TB, ticket string) []Attachment {
	t.Helper()
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	s.Get(t, "/ticket/"+ticket+"/attachments?per_page=100", &list)
	var out []Attachment
	for _, it := range list.Items {
		var a struct {
			ID            int    `json:"id"`
			Filename      string `json:"Filename"`
			ContentType   string `json:"ContentType"`
			Content       string `json:"Content"`
			TransactionID struct {
				ID string `json:"id"`
			} `json:"TransactionId"`
		}
		s.Get(t, "/attachment/"+it.ID, &a)
		data, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(a.Content, "\n", ""))
		if err != nil {
			t.Fatalf("attachment %s: %v", it.ID, err)
		}
		out = append(out, Attachment{ID: a.ID, Filename: a.Filename, ContentType: a.ContentType, Transaction: a.TransactionID.ID, Content: data})
	}
	return out
}
