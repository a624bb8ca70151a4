package reports

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/triage-dev/triage/diag"
)

// Redacted replaces every secret a Redactor finds.
const Redacted = "[REDACTED]"

// Rule finds one form of secret. The secret is the first submatch among
// Groups that took part in a match, or the whole match when Groups is
// empty: "password=hunter2" keeps "password=" and loses "hunter2", so a
// reader still sees what was there.
type Rule struct {
	// Name is what the report counts the rule's redactions under.
	Name   string
	Re     *regexp.Regexp
	Groups []int
}

// The value of a key=value pair: a double-quoted string (with escapes, as
// in JSON), a single-quoted one, or a bare word up to a separator. & is
// not a separator: it is common in passwords, and in a query string the
// cost is only that the parameters after a password are redacted too.
const kvValue = `(?:"((?:[^"\\\r\n]|\\.)*)"|'([^'\r\n]*)'|([^\s,;"'<>\]\)}]+))`

// A key that holds a password or another secret may carry any prefix or
// suffix: DB_PASSWORD, PGPASSWORD, aws_secret_access_key, client_secret.
const (
	passwordKeys = `[\w.-]*(?:password|passwd|passphrase|pwd)[\w.-]*`
	secretKeys   = `[\w.-]*(?:secret|token|api[_ -]?key|access[_ -]?key|account[_ -]?key|shared[_ -]?access[_ -]?key|private[_ -]?key|auth[_ -]?key|signing[_ -]?key|encryption[_ -]?key|session[_ -]?key|credentials?)[\w.-]*`
)

func kvRule(name, keys string) Rule {
	return Rule{
		Name:   name,
		Re:     regexp.MustCompile(`(?i)(?:^|[^\w.-])["']?` + keys + `["']?[ \t]*[:=][ \t]*` + kvValue),
		Groups: []int{1, 2, 3},
	}
}

func rule(name, expr string, groups ...int) Rule {
	return Rule{Name: name, Re: regexp.MustCompile(expr), Groups: groups}
}

