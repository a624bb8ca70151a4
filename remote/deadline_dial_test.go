package remote

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// TestHostDeadlineDuringHandshake: a host that accepts TCP and never
// speaks, reached under a caller's deadline shorter than the connect
// timeout (triage's --host-timeout), is a handshake timeout that says the
// host timeout was reached, not "cancelled while connecting".
func TestHostDeadlineDuringHandshake(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // accepted, and never a byte
		}
	}()
	defer func() {
		ln.Close()
		<-accepted
		for _, c := range held {
			c.Close()
		}
	}()

	e := newEnv(t)
	e.opts.ConnectTimeout = time.Minute
	d, err := NewDialer(e.opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	tg, err := d.Dial(ctx, "u@"+ln.Addr().String())
	if err == nil {
		tg.Close()
		t.Fatal("connected to a server that never speaks")
	}
	var ce *ConnectError
	if !errors.As(err, &ce) || ce.Kind != ErrHandshakeTimeout || !ce.Deadline {
		t.Fatalf("got %v (%T), want a handshake timeout at the caller's deadline", err, err)
	}
	if msg := err.Error(); !strings.Contains(msg, "host timeout was reached during the SSH handshake") || strings.Contains(msg, "cancelled") {
		t.Errorf("message %q", msg)
	}
	ce.Timeout = 5 * time.Second // as triage's host runner sets it
	if msg := err.Error(); !strings.Contains(msg, "host timeout (5s) was reached") {
		t.Errorf("message with the host timeout: %q", msg)
	}
	if ce.Hint() == "" {
		t.Error("no hint")
	}
}
