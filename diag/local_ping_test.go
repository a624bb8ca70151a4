package diag

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLocalPing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	local := NewLocal()
	var _ Pinger = local

	stats, err := local.Ping(ctx, PingRequest{Host: "127.0.0.1", Count: 2, Interval: 200 * time.Millisecond, Timeout: 3 * time.Second})
	if errors.Is(err, ErrPingNotPermitted) {
		t.Skipf("this system allows neither raw nor unprivileged ICMP sockets to this process: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if stats.Addr != "127.0.0.1" || stats.Sent != 2 || stats.Received != 2 || stats.AvgRTT <= 0 || stats.MinRTT > stats.MaxRTT {
		t.Errorf("stats %+v", stats)
	}

	if _, err := local.Ping(ctx, PingRequest{Host: "127.0.0.1", Count: 0, Timeout: time.Second}); err == nil {
		t.Error("a ping without a count was accepted: pro-bing would ping forever")
	}
	if _, err := local.Ping(ctx, PingRequest{Host: "127.0.0.1", Count: 1}); err == nil {
		t.Error("a ping without a timeout was accepted: pro-bing would wait forever")
	}

	cancelled, stop := context.WithCancel(ctx)
	stop()
	if _, err := local.Ping(cancelled, PingRequest{Host: "127.0.0.1", Count: 100, Interval: 200 * time.Millisecond, Timeout: time.Minute}); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled ping returned %v", err)
	}
}
