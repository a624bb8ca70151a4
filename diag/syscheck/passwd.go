package syscheck

import (
	"bufio"
	"bytes"
	"context"
	"strconv"
	"strings"

	"github.com/triage-dev/triage/diag"
)

// idNames maps user or group names to numeric ids and back, as read from
// the target's /etc/passwd or /etc/group. Name services beyond the files
// (LDAP, SSSD, systemd-homed) are not consulted: the target may be another
// machine, and its NSS configuration is not ours to run.
type idNames struct {
	byName map[string]int
	byID   map[int]string
}

// parseIDFile reads the colon-separated files passwd(5) and group(5):
// the name is the first field and the numeric id the third. Comments,
// NIS "+"/"-" lines and lines with a non-numeric id are skipped. When an
// id has several names, the first one listed is its name, as getpwuid
// returns it.
func parseIDFile(data []byte) idNames {
	n := idNames{byName: map[string]int{}, byID: map[int]string{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxTableFile)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			continue
		}
		f := strings.SplitN(line, ":", 4)
		if len(f) < 3 || f[0] == "" {
			continue
		}
		id, err := strconv.Atoi(f[2])
		if err != nil || id < 0 {
			continue
		}
		if _, dup := n.byName[f[0]]; !dup {
			n.byName[f[0]] = id
		}
		if _, dup := n.byID[id]; !dup {
			n.byID[id] = f[0]
		}
	}
	return n
}

// loadIDNames reads and parses one of the id files from the target.
func loadIDNames(ctx context.Context, t diag.Target, path string) (idNames, error) {
	data, err := readTargetFile(ctx, t, path, maxTableFile)
	if err != nil {
		return idNames{}, err
	}
	return parseIDFile(data), nil
}
