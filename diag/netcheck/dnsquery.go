package netcheck

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/miekg/dns"

	"github.com/triage-dev/triage/diag"
)

// ednsSize is the UDP payload size advertised with EDNS0: the value DNS
// Flag Day 2020 settled on, which avoids IP fragmentation.
const ednsSize = 1232

// udpTries is how many times a UDP query is sent before giving up on a
// server, as a stub resolver retries lost datagrams.
const udpTries = 3

// dnsAnswer is a server's reply to one query.
type dnsAnswer struct {
	msg    *dns.Msg
	server string // host:port asked
	proto  string // udp or tcp, whichever gave the answer
	rtt    time.Duration
	notes  []string // how the answer was obtained, for the evidence
}

// queryFailure says why a server gave no answer at all.
type queryFailure int

const (
	queryTimeout    queryFailure = iota + 1 // nothing came back
	queryRefused                            // nothing listens on the port
	queryServerName                         // the server's own name did not resolve
	queryLocal                              // the query could not be sent
)

type queryError struct {
	kind   queryFailure
	server string
	err    error
	notes  []string
}

func (e *queryError) Error() string { return fmt.Sprintf("%s: %v", e.server, e.err) }
func (e *queryError) Unwrap() error { return e.err }

// newQuery builds a recursive query for name and type, with EDNS0 unless
// the server has shown it does not understand it.
func newQuery(name string, qtype uint16, edns bool) *dns.Msg {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	q.RecursionDesired = true
	if edns {
		q.SetEdns0(ednsSize, false)
	}
	return q
}

// exchange asks server (host:port) about name over connections the target
// opens: UDP first, TCP when the answer is truncated or the target cannot
// send UDP (an SSH target forwards TCP only).
func exchange(ctx context.Context, t diag.Target, server, name string, qtype uint16) (*dnsAnswer, error) {
	start := time.Now()
	a, err := exchangeOnce(ctx, t, server, newQuery(name, qtype, true))
	if err == nil && a.msg.Rcode == dns.RcodeFormatError && a.msg.IsEdns0() == nil {
		// A server from before EDNS0 rejects the OPT record; ask as dig
		// does, without it.
		notes := append(a.notes, "the server rejected EDNS0 (FORMERR); asked again without it")
		a, err = exchangeOnce(ctx, t, server, newQuery(name, qtype, false))
		if a != nil {
			a.notes = append(notes, a.notes...)
		}
	}
	if a != nil {
		a.rtt = time.Since(start)
	}
	return a, err
}

func exchangeOnce(ctx context.Context, t diag.Target, server string, q *dns.Msg) (*dnsAnswer, error) {
	conn, err := dialTarget(ctx, t, "udp", server)
	if err != nil {
		if ctx.Err() != nil {
			return nil, &queryError{queryTimeout, server, err, nil}
		}
		if classify(err) == problemDNS {
			return nil, &queryError{queryServerName, server, err, nil}
		}
		a, terr := exchangeTCP(ctx, t, server, q)
		note := fmt.Sprintf("UDP is not available from the target (%v); asked over TCP", err)
		return withNote(a, terr, note)
	}
	resp, err := exchangeUDP(ctx, conn, q)
	conn.Close()
	if err != nil {
		switch classify(err) {
		case problemRefused:
			return nil, &queryError{queryRefused, server, err, nil}
		case problemTimeout:
			return nil, &queryError{queryTimeout, server, err, nil}
		}
		if ctx.Err() != nil {
			return nil, &queryError{queryTimeout, server, err, nil}
		}
		return nil, &queryError{queryLocal, server, err, nil}
	}
	if resp.Truncated {
		a, terr := exchangeTCP(ctx, t, server, q)
		return withNote(a, terr, "the UDP answer was truncated; asked again over TCP")
	}
	return &dnsAnswer{msg: resp, server: server, proto: "udp"}, nil
}

func withNote(a *dnsAnswer, err error, note string) (*dnsAnswer, error) {
	if a != nil {
		a.notes = append([]string{note}, a.notes...)
	}
	var qe *queryError
	if errors.As(err, &qe) {
		qe.notes = append([]string{note}, qe.notes...)
	}
	return a, err
}

