package reports

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triage-dev/triage/diag"
)

// secretForm is one way a secret shows up in command output, a config file
// or a log. text holds it; secret is what must never reach a report or a
// bundle; keep is text around it that must survive, so that a redactor
// blanking everything cannot pass.
type secretForm struct {
	name   string
	text   string
	secret string
	keep   string
}

// Fake secrets of the right shape, built to exact lengths.
func fill(prefix string, n int, alphabet string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for i := 0; b.Len() < len(prefix)+n; i++ {
		b.WriteByte(alphabet[(i*7+3)%len(alphabet)])
	}
	return b.String()
}

const (
	alnum   = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upperD  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b64     = alnum + "+/"
	urlSafe = alnum + "-_"
	hexLow  = "0123456789abcdef"
)

var pemBody = fill("MIIEpAIBAAKCAQEA", 48, b64) + "\n" + fill("", 64, b64) + "\n" + fill("", 40, b64) + "=="

func secretCorpus() []secretForm {
	ghp := fill("ghp_", 36, alnum)
	ghFine := fill("github_pat_11", 70, alnum+"_")
	glpat := fill("glpat-", 20, urlSafe)
	slack := "xoxb-1234567890-0987654321-" + fill("", 24, alnum)
	jwt := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	akia := fill("AKIA", 16, upperD)
	awsSecret := fill("wJalrXUtnFEMI/K7MDENG/", 18, b64)
	gcpKey := fill("AIza", 35, urlSafe)
	ya29 := fill("ya29.a0AfH6SMB", 40, urlSafe)
	azureKey := fill("Zm9vYmFy", 78, b64) + "=="
	azureSecret := "Abc8Q~" + fill("", 34, alnum+"._~-")
	stripe := fill("sk_live_51H", 30, alnum)
	npm := fill("npm_", 36, alnum)
	ageKey := fill("AGE-SECRET-KEY-1", 58, upperD)
	vault := fill("hvs.", 30, urlSafe)
	sendgrid := fill("SG.", 22, urlSafe) + "." + fill("", 43, urlSafe)
	telegram := "123456789:AA" + fill("", 33, urlSafe)
	openai := fill("sk-proj-", 40, urlSafe)
	sessionToken := fill("FwoGZXIvYXdzEBYaD", 60, b64)
	privKeyID := fill("", 40, hexLow)
	docker := "ZG9ja2VyOmh1YjJwYXNzd29yZA=="
	putty := fill("AAAAgQDFakePuttyPrivateLines", 40, b64)
	return []secretForm{
		{"key=value", "password=hunter2-Secret!", "hunter2-Secret!", "password="},
		{"env, quoted with spaces", `DB_PASSWORD="correct horse battery staple"`, "correct horse battery staple", "DB_PASSWORD="},
		{"json with an escaped quote", `{"password": "j$0n-p@ss\"word", "user": "svc"}`, `j$0n-p@ss`, `"user": "svc"`},
		{"yaml", "db:\n  passwd: yamlS3cret\n  host: db1", "yamlS3cret", "host: db1"},
		{"ini with spaces", "[db]\nPassword = iniP4ssw0rd\nport = 5432", "iniP4ssw0rd", "port = 5432"},
		{"https url", "GET https://admin:Url-P4ss@intranet.example.com/api 200", "Url-P4ss", "intranet.example.com/api"},
		{"postgres", "DATABASE_URL=postgres://app:Pg-S3cret-99@db.internal:5432/app?sslmode=require", "Pg-S3cret-99", "db.internal:5432"},
		{"mysql", "dsn: mysql://root:My$ql_Pass@10.0.0.5:3306/shop", "My$ql_Pass", "10.0.0.5:3306"},
		{"mongodb+srv", "mongodb+srv://svc:M0ngo!Pass@cluster0.abcde.mongodb.net/test", "M0ngo!Pass", "cluster0.abcde"},
		{"redis url", "REDIS_URL=redis://:R3dis-Auth-Pass@cache:6379/0", "R3dis-Auth-Pass", "cache:6379"},
		{"amqp", "broker amqp://guest:Rabb1t-Pass@mq.example.com:5672/", "Rabb1t-Pass", "mq.example.com"},
		{"sqlserver url", "sqlserver://sa:MsSql-P4ss@db:1433?database=x", "MsSql-P4ss", "database=x"},
		{"proxy url", "Proxy: http://user:Pr0xy-Pass@proxy.corp:3128", "Pr0xy-Pass", "proxy.corp:3128"},
		{"ado.net", "Server=tcp:sql.example.com;Database=app;User Id=sa;Password=Ad0-Net-Pass;Encrypt=true", "Ad0-Net-Pass", "Encrypt=true"},
		{"odbc", "Driver={ODBC Driver 18};Server=x;Uid=u;Pwd=0dbc-Pwd-123;", "0dbc-Pwd-123", "Uid=u"},
		{"bearer header", "Authorization: Bearer 0pa9ue-bearer-token-value-1234567890", "0pa9ue-bearer-token-value-1234567890", "Authorization: Bearer"},
		{"basic header", "authorization: Basic YWxpY2U6c2VjcmV0LWJhc2ljLXBhc3M=", "YWxpY2U6c2VjcmV0LWJhc2ljLXBhc3M=", "authorization:"},
		{"proxy basic header", "curl -H 'Proxy-Authorization: Basic cHJveHk6cHJveHlwYXNz' http://x", "cHJveHk6cHJveHlwYXNz", "curl -H"},
		{"api key header", "X-Api-Key: 4p1-K3y-Header-Value\nAccept: */*", "4p1-K3y-Header-Value", "Accept: */*"},
		{"cookie header", "Cookie: session=C00kie-Sess10n-Val; theme=dark", "C00kie-Sess10n-Val", "Cookie:"},
		{"rsa private key", "-----BEGIN RSA PRIVATE KEY-----\n" + pemBody + "\n-----END RSA PRIVATE KEY-----\nafter", pemBody[:40], "after"},
		{"openssh private key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----", "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ", "BEGIN OPENSSH PRIVATE KEY"},
		{"pgp private key", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBGFakePgpKeyMaterial0123456789abcdef\n=AbCd\n-----END PGP PRIVATE KEY BLOCK-----", "lQOYBGFakePgpKeyMaterial0123456789abcdef", "PGP PRIVATE KEY BLOCK"},
		{"service account json", `{"type": "service_account", "private_key_id": "` + privKeyID + `", "private_key": "-----BEGIN PRIVATE KEY-----\n` + strings.ReplaceAll(pemBody, "\n", `\n`) + `\n-----END PRIVATE KEY-----\n"}`, privKeyID, `"type": "service_account"`},
		{"service account key body", `"private_key": "-----BEGIN PRIVATE KEY-----\n` + strings.ReplaceAll(pemBody, "\n", `\n`) + `\n-----END PRIVATE KEY-----\n"`, pemBody[:40], `"private_key": "`},
		{"key block cut by a cap", "key:\n-----BEGIN EC PRIVATE KEY-----\n" + pemBody + "\n[evidence truncated]", pemBody[:40], "key:"},
		{"key block whose start was cut", pemBody + "\n-----END PRIVATE KEY-----\nnext line", pemBody[:40], "next line"},
		{"putty key", "PuTTY-User-Key-File-3: ssh-rsa\nPrivate-Lines: 1\n" + putty + "\nPrivate-MAC: abc", putty, "Private-MAC"},
		{"aws access key id", "aws_access_key_id = " + akia, akia, "aws_access_key_id"},
		{"aws access key id alone", "found " + akia + " in the env", akia, "in the env"},
		{"aws secret key", "aws_secret_access_key = " + awsSecret, awsSecret, "aws_secret_access_key"},
		{"aws session token json", `{"SessionToken": "` + sessionToken + `", "Expiration": "2026-11-24"}`, sessionToken, "Expiration"},
		{"gcp api key", "https://maps.example.com/api?key=" + gcpKey + "&x=1", gcpKey, "maps.example.com"},
		{"gcp api key alone", "GOOGLE_KEY " + gcpKey, gcpKey, "GOOGLE_KEY"},
		{"gcp oauth token", "token: " + ya29, ya29, "token:"},
		{"azure storage connection string", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + azureKey + ";EndpointSuffix=core.windows.net", azureKey, "AccountName=acct"},
		{"azure sas", "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sig=AbCdEf0123456789%2BsasSig%3D", "AbCdEf0123456789%2BsasSig%3D", "sv=2022-11-02"},
		{"azure client secret", "AZURE_CLIENT " + azureSecret, azureSecret, "AZURE_CLIENT"},
		{"github classic token", "git clone https://x-access:" + ghp + "@github.com/o/r", ghp, "github.com/o/r"},
		{"github token alone", "GH " + ghp + " end", ghp, "end"},
		{"github fine-grained token", "token " + ghFine, ghFine, "token"},
		{"gitlab token", "PRIVATE-TOKEN " + glpat, glpat, "PRIVATE-TOKEN"},
		{"slack token", "SLACK " + slack, slack, "SLACK"},
		{"slack webhook", "POST https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", "B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", "hooks.slack.com"},
		{"jwt", "id " + jwt, jwt[40:], "id "},
		{"stripe", "STRIPE " + stripe, stripe, "STRIPE"},
		{"npm", "//registry.npmjs.org/:_authToken=" + npm, npm, "registry.npmjs.org"},
		{"netrc", "machine api.example.com\n  login bot\n  password N3trc-Pass\n", "N3trc-Pass", "login bot"},
		{"redis.conf", "bind 0.0.0.0\nrequirepass R3dis-C0nf-Pass\n", "R3dis-C0nf-Pass", "bind 0.0.0.0"},
		{"xml element", "<db><password>Xml-P4ss</password><host>h</host></db>", "Xml-P4ss", "<host>h</host>"},
		{"dotnet appSettings", `<add key="ApiToken" value="DotNet-Tok3n"/>`, "DotNet-Tok3n", `key="ApiToken"`},
		{"docker config auth", `{"auths": {"registry.example.com": {"auth": "` + docker + `"}}}`, docker, "registry.example.com"},
		{"cli flag", "mysqladmin --user root --password Cl1-Pass status", "Cl1-Pass", "status"},
		{"curl -u", "curl -u deploy:Curl-U-Pass https://x.example.com", "Curl-U-Pass", "x.example.com"},
		{"query token", "GET /cb?access_token=Qu3ry-Access-Token&state=1", "Qu3ry-Access-Token", "GET /cb"},
		{"age key", "# created\n" + ageKey, ageKey, "# created"},
		{"vault token", "VAULT " + vault, vault, "VAULT"},
		{"sendgrid", "SENDGRID " + sendgrid, sendgrid, "SENDGRID"},
		{"telegram bot", "bot" + telegram + "/getMe", telegram, "/getMe"},
		{"openai", "OPENAI " + openai, openai, "OPENAI"},
		{"oauth client secret", "client_secret=GOCSPX-fakeGoogleClientSecret9", "GOCSPX-fakeGoogleClientSecret9", "client_secret="},
		{"k8s secret yaml", "data:\n  token: ZXlKaGJHY2lPaUpTVXpJMU5pSXNJbXRwWkNJNklpSjk=\n", "ZXlKaGJHY2lPaUpTVXpJMU5pSXNJbXRwWkNJNklpSjk=", "data:"},
	}
}

// harmless texts that redaction must leave exactly as they are.
var harmless = []string{
	"connection refused by 10.0.0.1:443",
	"/ is 42.1% full, 20.3GiB free of 50GiB",
	"the password policy requires 12 characters",
	"passed: 3, failed: 1",
	"Authorization required: log in first",
	"GET https://example.com/path?page=2&sort=name",
	"author: Jane Doe",
	"disk-tmp and disk-root",
	"PING 10.0.0.1 (10.0.0.1) 56(84) bytes of data.",
	"openssl 3.0.11-1~deb12u2 amd64",
	"key=value",
}

func TestRedactorCorpus(t *testing.T) {
	corpus := secretCorpus()
	if len(corpus) < 30 {
		t.Fatalf("the corpus has %d forms, want at least 30", len(corpus))
	}
	rd, err := NewRedactor()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range corpus {
		counts := map[string]int{}
		got := rd.String(f.text, counts)
		if strings.Contains(got, f.secret) {
			t.Errorf("%s: the secret survives:\n%s", f.name, got)
		}
		if !strings.Contains(got, f.keep) {
			t.Errorf("%s: %q was redacted too:\n%s", f.name, f.keep, got)
		}
		if len(counts) == 0 {
			t.Errorf("%s: nothing counted", f.name)
		}
		// A second pass finds nothing more: the counts are of secrets.
		again := map[string]int{}
		if rd.String(got, again) != got || len(again) > 0 {
			t.Errorf("%s: redacting twice changes the text or counts %v", f.name, again)
		}
	}
	for _, s := range harmless {
		counts := map[string]int{}
		if got := rd.String(s, counts); got != s {
			t.Errorf("harmless text changed: %q -> %q (%v)", s, got, counts)
		}
	}
}

// corpusReport plants every secret form in every place a report carries
// text: evidence, messages, hints, observed values (argv too), a host's
// error, and collected files.
func corpusReport() *Report {
	r := sweep()
	var all []string
	for i, f := range secretCorpus() {
		all = append(all, f.text)
		h := &r.Hosts[i%2]
		res := &h.Results[i%len(h.Results)]
		res.Evidence += f.text + "\n"
		res.Message += " | " + f.text
		res.Hint += " " + f.text
		if res.Observed == nil {
			res.Observed = map[string]any{}
		}
		res.Observed[fmt.Sprintf("planted_%d", i)] = f.text
		res.Observed[fmt.Sprintf("nested_%d", i)] = map[string]any{"list": []any{f.text}}
		res.Files = append(res.Files, diag.Attachment{Name: fmt.Sprintf("planted-%d.txt", i), Data: []byte("before\n" + f.text + "\nafter\n")})
	}
	r.Hosts[0].Results[0].Files = append(r.Hosts[0].Results[0].Files, diag.Attachment{Name: "all.log", Data: []byte(strings.Join(all, "\n"))})
	r.Hosts[0].Results[1].Observed["argv"] = []string{"mysql", "--password", "Argv-Sep4rate-Pass", "-e", "select 1"}
	r.Hosts[2].Error = "auth failed for https://ops:Host-Err-Pass@jump.example.com"
	return r
}

var corpusExtra = []string{"Argv-Sep4rate-Pass", "Host-Err-Pass"}

// TestSecretsNeverReachOutput renders the planted report in every format
// and writes its bundle: no secret may appear anywhere.
func TestSecretsNeverReachOutput(t *testing.T) {
	secrets := append([]string(nil), corpusExtra...)
	for _, f := range secretCorpus() {
		secrets = append(secrets, f.secret)
	}
	for _, anonymize := range []bool{false, true} {
		t.Run(fmt.Sprintf("anonymize=%v", anonymize), func(t *testing.T) {
			r := corpusReport()
			rd, _ := NewRedactor()
			rd.Anonymize = anonymize
			rd.Redact(r)
			outputs := map[string][]byte{}
			for _, format := range Formats() {
				rn, _ := Lookup(format)
				var buf bytes.Buffer
				if err := rn.Render(&buf, r, Options{}); err != nil {
					t.Fatalf("%s: %v", format, err)
				}
				outputs["format "+format] = buf.Bytes()
			}
			bundle := filepath.Join(t.TempDir(), "INC-1.tar.gz")
			if err := WriteBundle(bundle, r, BundleOptions{}); err != nil {
				t.Fatal(err)
			}
			entries := readBundle(t, bundle)
			if len(entries) < 10 {
				t.Fatalf("the bundle holds %d entries", len(entries))
			}
			for name, data := range entries {
				outputs["bundle "+name] = data
			}
			raw, _ := os.ReadFile(bundle)
			outputs["bundle bytes"] = raw
			for where, data := range outputs {
				for _, s := range secrets {
					if bytes.Contains(data, []byte(s)) {
						t.Errorf("%s holds the secret %q", where, s)
					}
				}
			}
			if r.Redactions["password"] == 0 || r.Redactions["private-key"] == 0 || r.Redactions["jwt"] == 0 {
				t.Errorf("redaction counts are missing rules: %v", r.Redactions)
			}
			if !bytes.Contains(entries["files/alice@10.2.3.4_22/disk-root/all.log"], []byte("[REDACTED]")) &&
				!bytes.Contains(entries["files/user-1@ip-1_22/disk-root/all.log"], []byte("[REDACTED]")) {
				t.Errorf("the collected file is not in the bundle, redacted; entries: %v", keysOf(entries))
			}
		})
	}
}

func keysOf(m map[string][]byte) []string { return sortedKeys(m) }

// readBundle returns a bundle's entries by name, without the top folder.
func readBundle(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	out := map[string][]byte{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		_, name, _ := strings.Cut(hdr.Name, "/")
		out[name] = data
	}
}

func TestCustomRules(t *testing.T) {
	rd, err := NewRedactor(`ACME-[0-9a-f]{8}`, `ticket_key=(\S+)`)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	got := rd.String("id ACME-deadbeef and ticket_key=abc123 and ACME-0badf00d", counts)
	if want := "id [REDACTED] and ticket_key=[REDACTED] and [REDACTED]"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if counts["custom: ACME-[0-9a-f]{8}"] != 2 || counts[`custom: ticket_key=(\S+)`] != 1 {
		t.Errorf("counts = %v", counts)
	}
	for _, bad := range []string{`([a-z`, `x*`, ``} {
		if _, err := NewRedactor(bad); err == nil {
			t.Errorf("NewRedactor(%q) accepted", bad)
		}
	}
}

func TestRedactReportCounts(t *testing.T) {
	r := singleHost()
	r.Hosts[0].Results[3].Evidence = "password=a1 password=b2\ntoken: " + fill("ghp_", 36, alnum)
	rd, _ := NewRedactor()
	rd.Redact(r)
	if r.Redactions["password"] != 2 || r.Redactions["github-token"] != 1 {
		t.Errorf("redactions = %v", r.Redactions)
	}
	// The counts survive the JSON report, and an untouched report has none.
	var buf bytes.Buffer
	renderJSON(&buf, r, Options{})
	if !strings.Contains(buf.String(), `"redactions": {`) {
		t.Error("the JSON report does not carry the counts")
	}
	clean := singleHost()
	rd.Redact(clean)
	buf.Reset()
	renderJSON(&buf, clean, Options{})
	if strings.Contains(buf.String(), "redactions") {
		t.Error("a report with nothing redacted has a redactions field")
	}
}
