package diag

import (
	"strings"
	"testing"
	"testing/iotest"
)

// readTail keeps the end of a stream that cannot seek (a pipe, a device),
// read in small pieces as pipes deliver them.
func TestReadTailStream(t *testing.T) {
	in := strings.Repeat("abcdefghij", 10000)
	data, dropped, err := readTail(iotest.HalfReader(strings.NewReader(in)), 37)
	if err != nil || string(data) != in[len(in)-37:] || !dropped {
		t.Errorf("readTail = %q, %v, %v", data, dropped, err)
	}
	data, dropped, err = readTail(strings.NewReader("short"), 37)
	if err != nil || string(data) != "short" || dropped {
		t.Errorf("readTail of less than the limit = %q, %v, %v", data, dropped, err)
	}
}
