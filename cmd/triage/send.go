package main

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
	"golang.org/x/term"

	"github.com/triage-dev/triage/reports"
	"github.com/triage-dev/triage/reports/send"
)

// Hand-off to a ticket system (docs/send.md). Destinations are named in
// the user's config file and in the organisation's config file beside
// its doctor.yaml (the user's win on a name clash):
//
//	destinations:
//	  helpdesk:
//	    type: rt
//	    url: https://rt.example.com
//	    credential: env:TRIAGE_RT_TOKEN   # or file:PATH; never the secret itself
//	    queue: Support
//	doctor_send: helpdesk               # organisation's file only: doctor offers it
//
// run, sweep and doctor take --send NAME (and --ticket ID to comment on a
// ticket rather than open one); 'triage send' sends saved reports and the
// outbox, where a message waits when it could not be delivered.

// systemConfigEnv points at the organisation's config file instead of
// the one beside doctor.yaml (for packagers and tests).
const systemConfigEnv = "TRIAGE_SYSTEM_CONFIG"

// destinationsKey and doctorSendKey are the config file keys of this file.
const (
	destinationsKey = "destinations"
	doctorSendKey   = "doctor_send"
)

// sendConfig is what the config files say about sending.
type sendConfig struct {
	dests map[string]*send.Destination
	// doctor is the destination doctor offers to send to, from the
	// organisation's file.
	doctor string
}

func systemConfigPath(getenv func(string) string) string {
	if p := getenv(systemConfigEnv); p != "" {
		return p
	}
	return filepath.Join(filepath.Dir(systemDoctorPlaybook(runtime.GOOS, getenv)), "config.yaml")
}

// loadSendConfig reads the destinations of the organisation's config file,
// then the user's.
func loadSendConfig(getenv func(string) string) (*sendConfig, error) {
	sc := &sendConfig{dests: map[string]*send.Destination{}}
	for i, path := range []string{systemConfigPath(getenv), configPath()} {
		if path == "" {
			continue
		}
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, invalidInput(fmt.Errorf("cannot read the config file %s: %v", path, unwrapPathErr(err)), "")
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, invalidInput(fmt.Errorf("%s: %v", path, strings.TrimPrefix(err.Error(), "yaml: ")), "")
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			continue
		}
		root := doc.Content[0]
		var problems []string
		for j := 0; j+1 < len(root.Content); j += 2 {
			k, v := root.Content[j], root.Content[j+1]
			switch {
			case k.Value == destinationsKey:
				ds, ps := parseDestinations(path, v)
				problems = append(problems, ps...)
				for _, d := range ds {
					d.Getenv = getenv
					sc.dests[d.Name] = d
				}
			case k.Value == doctorSendKey && i == 0:
				sc.doctor = v.Value
			}
		}
		if len(problems) > 0 {
			return nil, invalidInput(errors.New(strings.Join(problems, "\n")), "fix the config file, or move it away")
		}
	}
	if sc.doctor != "" && sc.dests[sc.doctor] == nil {
		return nil, invalidInput(fmt.Errorf("%s: %s: no destination named %q", systemConfigPath(getenv), doctorSendKey, sc.doctor), "")
	}
	return sc, nil
}

// destinationFields are the keys of one destination.
var destinationFields = []string{"type", "url", "credential", "auth", "queue", "project", "issue_type", "table", "method", "from", "to", "ca_file", "max_bytes", "timeout"}

