//go:build linux

package faultlab

import (
	"encoding/binary"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// ntpEpochOffset is the seconds from 1900 (NTP's era 0) to 1970.
const ntpEpochOffset = 2208988800

// sntpServer answers SNTP requests with a clock that may be set off.
type sntpServer struct {
	pc     net.PacketConn
	offset atomic.Int64
	wg     sync.WaitGroup
}

func startSNTP(ns, addr string) (*sntpServer, error) {
	pc, err := listenPacketIn(ns, addr)
	if err != nil {
		return nil, err
	}
	s := &sntpServer{pc: pc}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

func (s *sntpServer) setOffset(d time.Duration) { s.offset.Store(int64(d)) }

func (s *sntpServer) serve() {
	defer s.wg.Done()
	buf := make([]byte, 512)
	for {
		n, from, err := s.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if n < 48 {
			continue
		}
		recv := time.Now().Add(time.Duration(s.offset.Load()))
		resp := make([]byte, 48)
		resp[0] = 0<<6 | 4<<3 | 4                            // no leap warning, version 4, server mode
		resp[1] = 2                                          // stratum 2
		resp[2] = buf[2]                                     // poll, as asked
		resp[3] = 0xec                                       // precision 2^-20 s
		binary.BigEndian.PutUint32(resp[4:], 0x00000100)     // root delay, 1/256 s
		binary.BigEndian.PutUint32(resp[8:], 0x00000100)     // root dispersion
		copy(resp[12:16], net.ParseIP(RouterInetAddr).To4()) // reference id: the upstream
		putNTPTime(resp[16:], recv.Add(-time.Minute))        // reference time
		copy(resp[24:32], buf[40:48])                        // origin: the client's transmit time
		putNTPTime(resp[32:], recv)
		putNTPTime(resp[40:], time.Now().Add(time.Duration(s.offset.Load())))
		_, _ = s.pc.WriteTo(resp, from)
	}
}

func putNTPTime(b []byte, t time.Time) {
	secs := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	binary.BigEndian.PutUint32(b, uint32(secs))
	binary.BigEndian.PutUint32(b[4:], uint32(frac))
}

func (s *sntpServer) close() {
	s.pc.Close()
	s.wg.Wait()
}
