package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/triage-dev/triage/remote"
	"github.com/triage-dev/triage/reports"
)

// User defaults: a config file ($XDG_CONFIG_HOME/triage/config.yaml, else
// the OS's config folder: ~/.config on Linux, ~/Library/Application Support
// on macOS, %AppData% on Windows) and TRIAGE_* environment variables set
// the defaults of some flags. A flag given on the command line wins over
// the environment, which wins over the file, which wins over the built-in
// default.
//
//	format: json            # TRIAGE_FORMAT: run, sweep, report render
//	parallel: 64            # TRIAGE_PARALLEL: hosts a sweep checks at once
//	host_key_policy: accept-new  # TRIAGE_HOST_KEY_POLICY: run, sweep
//	check_timeout: 30s      # TRIAGE_CHECK_TIMEOUT: run, sweep
//	host_timeout: 5m        # TRIAGE_HOST_TIMEOUT: run, sweep
//	report_dir: ~/reports   # TRIAGE_REPORT_DIR: where doctor saves reports (--out)

// setting is one key of the config file.
type setting struct {
	key      string   // in the file
	flag     string   // the flag whose default it sets
	commands []string // the commands (paths) it applies to
	check    func(string) error
}

var settings = []setting{
	{"format", "format", []string{"triage run", "triage sweep", "triage report render"}, checkFormat},
	{"parallel", "parallel", []string{"triage sweep"}, checkPositiveInt},
	{"host_key_policy", "host-key-policy", []string{"triage run", "triage sweep"}, func(s string) error {
		_, err := remote.ParseHostKeyPolicy(s)
		return err
	}},
	{"check_timeout", "check-timeout", []string{"triage run", "triage sweep"}, checkPositiveDuration},
	{"host_timeout", "host-timeout", []string{"triage run", "triage sweep"}, checkPositiveDuration},
	{"report_dir", "out", []string{"triage doctor"}, checkNotEmpty},
}

func (s setting) envName() string { return "TRIAGE_" + strings.ToUpper(s.key) }

func checkFormat(s string) error {
	if _, ok := reports.Lookup(s); !ok {
		return fmt.Errorf("unknown format %q (want %s)", s, strings.Join(reports.Formats(), ", "))
	}
	return nil
}

func checkPositiveInt(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return fmt.Errorf("want a whole number of at least 1, got %q", s)
	}
	return nil
}

func checkPositiveDuration(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return fmt.Errorf("want a positive duration such as 30s or 5m, got %q", s)
	}
	return nil
}

func checkNotEmpty(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("want a folder, got nothing")
	}
	return nil
}

// configPath is where the config file is looked for.
func configPath() string {
	if dir := os.Getenv("XDG_CONFIG_HOME"); dir != "" {
		return filepath.Join(dir, "triage", "config.yaml")
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "triage", "config.yaml")
}

// loadDefaults reads the config file (if any) and then the environment,
// and returns the value of each setting that is set, by key.
func loadDefaults() (map[string]string, error) {
	vals := map[string]string{}
	if path := configPath(); path != "" {
		data, err := os.ReadFile(path)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return nil, invalidInput(fmt.Errorf("cannot read the config file %s: %v", path, unwrapPathErr(err)), "")
		default:
			if err := parseConfig(path, data, vals); err != nil {
				return nil, err
			}
		}
	}
	for _, s := range settings {
		v, ok := os.LookupEnv(s.envName())
		if !ok || v == "" {
			continue
		}
		if err := s.check(v); err != nil {
			return nil, invalidInput(fmt.Errorf("%s: %v", s.envName(), err), "fix or unset the environment variable")
		}
		vals[s.key] = v
	}
	return vals, nil
}

func parseConfig(path string, data []byte, vals map[string]string) error {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file
		}
		return invalidInput(fmt.Errorf("%s: %v", path, strings.TrimPrefix(err.Error(), "yaml: ")), "")
	}
	if len(doc.Content) == 0 || (doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null") {
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return invalidInput(fmt.Errorf("%s:%d:%d: the config file is a mapping of settings, such as format: json", path, root.Line, root.Column), "")
	}
	keys := make([]string, len(settings), len(settings)+1)
	for i, s := range settings {
		keys[i] = s.key
	}
	keys = append(keys, destinationsKey)
	var problems []string
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value == destinationsKey {
			// Destinations to send reports to (send.go).
			_, ps := parseDestinations(path, v)
			problems = append(problems, ps...)
			continue
		}
		idx := slices.IndexFunc(settings, func(s setting) bool { return s.key == k.Value })
		if idx < 0 {
			problems = append(problems, fmt.Sprintf("%s:%d:%d: unknown setting %q; settings are %s", path, k.Line, k.Column, k.Value, strings.Join(keys, ", ")))
			continue
		}
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			problems = append(problems, fmt.Sprintf("%s:%d:%d: %s: want a single value", path, v.Line, v.Column, k.Value))
			continue
		}
		val := v.Value
		if k.Value == "report_dir" {
			val = expandHome(val)
		}
		if err := settings[idx].check(val); err != nil {
			problems = append(problems, fmt.Sprintf("%s:%d:%d: %s: %v", path, v.Line, v.Column, k.Value, err))
			continue
		}
		vals[k.Value] = val
	}
	if len(problems) > 0 {
		return invalidInput(errors.New(strings.Join(problems, "\n")), "fix the config file, or move it away")
	}
	return nil
}

func expandHome(p string) string {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return p
	}
	return filepath.Join(home, p[1:])
}

// applyDefaults sets the defaults of cmd's flags from the config file and
// the environment, leaving alone flags given on the command line.
func applyDefaults(cmd *cobra.Command) error {
	vals, err := loadDefaults()
	if err != nil {
		return err
	}
	for _, s := range settings {
		v, ok := vals[s.key]
		if !ok || !slices.Contains(s.commands, cmd.CommandPath()) {
			continue
		}
		f := cmd.Flags().Lookup(s.flag)
		if f == nil || f.Changed {
			continue
		}
		if err := f.Value.Set(v); err != nil {
			return invalidInput(fmt.Errorf("%s: %v", s.key, err), "")
		}
	}
	return nil
}