// parseDestinations reads the destinations: mapping and reports each
// mistake as file:line:col. parseConfig calls it too, so that a plain
// run finds a broken destination as it finds any other mistake.
func parseDestinations(path string, node *yaml.Node) ([]*send.Destination, []string) {
	var out []*send.Destination
	var problems []string
	at := func(n *yaml.Node, format string, a ...any) {
		problems = append(problems, fmt.Sprintf("%s:%d:%d: ", path, n.Line, n.Column)+fmt.Sprintf(format, a...))
	}
	if node.Kind != yaml.MappingNode {
		at(node, "destinations: want a mapping of names to destinations, such as helpdesk: {type: rt, url: ...}")
		return nil, problems
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		name, body := node.Content[i], node.Content[i+1]
		if body.Kind != yaml.MappingNode {
			at(body, "destination %s: want its settings: type, url, credential...", name.Value)
			continue
		}
		d := &send.Destination{Name: name.Value}
		pos := map[string]*yaml.Node{}
		for j := 0; j+1 < len(body.Content); j += 2 {
			k, v := body.Content[j], body.Content[j+1]
			pos[k.Value] = v
			if k.Value == "to" && v.Kind == yaml.SequenceNode {
				for _, e := range v.Content {
					d.To = append(d.To, e.Value)
				}
				continue
			}
			if v.Kind != yaml.ScalarNode {
				at(v, "destination %s: %s: want a single value", name.Value, k.Value)
				continue
			}
			switch k.Value {
			case "type":
				d.Type = v.Value
			case "url":
				d.URL = v.Value
			case "credential":
				d.Credential = send.Credential{Source: v.Value}
			case "auth":
				d.Auth = v.Value
			case "queue":
				d.Queue = v.Value
			case "project":
				d.Project = v.Value
			case "issue_type":
				d.IssueType = v.Value
			case "table":
				d.Table = v.Value
			case "method":
				d.Method = strings.ToUpper(v.Value)
			case "from":
				d.From = v.Value
			case "to":
				d.To = []string{v.Value}
			case "ca_file":
				d.CAFile = expandHome(v.Value)
			case "max_bytes":
				n, err := strconv.ParseInt(v.Value, 10, 64)
				if err != nil || n < 1 {
					at(v, "destination %s: max_bytes: want a whole number of bytes", name.Value)
				}
				d.MaxBytes = n
			case "timeout":
				t, err := time.ParseDuration(v.Value)
				if err != nil || t <= 0 {
					at(v, "destination %s: timeout: want a positive duration such as 2m", name.Value)
				}
				d.Timeout = t
			default:
				at(k, "destination %s: unknown setting %q; settings are %s", name.Value, k.Value, strings.Join(destinationFields, ", "))
			}
		}
		for _, p := range d.Problems() {
			n := pos[p.Field]
			if n == nil {
				n = name
			}
			at(n, "destination %s: %s", name.Value, p.Error())
		}
		out = append(out, d)
	}
	return out, problems
}

// sendTarget is a destination ready to send: its sender is made, so its
// credential has been found.
type sendTarget struct {
	dest   *send.Destination
	sender send.Sender
}

// openDestination finds a destination by name and makes its sender; it
// is called before any check runs, so that a missing credential is found
// at once and not after a long sweep.
func openDestination(name string, getenv func(string) string) (*sendTarget, error) {
	sc, err := loadSendConfig(getenv)
	if err != nil {
		return nil, err
	}
	d := sc.dests[name]
	if d == nil {
		names := make([]string, 0, len(sc.dests))
		for n := range sc.dests {
			names = append(names, n)
		}
		sort.Strings(names)
		hint := "add it under destinations: in " + configPath() + " (see docs/send.md)"
		if len(names) > 0 {
			hint = "destinations: " + strings.Join(names, ", ")
		}
		return nil, usageErrorf(hint, "--send %s: no such destination", name)
	}
	return newSendTarget(d)
}

func newSendTarget(d *send.Destination) (*sendTarget, error) {
	s, err := send.New(d)
	if err != nil {
		return nil, sendError(err, "")
	}
	return &sendTarget{dest: d, sender: s}, nil
}

// sendError turns a send failure into one line, what to do, and the exit
// code: 3 when the destination could not be reached (trying again later
// may work), 65 when something must be fixed first.
func sendError(err error, waiting string) error {
	hint := ""
	code := exitInvalid
	switch {
	case errors.Is(err, send.ErrAuth):
		hint = "check the destination's credential (its environment variable or file) and that it may create tickets"
	case errors.Is(err, send.ErrNotFound):
		hint = "check the ticket number (--ticket), or the queue or project in the config file"
	case errors.Is(err, send.ErrTooLarge):
		hint = "send without --bundle, raise max_bytes if the system allows more, or attach the saved report by hand"
	case errors.Is(err, send.ErrUnavailable):
		code = exitError
		hint = "the server could not be reached; 'triage send --outbox' tries again"
	default:
		hint = "see the message above; docs/send.md lists what each system needs"
	}
	if waiting != "" {
		hint += "\nhint: the report waits in " + waiting
	}
	return &exitCodeError{code: code, err: fmt.Errorf("sending: %w", err), hint: hint}
}