// exchangeUDP sends q and waits for its answer, sending it again when a
// try's share of the time passes in silence. Datagrams that do not answer
// this query (late answers to an earlier try, spoofing) are ignored.
func exchangeUDP(ctx context.Context, conn net.Conn, q *dns.Msg) (*dns.Msg, error) {
	packed, err := q.Pack()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, dns.MaxMsgSize)
	var lastErr error
	for try := 0; try < udpTries; try++ {
		if err := ctx.Err(); err != nil {
			return nil, errors.Join(err, lastErr)
		}
		if _, err := conn.Write(packed); err != nil {
			return nil, err
		}
		deadline := time.Now().Add(time.Second)
		if d, ok := ctx.Deadline(); ok {
			deadline = time.Now().Add(time.Until(d) / time.Duration(udpTries-try))
		}
		_ = conn.SetReadDeadline(deadline)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				lastErr = err
				break
			}
			resp := new(dns.Msg)
			if resp.Unpack(buf[:n]) != nil || !answers(q, resp) {
				continue
			}
			return resp, nil
		}
		var ne net.Error
		if !errors.As(lastErr, &ne) || !ne.Timeout() {
			return nil, lastErr
		}
	}
	return nil, lastErr
}

// exchangeTCP asks over TCP, where each message is preceded by its length.
func exchangeTCP(ctx context.Context, t diag.Target, server string, q *dns.Msg) (*dnsAnswer, error) {
	conn, err := dialTarget(ctx, t, "tcp", server)
	if err != nil {
		switch classify(err) {
		case problemRefused:
			return nil, &queryError{queryRefused, server, err, nil}
		case problemTimeout:
			return nil, &queryError{queryTimeout, server, err, nil}
		case problemDNS:
			return nil, &queryError{queryServerName, server, err, nil}
		}
		if ctx.Err() != nil {
			return nil, &queryError{queryTimeout, server, err, nil}
		}
		return nil, &queryError{queryLocal, server, err, nil}
	}
	defer conn.Close()
	packed, err := q.Pack()
	if err != nil {
		return nil, &queryError{queryLocal, server, err, nil}
	}
	frame := binary.BigEndian.AppendUint16(nil, uint16(len(packed)))
	if _, err := conn.Write(append(frame, packed...)); err != nil {
		return nil, tcpReadError(server, err)
	}
	for {
		var size [2]byte
		if _, err := io.ReadFull(conn, size[:]); err != nil {
			return nil, tcpReadError(server, err)
		}
		buf := make([]byte, binary.BigEndian.Uint16(size[:]))
		if _, err := io.ReadFull(conn, buf); err != nil {
			return nil, tcpReadError(server, err)
		}
		resp := new(dns.Msg)
		if err := resp.Unpack(buf); err != nil {
			return nil, &queryError{queryLocal, server, fmt.Errorf("unreadable answer: %w", err), nil}
		}
		if answers(q, resp) {
			return &dnsAnswer{msg: resp, server: server, proto: "tcp"}, nil
		}
	}
}

func tcpReadError(server string, err error) error {
	if classify(err) == problemTimeout {
		return &queryError{queryTimeout, server, err, nil}
	}
	// A server that accepts TCP and hangs up without answering has, as far
	// as a client can tell, given no answer.
	return &queryError{queryTimeout, server, fmt.Errorf("the server closed the TCP connection without answering: %w", err), nil}
}

// answers reports whether resp is the reply to q.
func answers(q, resp *dns.Msg) bool {
	if resp.Id != q.Id || !resp.Response {
		return false
	}
	if len(resp.Question) == 0 {
		// Some servers drop the question from error answers.
		return resp.Rcode != dns.RcodeSuccess
	}
	a, b := resp.Question[0], q.Question[0]
	return a.Qtype == b.Qtype && a.Qclass == b.Qclass && equalFoldASCII(a.Name, b.Name)
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