// DefaultRules are the secret forms every report is cleaned of. Their order
// matters only for which name a secret is counted under: a JWT in an
// Authorization header is counted as a JWT, because that rule runs first.
func DefaultRules() []Rule {
	return []Rule{
		// Key blocks first: their base64 body would otherwise be nibbled at
		// by the token rules. An unterminated block (cut by a size cap) is
		// redacted to the end of the text; a block whose BEGIN line was cut
		// off is redacted from its first base64 line.
		rule("private-key", `(?s)(-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)(.*?)(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)`, 2),
		// A body whose BEGIN line was cut off; its first line may follow
		// other text on the same line (a message that quotes it).
		rule("private-key", `(?m)([A-Za-z0-9+/=]{16,}\r?\n(?:^[A-Za-z0-9+/=]{16,}\r?\n)*)-----END[A-Z0-9 ]*PRIVATE KEY`, 1),
		rule("private-key", `(?m)(?:^|\n)Private-Lines:[ \t]*\d+\r?\n((?:[A-Za-z0-9+/=]+(?:\r?\n|\z))+)`, 1),
		rule("age-key", `\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b`),

		// Tokens recognisable by their shape alone.
		rule("jwt", `\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*`),
		rule("aws-access-key", `\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}\b`),
		rule("aws-secret-key", `(?i)\baws[\w -]{0,30}?(?:secret|session)[\w -]{0,20}?["']?[ \t]*[:=][ \t]*["']?([A-Za-z0-9/+=]{40,})`, 1),
		rule("gcp-api-key", `\bAIza[0-9A-Za-z_-]{35}`),
		rule("gcp-oauth-token", `\bya29\.[0-9A-Za-z_-]{20,}`),
		rule("azure-client-secret", `\b[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}`),
		rule("github-token", `\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})`),
		rule("gitlab-token", `\bgl(?:pat|dt|rt|ptt|cbt|ft|soat|imt|oas|agent)-[A-Za-z0-9_-]{20,}`),
		rule("slack-token", `\bxox[abposre]-[A-Za-z0-9-]{10,}`),
		rule("slack-webhook", `hooks\.slack\.com/(?:services|workflows)/([A-Za-z0-9/_-]+)`, 1),
		rule("stripe-key", `\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}`),
		rule("npm-token", `\bnpm_[A-Za-z0-9]{36}\b`),
		rule("pypi-token", `\bpypi-AgE[A-Za-z0-9_-]{50,}`),
		rule("sendgrid-key", `\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}`),
		rule("openai-key", `\bsk-(?:proj-|ant-[a-z0-9]+-)?[A-Za-z0-9_-]{20,}`),
		rule("vault-token", `\bhv[sbr]\.[A-Za-z0-9_-]{24,}`),
		rule("docker-token", `\bdckr_pat_[A-Za-z0-9_-]{20,}`),
		rule("digitalocean-token", `\bdo[opr]_v1_[a-f0-9]{64}\b`),
		rule("shopify-token", `\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}\b`),
		// Bot API URLs glue the token to "bot": /bot123456789:AA.../getMe.
		rule("telegram-token", `(?:\b|bot)(\d{8,10}:AA[A-Za-z0-9_-]{33})\b`, 1),

		// Credentials by their place: headers, URLs, command lines, configs.
		rule("auth-header", `(?i)\b((?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?(?:(?:bearer|basic|digest|token|negotiate|ntlm|apikey|sharedkey|aws4-hmac-sha256)[ \t]+)?)([^\r\n"']+)`, 2),
		rule("auth-header", `(?i)\bbearer[ \t]+([A-Za-z0-9._~+/-]{16,}=*)`, 1),
		rule("cookie", `(?i)\b((?:set-)?cookie[ \t]*:[ \t]*)([^\r\n]+)`, 2),
		rule("url-credentials", `\b([a-zA-Z][a-zA-Z0-9+.-]*://)([^\s:/?#@"'<>]*):([^\s/?#"'<>]+)@`, 3),
		rule("url-secret", `(?i)[?&;](?:sig|signature|x-amz-signature|x-amz-security-token|x-amz-credential|access_token|id_token|refresh_token|client_secret|api_key|apikey|key|token|code|password|passwd|secret)=([^&;\s"'#<>]+)`, 1),
		rule("cli-credentials", `(?:^|\s)(?:-u|--user)[ \t=]+["']?[^\s:"']+:([^\s"']+)`, 1),
		rule("cli-credentials", `(?i)(?:^|\s)--?(?:password|passwd|pass|pwd|token|secret|api-key|apikey|access-key|secret-key|client-secret)[ \t]+(?:"([^"\r\n]*)"|'([^'\r\n]*)'|([^\s"'-][^\s"']*))`, 1, 2, 3),
		rule("password", `(?i)\b(?:machine\s+\S+(?:\s+login\s+\S+)?\s+password\s+)(\S+)`, 1),
		rule("password", `(?im)^[ \t]*(?:requirepass|masterauth|masteruser-password)[ \t]+(\S+)`, 1),
		rule("password", `(?i)<(?:[\w:.-]*(?:password|passwd|passphrase)[\w:.-]*)(?:\s[^>]*)?>([^<]+)</`, 1),
		rule("secret-value", `(?i)["']auth["'][ \t]*:[ \t]*"([^"\r\n]+)"`, 1),
		rule("secret-value", `(?i)\bkey=["'][^"']*(?:password|passwd|secret|token|apikey|api_key|connectionstring)[^"']*["'][ \t]+value=["']([^"']*)["']`, 1),
		rule("secret-value", `(?i)<(?:[\w:.-]*(?:secret|token|api_?key|private_?key|credential)[\w:.-]*)(?:\s[^>]*)?>([^<]+)</`, 1),
		kvRule("password", passwordKeys),
		kvRule("secret-value", secretKeys),
	}
}

// A Redactor removes secrets from reports and collected files. Each rule
// runs over every text in turn; what it replaces is counted by name.
type Redactor struct {
	rules []Rule
	// Anonymize also replaces host names, IP and MAC addresses and user
	// names with tokens (host-1, ip-1, mac-1, user-1), the same token for
	// the same name everywhere in the report.
	Anonymize bool
}

// NewRedactor returns a Redactor with the default rules plus custom ones,
// given as RE2 expressions (from --redact and a playbook's redact: list).
// A custom expression with a capture group redacts only the first group
// that matched, so "token=(\w+)" keeps "token=".
func NewRedactor(custom ...string) (*Redactor, error) {
	rd := &Redactor{rules: DefaultRules()}
	for _, expr := range custom {
		r, err := CustomRule(expr)
		if err != nil {
			return nil, err
		}
		rd.rules = append(rd.rules, r)
	}
	return rd, nil
}