// deliver sends a message, prints the receipt, and on failure keeps the
// message in the outbox so that nothing is lost.
func deliver(ctx context.Context, io *streams, st *sendTarget, m send.Message, toStdout bool) (send.Receipt, error) {
	rc, err := send.Deliver(ctx, st.dest, st.sender, m)
	if err != nil {
		waiting, oerr := outboxPut(st.dest.Name, m)
		if oerr != nil {
			io.warnf("cannot keep the report in the outbox: %v", oerr)
			waiting = ""
		}
		return rc, sendError(err, waiting)
	}
	line := receiptLine(st.dest.Name, rc)
	if toStdout {
		fmt.Fprintln(io.Out, line)
	} else {
		io.warnf("%s", line)
	}
	if rc.Note != "" {
		io.warnf("%s: %s", st.dest.Name, rc.Note)
	}
	return rc, nil
}

func receiptLine(dest string, rc send.Receipt) string {
	verb := "commented on"
	if rc.Created {
		verb = "created"
	}
	line := fmt.Sprintf("%s: %s ticket %s", dest, verb, rc.Ticket)
	if rc.URL != "" {
		line += " " + rc.URL
	}
	return line
}

// sendReport composes and sends a finished, redacted report: --send on
// run and sweep. A bundle written by the run is attached instead of the
// HTML and JSON reports.
func sendReport(ctx context.Context, io *streams, st *sendTarget, rep *reports.Report, rd *reports.Redactor, ticket, bundle string) error {
	if st == nil {
		return nil
	}
	opts := send.ComposeOptions{Redactor: again(rd), Ticket: ticket, BaseName: reportBaseName(ticket)}
	if bundle != "" {
		data, err := os.ReadFile(bundle)
		if err != nil {
			return &exitCodeError{code: exitError, err: fmt.Errorf("sending: cannot read the bundle: %v", unwrapPathErr(err))}
		}
		opts.Bundle, opts.BundleName = data, filepath.Base(bundle)
	}
	m, err := send.Compose(rep, opts)
	if err != nil {
		return &exitCodeError{code: exitError, err: fmt.Errorf("sending: %w", err)}
	}
	_, err = deliver(ctx, io, st, m, false)
	return err
}

// again is the redaction of a report that has been redacted once: the
// same rules, but names are not anonymized a second time (their tokens
// would change).
func again(rd *reports.Redactor) *reports.Redactor {
	if rd == nil {
		return nil
	}
	cp := *rd
	cp.Anonymize = false
	return &cp
}

func reportBaseName(ticket string) string {
	if ticket == "" {
		return "triage-report"
	}
	return "triage-report-" + safeFileName(ticket)
}

// safeFileName keeps letters, digits, dots and dashes.
func safeFileName(s string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		if r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '-'
	}, s), "-.")
}

// --- triage send ---------------------------------------------------------

type sendOptions struct {
	io     *streams
	Files  []string
	To     string
	Ticket string
	Outbox bool
	Getenv func(string) string
}

func newSendCmd(io *streams) *cobra.Command {
	opts := &sendOptions{io: io}
	cmd := &cobra.Command{
		Use:   "send FILE... --to NAME [--ticket ID]",
		Short: "Send saved reports to a ticket system",
		Long: `Send a saved report to a destination named in the config file: a new
ticket whose subject is the diagnosis' headline, or with --ticket a comment
on that ticket. The Markdown report is the text; the HTML and JSON reports
are attached, or the support bundle when a .tar.gz is given. Everything
is redacted again before it leaves, and a bundle holding anything that
looks like a secret is refused.

A FILE is a JSON report (from --report X.json, or doctor), a support
bundle (.tar.gz), or one of each.

Destinations and their credentials are set in the config file
(` + configPathForHelp() + `): the credential is read from an
environment variable or a file, never from the command line.

--outbox sends what is waiting: reports that could not be sent before.

Exit codes: 0 sent, 3 the destination could not be reached (the report
waits in the outbox), 64 bad usage, 65 invalid input, a refused
credential, a missing ticket or a report too large.`,
		Example: `  triage send INC-1234.json --to helpdesk
  triage send INC-1234.json INC-1234.tar.gz --to helpdesk --ticket 1234
  triage send --outbox`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			return sendRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.To, "to", "", "send to the destination `NAME` (from the config file)")
	f.StringVar(&opts.Ticket, "ticket", "", "comment on the existing ticket `ID` instead of opening one")
	f.BoolVar(&opts.Outbox, "outbox", false, "send the reports waiting in the outbox")
	_ = cmd.RegisterFlagCompletionFunc("to", completeDestinations)
	return cmd
}

