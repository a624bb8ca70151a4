package remote

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestReadUpTo(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	readers := map[string]func([]byte) io.Reader{
		"whole":    func(b []byte) io.Reader { return bytes.NewReader(b) },
		"one byte": func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
		"halves":   func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) },
		"data+EOF": func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) },
	}
	for name, reader := range readers {
		for _, size := range []int{0, 1, 511, 512, 513, 4096, len(data)} {
			content := data[:size]
			// The right size, none (a /proc file), too small and too large
			// (the file changed after it was measured).
			for _, hint := range []int64{int64(size), 0, int64(size / 2), int64(size*2 + 7)} {
				for _, max := range []int64{int64(size) + 1, int64(size), 100, 1 << 20} {
					if name == "one byte" && size > 4096 {
						continue // slow, and nothing new
					}
					got, err := readUpTo(reader(content), hint, max)
					want := content[:min(int64(size), max)]
					if err != nil || !bytes.Equal(got, want) {
						t.Fatalf("%s, %d bytes, hint %d, max %d: %d bytes, %v; want %d bytes", name, size, hint, max, len(got), err, len(want))
					}
				}
			}
		}
	}
	failing := io.MultiReader(bytes.NewReader(data[:1000]), iotest.ErrReader(errors.New("connection lost")))
	if got, err := readUpTo(failing, 5000, 1<<20); err == nil || len(got) != 1000 {
		t.Errorf("failing reader: %d bytes, %v; want 1000 bytes and the error", len(got), err)
	}
}
