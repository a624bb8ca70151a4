package pkgcheck

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// countingReaderAt counts the bytes read through it.
type countingReaderAt struct {
	r *bytes.Reader
	n atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

// statusIndex is a status file read whole, to check lookups against.
type statusIndex struct {
	db      []byte
	records map[string][]dpkgStatus
}

func indexStatus(t testing.TB, db []byte) *statusIndex {
	ix := &statusIndex{db: db, records: map[string][]dpkgStatus{}}
	if err := parseDpkgStatus(bytes.NewReader(db), func(st dpkgStatus) bool {
		ix.records[st.Package] = append(ix.records[st.Package], st)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return ix
}

// lookAndScan looks name up in a sorted status file and fails the test
// when the answer differs from what reading the whole file gives, or when
// the lookup is not conclusive for a package that has records there.
func (ix *statusIndex) lookAndScan(t testing.TB, name string) (bytesRead int64) {
	t.Helper()
	r := &countingReaderAt{r: bytes.NewReader(ix.db)}
	got, conclusive, err := lookDpkg(r, int64(len(ix.db)), name)
	if err != nil {
		t.Fatalf("lookDpkg(%q): %v", name, err)
	}
	pkg, arch := splitArch(name)
	if has := len(ix.records[pkg]) > 0; conclusive != has {
		t.Errorf("lookDpkg(%q): conclusive %v, but whether the file has records of %q: %v", name, conclusive, pkg, has)
	}
	var want []installedPkg
	for _, st := range ix.records[pkg] {
		if p, ok := dpkgMatch(st, pkg, arch); ok {
			want = append(want, p)
		}
	}
	if conclusive && !slices.Equal(got, want) {
		t.Errorf("lookDpkg(%q) = %+v, reading the whole file gives %+v", name, got, want)
	}
	return r.n.Load()
}

// TestLookDpkgRealDatabase looks up every package of this machine's dpkg
// database, and names that are not there, and compares each answer with
// reading the whole file; it also bounds how much of the file a lookup
// reads, which is what the bisection is for.
func TestLookDpkgRealDatabase(t *testing.T) {
	db, err := os.ReadFile(dpkgStatusPath)
	if err != nil {
		t.Skipf("no dpkg database here: %v", err)
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(db))
	for sc.Scan() {
		if name, ok := strings.CutPrefix(sc.Text(), "Package: "); ok {
			names = append(names, name)
		}
	}
	if len(names) < 50 || int64(len(db)) <= lookMinSize {
		t.Skipf("the dpkg database here is too small to bisect (%d packages, %d bytes)", len(names), len(db))
	}
	queries := slices.Clone(names)
	for _, n := range names {
		queries = append(queries, n+"-not-installed", n+":amd64", n+":i386")
	}
	queries = append(queries, "0", "a", "aaaa", "zzzz", "zzzz-not-installed", "~")
	ix := indexStatus(t, db)
	var most int64
	for _, q := range queries {
		most = max(most, ix.lookAndScan(t, q))
	}
	// Two rounds of probes and the last span: far from the whole file.
	if limit := int64(len(db)) / 4; most > limit {
		t.Errorf("a lookup read up to %d of %d bytes, want at most %d", most, len(db), limit)
	}
	t.Logf("%d lookups in a %d-byte database of %d packages: at most %d bytes read by one", len(queries), len(db), len(names), most)
}

// statusRecord writes a dpkg status record.
func statusRecord(name, arch, version, status string, extra int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Package: %s\nStatus: %s\nPriority: optional\nArchitecture: %s\nVersion: %s\nDescription: package %s\n", name, status, arch, version, name)
	for i := 0; i < extra; i++ {
		fmt.Fprintf(&b, " line %d of a long description of %s, as some packages have.\n", i, name)
	}
	return b.String() + "\n"
}

// syntheticStatus builds a sorted status file of n packages with the given
// records put in at their place in the order.
func syntheticStatus(n int, more ...string) []byte {
	records := slices.Clone(more)
	for i := range n {
		records = append(records, statusRecord(fmt.Sprintf("pkg%05d", i), "amd64", fmt.Sprintf("1.%d-1", i), "install ok installed", i%7))
	}
	slices.SortStableFunc(records, func(a, b string) int {
		na, _, _ := strings.Cut(a, "\n")
		nb, _, _ := strings.Cut(b, "\n")
		return strings.Compare(na, nb)
	})
	return []byte(strings.Join(records, ""))
}

func TestLookDpkgSynthetic(t *testing.T) {
	multiarch := []string{
		statusRecord("libc6", "amd64", "2.36-9", "install ok installed", 3),
		statusRecord("libc6", "i386", "2.36-9", "install ok installed", 3),
		statusRecord("oldpkg", "amd64", "0.9-1", "deinstall ok config-files", 0),
		statusRecord("halfdone", "amd64", "3.0-1", "install reinstreq half-installed", 0),
		// Records longer than a probe's window, so that a probe finds no
		// record start in what it reads first.
		statusRecord("huge", "all", "1.0", "install ok installed", 400),
		statusRecord("pkg00500a", "all", "5.0", "install ok installed", 900),
	}
	db := syntheticStatus(3000, multiarch...)
	if int64(len(db)) <= 4*lookMinSize {
		t.Fatalf("the synthetic database is too small: %d bytes", len(db))
	}
	ix := indexStatus(t, db)
	for _, q := range []string{"libc6", "libc6:i386", "libc6:amd64", "libc6:arm64", "oldpkg", "halfdone", "huge",
		"pkg00000", "pkg00001", "pkg00500", "pkg00500a", "pkg00501", "pkg02999", "pkg03000", "a", "zzz", "pkg00500b"} {
		ix.lookAndScan(t, q)
	}
	r := &countingReaderAt{r: bytes.NewReader(db)}
	got, _, _ := lookDpkg(r, int64(len(db)), "libc6")
	if len(got) != 2 || got[0].Arch != "amd64" || got[1].Arch != "i386" {
		t.Errorf("libc6: %+v, want the amd64 and i386 records", got)
	}
}

// TestLookDpkgNotAsDpkgWritesIt: in a file that is not sorted, or whose
// records do not start with Package:, a lookup is either right or not
// conclusive (the caller then reads the whole file), never wrong.
func TestLookDpkgNotAsDpkgWritesIt(t *testing.T) {
	sorted := syntheticStatus(3000)
	records := strings.SplitAfter(string(sorted), "\n\n")
	records = records[:len(records)-1] // the empty string after the last break

	reversed := slices.Clone(records)
	slices.Reverse(reversed)
	// One record moved far out of its place: the probes or the final read
	// see the order broken around it.
	moved := slices.Clone(records)
	moved[10], moved[len(moved)-10] = moved[len(moved)-10], moved[10]
	// Records that start with another field.
	reordered := make([]string, len(records))
	for i, rec := range records {
		first, rest, _ := strings.Cut(rec, "\n")
		reordered[i] = strings.Replace(rest, "Priority: optional\n", "Priority: optional\n"+first+"\n", 1)
	}

	for name, tc := range map[string]struct {
		db    string
		query string
	}{
		"reversed":           {strings.Join(reversed, ""), "pkg01000"},
		"one record swapped": {strings.Join(moved, ""), records[10][len("Package: "):len("Package: pkg00000")]},
		"Package not first":  {strings.Join(reordered, ""), "pkg01000"},
	} {
		t.Run(name, func(t *testing.T) {
			got, conclusive, err := lookDpkg(strings.NewReader(tc.db), int64(len(tc.db)), tc.query)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := scanDpkg(strings.NewReader(tc.db), tc.query)
			if len(want) == 0 {
				t.Fatalf("the test's file has no %q", tc.query)
			}
			if conclusive && !slices.Equal(got, want) {
				t.Errorf("lookDpkg(%q) answered %+v, the file has %+v", tc.query, got, want)
			}
		})
	}
}

// FuzzLookDpkg: for any sorted status file, the lookup answers what
// reading the whole file does.
func FuzzLookDpkg(f *testing.F) {
	f.Add("libc6,libc6,openssl,zlib1g", "libc6", uint16(40))
	f.Add("a,b,c", "b", uint16(3000))
	f.Fuzz(func(t *testing.T, names, query string, extra uint16) {
		var records []string
		for i, n := range strings.Split(names, ",") {
			if n == "" || strings.ContainsAny(n, " \t\r\n:") {
				continue
			}
			records = append(records, statusRecord(n, []string{"amd64", "i386"}[i%2], "1.0", "install ok installed", int(extra)%50+i%5))
		}
		slices.SortStableFunc(records, func(a, b string) int {
			na, _, _ := strings.Cut(a, "\n")
			nb, _, _ := strings.Cut(b, "\n")
			return strings.Compare(na, nb)
		})
		// Pad with records named after every other, so that bisection
		// runs: after the last name, whatever bytes it holds (a fixed
		// "~pad" would sort before a name such as "\xbb").
		last := ""
		if len(records) > 0 {
			last, _, _ = strings.Cut(records[len(records)-1], "\n")
			last = strings.TrimPrefix(last, "Package: ")
		}
		for i := 0; len(strings.Join(records, "")) < 2*lookMinSize && i < 5000; i++ {
			records = append(records, statusRecord(fmt.Sprintf("%s~pad%05d", last, i), "all", "1", "install ok installed", 5))
		}
		db := []byte(strings.Join(records, ""))
		indexStatus(t, db).lookAndScan(t, query)
	})
}