func configPathForHelp() string {
	if p := configPath(); p != "" {
		return p
	}
	return "config.yaml in the user's config folder"
}

func completeDestinations(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	sc, err := loadSendConfig(os.Getenv)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []string
	for n := range sc.dests {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, cobra.ShellCompDirectiveNoFileComp
}

func sendRun(ctx context.Context, opts *sendOptions) error {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Outbox {
		if len(opts.Files) > 0 || opts.To != "" || opts.Ticket != "" {
			return usageErrorf("", "--outbox sends what waits, to where it was going: give no files, --to or --ticket")
		}
		return flushOutbox(ctx, opts.io, opts.Getenv, true)
	}
	if len(opts.Files) == 0 {
		return usageErrorf("for example: triage send INC-1234.json --to helpdesk", "send needs a report file (or --outbox)")
	}
	if opts.To == "" {
		return usageErrorf("for example: triage send "+opts.Files[0]+" --to helpdesk", "send needs a destination: --to NAME")
	}
	var reportPath, bundlePath string
	for _, f := range opts.Files {
		lower := strings.ToLower(f)
		switch {
		case strings.HasSuffix(lower, ".json") && reportPath == "":
			reportPath = f
		case (strings.HasSuffix(lower, ".tar.gz") || strings.HasSuffix(lower, ".tgz")) && bundlePath == "":
			bundlePath = f
		default:
			return usageErrorf("give one JSON report, one support bundle (.tar.gz), or one of each", "cannot send %s", f)
		}
	}
	st, err := openDestination(opts.To, opts.Getenv)
	if err != nil {
		return err
	}
	var rep *reports.Report
	var bundle []byte
	if bundlePath != "" {
		var inner *reports.Report
		bundle, inner, err = readBundle(bundlePath)
		if err != nil {
			return err
		}
		rep = inner
	}
	if reportPath != "" {
		if rep, err = readReportFile(opts.io.In, reportPath); err != nil {
			return err
		}
	}
	base := strings.TrimSuffix(filepath.Base(reportPath), filepath.Ext(reportPath))
	if reportPath == "" {
		base = reports.BundleFolder(bundlePath)
	}
	m, err := send.Compose(rep, send.ComposeOptions{Ticket: opts.Ticket, Bundle: bundle, BundleName: filepath.Base(bundlePath), BaseName: base})
	if err != nil {
		return &exitCodeError{code: exitError, err: fmt.Errorf("sending: %w", err)}
	}
	_, err = deliver(ctx, opts.io, st, m, true)
	return err
}

// maxBundle caps a bundle read for sending.
const maxBundle = 256 << 20

// readBundle reads a support bundle and its report, and refuses one that
// holds text the redaction rules would still replace: a bundle that did
// not come out of triage's redaction must not reach a ticket.
func readBundle(path string) ([]byte, *reports.Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, invalidInput(fmt.Errorf("cannot read %s: %v", path, unwrapPathErr(err)), "")
	}
	if len(data) > maxBundle {
		return nil, nil, invalidInput(fmt.Errorf("%s is larger than %d MB", path, maxBundle>>20), "")
	}
	bad := func(why string) error {
		return invalidInput(fmt.Errorf("%s: not a triage support bundle: %s", path, why), "send a bundle written by triage --bundle FILE.tar.gz")
	}
	zr, err := gzip.NewReader(strings.NewReader(string(data)))
	if err != nil {
		return nil, nil, bad(err.Error())
	}
	rd, _ := reports.NewRedactor()
	tr := tar.NewReader(zr)
	var rep *reports.Report
	var secrets []string
	var total int64
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, bad(err.Error())
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		total += h.Size
		if total > 4*maxBundle {
			return nil, nil, bad("it unpacks to too much")
		}
		content, err := io.ReadAll(io.LimitReader(tr, maxBundle))
		if err != nil {
			return nil, nil, bad(err.Error())
		}
		base := filepath.Base(h.Name)
		if base == "report.json" {
			if rep, err = reports.Read(strings.NewReader(string(content))); err != nil {
				return nil, nil, bad(err.Error())
			}
			// The report's own renderings say how many of each secret were
			// redacted ("password": 2), which the rules would take for a
			// secret: the report is checked on its model instead.
			before := fmt.Sprint(rep.Redactions)
			rd.Redact(rep)
			if fmt.Sprint(rep.Redactions) != before {
				secrets = append(secrets, h.Name)
			}
			continue
		}
		if base == "report.md" || base == "report.html" || base == "manifest.json" {
			continue
		}
		counts := map[string]int{}
		rd.String(string(content), counts)
		if len(counts) > 0 {
			secrets = append(secrets, h.Name)
		}
	}
	if rep == nil {
		return nil, nil, bad("it has no report.json")
	}
	if len(secrets) > 0 {
		return nil, nil, invalidInput(fmt.Errorf("%s: not sent: %s still holds what looks like a secret", path, strings.Join(secrets, ", ")),
			"write the bundle again with triage (run --bundle), which redacts it, or send the JSON report alone")
	}
	return data, rep, nil
}

