package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/triage-dev/triage/reports/send/rttest"
)

// plantedSecret is printed by a check and planted as a credential: it
// must never reach a ticket, a report, a log line, an error or --help.
const plantedSecret = "PLANTED-zq81-secret"

const leakyPlaybook = `name: leaky
checks:
  - id: leaky
    title: VPN gateway answers
    command: {argv: [sh, -c, 'echo "password=` + plantedSecret + `"; echo "mysql://app:` + plantedSecret + `@db/x"; exit 1']}
`

// sendEnv gives a test its own config folder, with cfg as the user's
// config file, and no organisation's file.
func sendEnv(t *testing.T, cfg string) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "cfg"))
	t.Setenv(systemConfigEnv, filepath.Join(dir, "no-system-config.yaml"))
	if err := os.MkdirAll(filepath.Join(dir, "cfg", "triage"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cfg", "triage", "config.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "leaky.yaml"), []byte(leakyPlaybook), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestSendRTCommand drives the CLI end to end against a real Request
// Tracker: run --send opens a ticket, triage send --ticket comments on it
// with a saved report and its bundle, and RT's REST 2 API gives back the
// same subject, text and bytes, with no secret in any of them.
func TestSendRTCommand(t *testing.T) {
	rt := rttest.Start(t)
	dir := sendEnv(t, "destinations:\n  helpdesk:\n    type: rt\n    url: "+rt.URL+"\n    credential: env:TRIAGE_TEST_RT_TOKEN\n    queue: General\n")
	t.Setenv("TRIAGE_TEST_RT_TOKEN", rt.Token)
	r := func(name string) string { return filepath.Join(dir, name) }

	code, stdout, stderr := runMain(t, "run", r("leaky.yaml"), "--send", "helpdesk", "--report", r("r.json"), "--report", r("r.md"), "--bundle", r("INC-1.tar.gz"))
	if code != exitFail {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	m := regexp.MustCompile(`triage: helpdesk: created ticket (\d+) (\S+)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no ticket in:\n%s", stderr)
	}
	ticket := m[1]
	if m[2] != rt.URL+"/Ticket/Display.html?id="+ticket {
		t.Errorf("ticket URL %s", m[2])
	}
	var tk struct{ Subject string }
	rt.Get(t, "/ticket/"+ticket, &tk)
	if want := "triage: " + hostnameForTest() + ": " + firstLineOfMessage(t, r("r.json")); tk.Subject != want {
		t.Errorf("subject %q, want %q", tk.Subject, want)
	}
	if !strings.Contains(tk.Subject, "VPN gateway answers") {
		t.Errorf("subject %q does not carry the diagnosis' headline", tk.Subject)
	}
	md, _ := os.ReadFile(r("r.md"))
	bundle, _ := os.ReadFile(r("INC-1.tar.gz"))
	first := byName(rt.Attachments(t, ticket))
	if got := strings.TrimRight(string(first[""]), "\n"); got != strings.TrimRight(string(md), "\n") {
		t.Errorf("ticket text differs from the Markdown report:\n%s\n---\n%s", got, md)
	}
	if !bytes.Equal(first["INC-1.tar.gz"], bundle) {
		t.Errorf("the bundle in RT (%d bytes) differs from the one written (%d bytes)", len(first["INC-1.tar.gz"]), len(bundle))
	}

	// A saved report and bundle, as a comment on the ticket.
	code, stdout, stderr = runMain(t, "send", r("r.json"), r("INC-1.tar.gz"), "--to", "helpdesk", "--ticket", ticket)
	if code != 0 || !strings.Contains(stdout, "helpdesk: commented on ticket "+ticket+" "+rt.URL) {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	// The same JSON report alone, as a new ticket: HTML and JSON attached.
	code, stdout, stderr = runMain(t, "send", r("r.json"), "--to", "helpdesk")
	m = regexp.MustCompile(`helpdesk: created ticket (\d+)`).FindStringSubmatch(stdout)
	if code != 0 || m == nil {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	third := byName(rt.Attachments(t, m[1]))
	saved, _ := os.ReadFile(r("r.json"))
	if !bytes.Equal(third["r.json"], saved) {
		t.Errorf("the JSON report in RT differs from the saved one:\n%s\n---\n%s", third["r.json"], saved)
	}
	if !bytes.Contains(third["r.html"], []byte("<html")) {
		t.Errorf("no HTML report attached: %v", keys(third))
	}

	// No secret anywhere: tickets, outputs.
	for _, id := range []string{ticket, m[1]} {
		for _, a := range rt.Attachments(t, id) {
			for _, s := range []string{plantedSecret, rt.Token} {
				if bytes.Contains(a.Content, []byte(s)) {
					t.Errorf("ticket %s attachment %q holds %q", id, a.Filename, s)
				}
			}
		}
	}
	for _, s := range []string{stdout, stderr} {
		if strings.Contains(s, rt.Token) || strings.Contains(s, plantedSecret) {
			t.Errorf("output holds a secret:\n%s", s)
		}
	}

	// A ticket that does not exist: one line, exit 65, the report waits.
	code, _, stderr = runMain(t, "send", r("r.json"), "--to", "helpdesk", "--ticket", "999999")
	if code != exitInvalid || !strings.Contains(stderr, "not found: looking up ticket 999999") || !strings.Contains(stderr, "hint: check the ticket number") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	// A token RT does not know: exit 65, no token in the message.
	t.Setenv("TRIAGE_TEST_RT_TOKEN", "1-14-"+strings.Repeat("5", 32))
	code, _, stderr = runMain(t, "send", r("r.json"), "--to", "helpdesk")
	if code != exitInvalid || !strings.Contains(stderr, "the credential was refused") || strings.Contains(stderr, strings.Repeat("5", 32)) {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}

func hostnameForTest() string { h, _ := os.Hostname(); return h }

func firstLineOfMessage(t *testing.T, path string) string {
	data, _ := os.ReadFile(path)
	var rep struct {
		Hosts []struct {
			Diagnosis []struct{ Summary string } `json:"diagnosis"`
		} `json:"hosts"`
	}
	json.Unmarshal(data, &rep)
	if len(rep.Hosts) == 0 || len(rep.Hosts[0].Diagnosis) == 0 {
		return ""
	}
	return rep.Hosts[0].Diagnosis[0].Summary
}

func byName(atts []rttest.Attachment) map[string][]byte {
	m := map[string][]byte{}
	for _, a := range atts {
		if a.Filename == "" {
			if _, ok := m[""]; !ok && strings.HasPrefix(a.ContentType, "text/plain") {
				m[""] = a.Content
			}
			continue
		}
		m[a.Filename] = a.Content
	}
	return m
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// intake is an organisation's HTTPS endpoint that keeps what it gets and
// echoes the Authorization header in its errors, as careless servers do.
type intake struct {
	mu       sync.Mutex
	token    string
	received []string
	srv      *httptest.Server
}

func newIntake(t *testing.T, token string) *intake {
	in := &intake{token: token}
	in.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+in.token {
			w.WriteHeader(401)
			io.WriteString(w, `{"message":"bad header: `+r.Header.Get("Authorization")+`"}`)
			return
		}
		r.ParseMultipartForm(32 << 20)
		in.mu.Lock()
		in.received = append(in.received, r.FormValue("subject"))
		n := len(in.received)
		in.mu.Unlock()
		w.WriteHeader(201)
		io.WriteString(w, `{"ticket":"HD-`+string(rune('0'+n))+`","url":"https://hd.example.com/HD"}`)
	}))
	t.Cleanup(in.srv.Close)
	return in
}

// TestDoctorOffersToSend: with a destination in the organisation's config
// file, doctor asks once on a terminal, sends, and prints the ticket
// number; offline, the report waits in the outbox and the next doctor run
// sends it; off a terminal it asks nothing and sends nothing.
func TestDoctorOffersToSend(t *testing.T) {
	token := "tok-" + plantedSecret
	in := newIntake(t, token)
	dir := sendEnv(t, "")
	sys := filepath.Join(dir, "org-config.yaml")
	writeOrg := func(url string) {
		cfg := "destinations:\n  helpdesk:\n    type: https\n    url: " + url + "\n    credential: env:ORG_TOKEN\n    timeout: 2s\ndoctor_send: helpdesk\n"
		if err := os.WriteFile(sys, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeOrg(in.srv.URL)
	env := map[string]string{systemConfigEnv: sys, "ORG_TOKEN": token}
	pb := filepath.Join(dir, "pass.yaml")
	os.WriteFile(pb, []byte("name: pass\nchecks:\n  - id: ok\n    file: {path: "+pb+"}\n"), 0o644)
	doctor := func(answer string, interactive bool) (int, string, string) {
		var out, errOut bytes.Buffer
		opts := &doctorOptions{io: &streams{In: strings.NewReader(answer), Out: &out, Err: &errOut},
			Playbook: pb, Out: filepath.Join(dir, "reports"), Getenv: func(k string) string { return env[k] },
			SystemPlaybook: filepath.Join(dir, "none.yaml"), Interactive: func() bool { return interactive }}
		err := doctorRun(context.Background(), opts)
		code := 0
		if err != nil {
			if ee, ok := err.(*exitCodeError); ok {
				code = ee.code
				if ee.err != nil {
					errOut.WriteString(ee.err.Error() + "\n")
				}
				errOut.WriteString("hint: " + ee.hint + "\n")
			}
		}
		return code, out.String(), errOut.String()
	}

	code, out, errOut := doctor("\n", true)
	if code != 0 || !strings.Contains(errOut, "Send this report to the help desk? [Y/n]") || !strings.Contains(out, "Your ticket number is HD-1") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if len(in.received) != 1 || in.received[0] != "triage: all checks passed on "+hostnameForTest() {
		t.Errorf("received %q", in.received)
	}
	// "n": nothing sent.
	if _, _, errOut = doctor("n\n", true); !strings.Contains(errOut, "Not sent") || len(in.received) != 1 {
		t.Errorf("sent after no: %d\n%s", len(in.received), errOut)
	}
	// Off a terminal: no question, nothing sent.
	if _, _, errOut = doctor("y\n", false); strings.Contains(errOut, "[Y/n]") || len(in.received) != 1 {
		t.Errorf("asked or sent off a terminal:\n%s", errOut)
	}

	// Offline: the report waits, and the next run sends it first.
	writeOrg("http://127.0.0.1:1")
	code, out, _ = doctor("y\n", true)
	if code != exitError || !strings.Contains(out, "It will be sent the next time you run triage doctor") {
		t.Fatalf("offline: exit %d\n%s", code, out)
	}
	waiting, _ := outboxList()
	if len(waiting) != 1 {
		t.Fatalf("outbox holds %d", len(waiting))
	}
	writeOrg(in.srv.URL)
	code, out, errOut = doctor("y\n", true)
	if code != 0 || !strings.Contains(errOut, "sent the report that was waiting: helpdesk: created ticket HD-2") || !strings.Contains(out, "Your ticket number is HD-3") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if waiting, _ = outboxList(); len(waiting) != 0 {
		t.Errorf("outbox still holds %v", waiting)
	}

	// A refused credential: the server echoes it, triage does not.
	env["ORG_TOKEN"] = "wrong-" + plantedSecret
	code, out, errOut = doctor("y\n", true)
	if code != exitInvalid || !strings.Contains(errOut, "the credential was refused") {
		t.Errorf("exit %d\n%s", code, errOut)
	}
	assertNoPlanted(t, "doctor's output", out+errOut)
	reportsDir, _ := filepath.Glob(filepath.Join(dir, "reports", "*"))
	outbox, _ := filepath.Glob(filepath.Join(outboxDir(), "*"))
	for _, p := range append(reportsDir, outbox...) {
		data, _ := os.ReadFile(p)
		assertNoPlanted(t, p, string(data))
	}
}

func assertNoPlanted(t *testing.T, where, s string) {
	t.Helper()
	if strings.Contains(s, plantedSecret) {
		t.Errorf("%s holds the planted secret", where)
	}
}

// TestSendCredentialNeverShown plants a credential in the environment and
// a secret in a check's output, and looks for either in every report, log
// line, error message and --help.
func TestSendCredentialNeverShown(t *testing.T) {
	token := "tok-" + plantedSecret
	in := newIntake(t, "the-right-one")
	dir := sendEnv(t, "destinations:\n  hd:\n    type: https\n    url: "+in.srv.URL+"\n    credential: env:HD_TOKEN\n")
	t.Setenv("HD_TOKEN", token)
	code, out, errOut := runMain(t, "run", filepath.Join(dir, "leaky.yaml"), "--send", "hd", "--report", filepath.Join(dir, "r.json"), "--report", filepath.Join(dir, "r.html"), "-o", "json")
	if code != exitInvalid || !strings.Contains(errOut, "401") {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	assertNoPlanted(t, "run's output", out+errOut)
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	files2, _ := filepath.Glob(filepath.Join(outboxDir(), "*"))
	for _, p := range append(files, files2...) {
		if strings.HasSuffix(p, "leaky.yaml") {
			continue
		}
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			data, _ := os.ReadFile(p)
			assertNoPlanted(t, p, string(data))
		}
	}
	for _, args := range [][]string{{"--help"}, {"run", "--help"}, {"sweep", "--help"}, {"doctor", "--help"}, {"send", "--help"}} {
		_, out, errOut := runMain(t, args...)
		assertNoPlanted(t, strings.Join(args, " "), out+errOut)
	}
}