// CustomRule compiles a user's expression into a rule named after it.
func CustomRule(expr string) (Rule, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return Rule{}, fmt.Errorf("invalid regular expression %q: %v", expr, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	if re.MatchString("") {
		return Rule{}, fmt.Errorf("regular expression %q matches empty text, so it would redact nothing useful", expr)
	}
	r := Rule{Name: "custom: " + expr, Re: re}
	for i := 1; i <= re.NumSubexp(); i++ {
		r.Groups = append(r.Groups, i)
	}
	return r, nil
}

// String returns s with every secret replaced, adding what it replaced to
// counts (which may be nil).
func (rd *Redactor) String(s string, counts map[string]int) string {
	for i := range rd.rules {
		var n int
		s, n = rd.rules[i].apply(s)
		if n > 0 && counts != nil {
			counts[rd.rules[i].Name] += n
		}
	}
	return s
}

func (r *Rule) apply(s string) (string, int) {
	matches := r.Re.FindAllStringSubmatchIndex(s, -1)
	if matches == nil {
		return s, 0
	}
	var b strings.Builder
	last, n := 0, 0
	for _, m := range matches {
		start, end := m[0], m[1]
		for _, g := range r.Groups {
			if 2*g+1 < len(m) && m[2*g] >= 0 {
				start, end = m[2*g], m[2*g+1]
				break
			}
		}
		// An empty value is no secret, and one rule must not count what
		// another already replaced. A longer value that merely contains an
		// earlier replacement (a header's rest of line) is replaced whole.
		if start >= end || strings.HasPrefix(s[start:end], "[REDACTED") {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(Redacted)
		last = end
		n++
	}
	if n == 0 {
		return s, 0
	}
	b.WriteString(s[last:])
	return b.String(), n
}

// Redact cleans every text of the report in place: messages, hints,
// evidence, observed values, host errors and collected files. It records
// what it replaced in r.Redactions (and r.Anonymized), adding to what an
// earlier pass recorded.
func (rd *Redactor) Redact(r *Report) {
	counts := map[string]int{}
	for k, v := range r.Redactions {
		counts[k] = v
	}
	clean := func(s string) string { return rd.String(s, counts) }
	for hi := range r.Hosts {
		h := &r.Hosts[hi]
		h.Error, h.Hint = clean(h.Error), clean(h.Hint)
		for i := range h.Results {
			res := &h.Results[i]
			res.Title = clean(res.Title)
			res.Message = clean(res.Message)
			res.Hint, res.CheckHint = clean(res.Hint), clean(res.CheckHint)
			res.Evidence = clean(res.Evidence)
			res.Observed = redactObserved(res.Observed, clean, counts)
			for fi := range res.Files {
				f := &res.Files[fi]
				f.Data = []byte(clean(string(f.Data)))
			}
		}
	}
	if len(counts) > 0 {
		r.Redactions = counts
	}
	if rd.Anonymize {
		anonymize(r)
	}
	// The diagnosis quotes messages and hints: make it again from the
	// cleaned results rather than clean a second copy.
	r.Diagnose()
	r.redacted = true
}

// secretFlagRe names a command-line flag whose next argument is a secret,
// for argv lists where flag and value are separate words.
var secretFlagRe = diag.LazyRegexp(`(?i)^--?(?:password|passwd|pass|pwd|token|secret|api-key|apikey|access-key|secret-key|client-secret|auth-token)$`)

// redactObserved cleans observed values, whatever their shape: strings,
// lists (argv) and nested maps.
func redactObserved(m map[string]any, clean func(string) string, counts map[string]int) map[string]any {
	if m == nil {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // counts do not depend on map order anyway; output order does
	for _, k := range keys {
		m[k] = redactValue(m[k], clean, counts)
	}
	return m
}

func redactValue(v any, clean func(string) string, counts map[string]int) any {
	switch v := v.(type) {
	case string:
		return clean(v)
	case []string:
		out := make([]string, len(v))
		for i, s := range v {
			if i > 0 && secretFlagRe().MatchString(v[i-1]) && s != "" {
				counts["cli-credentials"]++
				out[i] = Redacted
				continue
			}
			out[i] = clean(s)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			if prev, ok := v[max(i-1, 0)].(string); i > 0 && ok && secretFlagRe().MatchString(prev) {
				if s, ok := e.(string); ok && s != "" {
					counts["cli-credentials"]++
					out[i] = Redacted
					continue
				}
			}
			out[i] = redactValue(e, clean, counts)
		}
		return out
	case map[string]any:
		return redactObserved(v, clean, counts)
	}
	return v
}