// --- the outbox ------------------------------------------------------------

// outboxEntry is a message waiting for its destination. It holds only the
// redacted renderings, never a credential.
type outboxEntry struct {
	Schema      string       `json:"schema"`
	Destination string       `json:"destination"`
	Queued      time.Time    `json:"queued"`
	Message     send.Message `json:"message"`
}

const outboxSchema = "triage.outbox/v1"

// outboxDir is where unsent messages wait: beside the user's config file.
func outboxDir() string {
	p := configPath()
	if p == "" {
		return filepath.Join(os.TempDir(), "triage-outbox")
	}
	return filepath.Join(filepath.Dir(p), "outbox")
}

func outboxPut(dest string, m send.Message) (string, error) {
	dir := outboxDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	data, err := json.Marshal(outboxEntry{Schema: outboxSchema, Destination: dest, Queued: time.Now().UTC(), Message: m})
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%s.json", time.Now().UTC().Format("20060102T150405.000000000"), safeFileName(dest)))
	if err := reports.WriteFileAtomic(path, data, 0o600); err != nil {
		return "", err
	}
	return path, nil
}

func outboxList() ([]string, error) {
	m, err := filepath.Glob(filepath.Join(outboxDir(), "*.json"))
	sort.Strings(m)
	return m, err
}

// flushOutbox sends every waiting message, oldest first; a sent one is
// removed, one that fails stays. loud prints receipts on stdout and an
// empty outbox; doctor calls it quietly.
func flushOutbox(ctx context.Context, io *streams, getenv func(string) string, loud bool) error {
	paths, err := outboxList()
	if err != nil {
		return &exitCodeError{code: exitError, err: err}
	}
	if len(paths) == 0 {
		if loud {
			fmt.Fprintln(io.Out, "the outbox is empty")
		}
		return nil
	}
	sc, err := loadSendConfig(getenv)
	if err != nil {
		return err
	}
	var firstErr error
	for _, p := range paths {
		data, err := os.ReadFile(p)
		var e outboxEntry
		if err == nil {
			err = json.Unmarshal(data, &e)
		}
		if err != nil || e.Schema != outboxSchema {
			io.warnf("outbox: %s is not a waiting report; left alone", p)
			continue
		}
		d := sc.dests[e.Destination]
		if d == nil {
			io.warnf("outbox: %s: the destination %s is no longer in the config file; left in the outbox", filepath.Base(p), e.Destination)
			if firstErr == nil {
				firstErr = &exitCodeError{code: exitInvalid, hint: "add the destination back, or remove the file"}
			}
			continue
		}
		st, err := newSendTarget(d)
		if err == nil {
			var rc send.Receipt
			rc, err = send.Deliver(ctx, d, st.sender, e.Message)
			if err == nil {
				os.Remove(p)
				line := receiptLine(d.Name, rc)
				if loud {
					fmt.Fprintln(io.Out, line)
				} else {
					io.warnf("sent the report that was waiting: %s", line)
				}
				continue
			}
			err = sendError(err, p)
		}
		var ee *exitCodeError
		if errors.As(err, &ee) {
			io.warnf("%v", ee.err)
			fmt.Fprintf(io.Err, "hint: %s\n", ee.hint)
			if firstErr == nil {
				firstErr = &exitCodeError{code: ee.code}
			}
		}
	}
	return firstErr
}

