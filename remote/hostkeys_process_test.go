package remote

import (
	"bufio"
	"crypto/ed25519"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

const acceptHelperEnv = "TRIAGE_TEST_ACCEPT_HELPER"

// acceptHelper is one of several processes accepting new host keys into
// the same known_hosts file at once, as separate triage runs would. It
// records hosts FIRST..LAST (given in the environment) and shares the
// hosts of the other processes, keyed so that all agree on each key.
func acceptHelper() int {
	file := os.Getenv("TRIAGE_TEST_KNOWN_HOSTS")
	hosts, _ := strconv.Atoi(os.Getenv("TRIAGE_TEST_HOSTS"))
	hk := &hostKeys{}
	for i := 0; i < hosts; i++ {
		port := 4000 + i
		// Every process derives the same key for the same host.
		seed := make([]byte, ed25519.SeedSize)
		copy(seed, fmt.Sprintf("host-%d", i))
		pub, err := ssh.NewPublicKey(ed25519.NewKeyFromSeed(seed).Public())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		hc := HostConfig{Alias: "127.0.0.1", HostName: "127.0.0.1", Port: port, KnownHostsFiles: []string{file}}
		cb, _, err := hk.callback(hc, AcceptNew)
		if err == nil {
			err = cb(fmt.Sprintf("[127.0.0.1]:%d", port), &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}, pub)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// TestHostKeyAcceptNewAcrossProcesses runs several processes that accept
// the same new hosts into one known_hosts file at the same time: the file
// lock keeps every line whole and each host recorded once.
func TestHostKeyAcceptNewAcrossProcesses(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	file := t.TempDir() + "/known_hosts"
	const procs, hosts = 4, 30
	var wg sync.WaitGroup
	outs := make([][]byte, procs)
	errs := make([]error, procs)
	for p := 0; p < procs; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(exe, "-test.run=^$")
			cmd.Env = append(os.Environ(), acceptHelperEnv+"=1", "TRIAGE_TEST_KNOWN_HOSTS="+file, "TRIAGE_TEST_HOSTS="+strconv.Itoa(hosts))
			outs[p], errs[p] = cmd.CombinedOutput()
		}()
	}
	wg.Wait()
	for p := range errs {
		if errs[p] != nil {
			t.Errorf("process %d: %v\n%s", p, errs[p], outs[p])
		}
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		_, hostsOnLine, _, _, _, err := ssh.ParseKnownHosts([]byte(line))
		if err != nil {
			t.Errorf("damaged line %q: %v", line, err)
			continue
		}
		seen[strings.Join(hostsOnLine, ",")]++
	}
	if len(seen) != hosts {
		t.Errorf("%d hosts recorded, want %d", len(seen), hosts)
	}
	for h, n := range seen {
		if n != 1 {
			t.Errorf("%s recorded %d times", h, n)
		}
	}
}
