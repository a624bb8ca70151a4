package pkgcheck

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"sync"
)

// Searching dpkg's status file without reading all of it.
//
// dpkg writes the file sorted by package name: writedb (lib/dpkg/dump.c)
// sorts the records with pkg_sorter_by_nonambig_name_arch, which compares
// the names with strcmp, then orders a name's architectures. So one
// package's records can be found as look(1) finds a word in a sorted list,
// by bisecting on byte offsets. Over SSH that is the difference between
// reading a whole database for every host of a sweep (0.8 MB on a small
// server, megabytes on a desktop) and reading a few dozen KiB.
//
// Each round probes several offsets at once, so that the reads go out
// together and the round costs one round trip however many probes it
// makes: a 0.8 MB database takes two rounds, then one read of the last
// span. The order of what the probes see is checked as it goes, but a
// record out of place (a hand-edited file) can only be missed, never made
// up: so a package the bisection does not find is looked for again by
// reading the whole file, as is a file not laid out as dpkg writes it.
const (
	lookProbes  = 8        // offsets probed per round; the span shrinks by this much
	lookWindow  = 4 << 10  // bytes read per probe to find where a record starts
	lookSpan    = 16 << 10 // bisect down to a span this small, then read it in order
	lookMinSize = 64 << 10 // a smaller file is read whole: bisecting would not save a round trip
)

// errLayout says the file is not laid out as dpkg writes its status file.
var errLayout = errors.New("not sorted by package name as dpkg writes it")

// lookDpkg finds the installed (or broken) records of name ("pkg" or
// "pkg:arch") in dpkg's status file, read through r, of size bytes. The
// answer is conclusive when the file was laid out as dpkg writes it and
// has records of pkg (of any architecture, in any state); otherwise the
// caller reads the whole file.
func lookDpkg(r io.ReaderAt, size int64, name string) (out []installedPkg, conclusive bool, err error) {
	pkg, arch := splitArch(name)
	lo, hi := int64(0), size // records named pkg start in [lo, hi] or at hiStart
	loName, hiName := "", "" // the names of the records at lo and hiStart ("" for none)
	for hi-lo > lookSpan {
		probes := make([]recordProbe, lookProbes-1)
		step := (hi - lo) / lookProbes
		var wg sync.WaitGroup
		for i := range probes {
			probes[i].at = lo + int64(i+1)*step
			wg.Go(func() { probes[i].find(r, hi) })
		}
		wg.Wait()
		newLo, newHi, newHiName := lo, hi, hiName
		prev, bounded := loName, false
		for _, p := range probes {
			if p.err != nil {
				if errors.Is(p.err, errLayout) {
					return nil, false, nil
				}
				return nil, false, p.err
			}
			if !p.found {
				// No record starts in [p.at, hi), nor after any later probe.
				if !bounded {
					newHi, bounded = p.at, true
				}
				break
			}
			if p.name < prev || (hiName != "" && p.name > hiName) {
				return nil, false, nil
			}
			prev = p.name
			switch {
			case p.name < pkg:
				newLo, loName = p.start, p.name
			case !bounded:
				// The first record named pkg or later: records named pkg
				// start before p.at, or at p.start (none start between).
				newHi, newHiName, bounded = p.at, p.name, true
			}
		}
		lo, hi, hiName = newLo, newHi, newHiName
	}

	// Read on from lo, in order, to the first record named after pkg.
	sorted, seen := true, false
	prev := loName
	section := bufio.NewReaderSize(io.NewSectionReader(r, lo, size-lo), 2*lookSpan)
	err = parseDpkgStatus(section, func(st dpkgStatus) bool {
		if st.Package < prev {
			sorted = false
			return false
		}
		prev = st.Package
		if st.Package > pkg {
			return false
		}
		seen = seen || st.Package == pkg
		if p, ok := dpkgMatch(st, pkg, arch); ok {
			out = append(out, p)
		}
		return true
	})
	if err != nil {
		return nil, false, err
	}
	if !sorted || !seen {
		return nil, false, nil
	}
	return out, true, nil
}

// recordProbe finds the first record that starts at or after at.
type recordProbe struct {
	at    int64
	start int64  // where the record starts
	name  string // its package name
	found bool   // false: none starts before the end of the span
	err   error
}

var (
	recordBreak   = []byte("\n\n")
	packagePrefix = []byte("Package:")
)

// find reads from at (from the byte before it, to see a record break
// that ends there) until a record starts, and reads the record's first
// line, which dpkg always writes as "Package: name". end is where the span
// searched ends.
func (p *recordProbe) find(r io.ReaderAt, end int64) {
	buf := make([]byte, lookWindow)
	var chunk []byte       // what the last read gave
	pos, skip := p.at-1, 0 // skip: bytes of chunk before the record
	if p.at == 0 {
		pos = 0
	}
	for {
		if pos >= end {
			return
		}
		n, err := r.ReadAt(buf, pos)
		if err != nil && err != io.EOF {
			p.err = err
			return
		}
		chunk = buf[:n]
		if p.at == 0 {
			break
		}
		if i := bytes.Index(chunk, recordBreak); i >= 0 {
			skip = i + len(recordBreak)
			break
		}
		if err == io.EOF || n < len(recordBreak) {
			return
		}
		pos += int64(n - 1) // keep the last byte: a break may straddle two reads
	}
	p.start = pos + int64(skip)
	if p.start >= end {
		return
	}
	// The record's first line, from what was read if it is all there.
	line := chunk[skip:]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	} else {
		n, err := r.ReadAt(buf, p.start)
		if err != nil && err != io.EOF {
			p.err = err
			return
		}
		line = buf[:n]
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		} else if err != io.EOF {
			p.err = errLayout // a first line longer than a package name can be
			return
		}
	}
	name, ok := bytes.CutPrefix(line, packagePrefix)
	name = bytes.TrimSpace(name)
	if !ok || len(name) == 0 {
		p.err = errLayout
		return
	}
	p.name, p.found = string(name), true
}