// --- doctor ----------------------------------------------------------------

// doctorSendTimeout bounds doctor's hand-off: an end user offline must not
// wait minutes.
const doctorSendTimeout = 30 * time.Second

// doctorHandOff is doctor's last step: send what waits in the outbox,
// then offer to send this report to the organisation's help desk (once,
// only when a person is there to answer), or send it with --send.
func doctorHandOff(ctx context.Context, opts *doctorOptions, rep *reports.Report, rd *reports.Redactor) error {
	interactive := opts.Interactive
	if interactive == nil {
		interactive = func() bool {
			f, ok := opts.io.In.(*os.File)
			return ok && term.IsTerminal(int(f.Fd())) && opts.io.ErrIsTTY
		}
	}
	var st *sendTarget
	var err error
	switch {
	case opts.Send != "":
		if st, err = openDestination(opts.Send, opts.Getenv); err != nil {
			return err
		}
	default:
		sc, err := loadSendConfig(opts.Getenv)
		if err != nil {
			// The checks are done and saved: a broken config file must
			// not turn them into a failure.
			var ee *exitCodeError
			if errors.As(err, &ee) && ee.err != nil {
				opts.io.warnf("not offering to send the report: %v", ee.err)
			}
			return nil
		}
		if sc.doctor == "" || !interactive() {
			return nil
		}
		fmt.Fprint(opts.io.Err, "\nSend this report to the help desk? [Y/n] ")
		answer, _ := bufio.NewReader(opts.io.In).ReadString('\n')
		switch strings.ToLower(strings.TrimSpace(answer)) {
		case "", "y", "yes":
		default:
			fmt.Fprintln(opts.io.Err, "Not sent. The report is saved above; attach it to your ticket.")
			return nil
		}
		if st, err = newSendTarget(sc.dests[sc.doctor]); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, doctorSendTimeout)
	defer cancel()
	if paths, _ := outboxList(); len(paths) > 0 {
		_ = flushOutbox(ctx, opts.io, opts.Getenv, false)
	}
	d := *st.dest
	if d.Timeout == 0 || d.Timeout > doctorSendTimeout {
		d.Timeout = doctorSendTimeout
	}
	m, err := send.Compose(rep, send.ComposeOptions{Redactor: again(rd), Ticket: opts.Ticket})
	if err != nil {
		return &exitCodeError{code: exitError, err: fmt.Errorf("sending: %w", err)}
	}
	rc, err := send.Deliver(ctx, &d, st.sender, m)
	if err != nil {
		waiting, oerr := outboxPut(d.Name, m)
		if oerr == nil && errors.Is(err, send.ErrUnavailable) {
			fmt.Fprintf(opts.io.Out, "\nThe help desk could not be reached, so the report was not sent yet.\n"+
				"It will be sent the next time you run triage doctor, or with: triage send --outbox\n")
			return &exitCodeError{code: exitError}
		}
		if oerr != nil {
			waiting = ""
		}
		return sendError(err, waiting)
	}
	if rc.Created {
		fmt.Fprintf(opts.io.Out, "\nSent to the help desk. Your ticket number is %s: read it to the person helping you.\n", rc.Ticket)
	} else {
		fmt.Fprintf(opts.io.Out, "\nSent to the help desk and added to ticket %s.\n", rc.Ticket)
	}
	if rc.URL != "" {
		fmt.Fprintf(opts.io.Out, "  %s\n", rc.URL)
	}
	return nil
}
