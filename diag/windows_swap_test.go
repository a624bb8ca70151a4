package diag

import "testing"

func TestSwapFromCommit(t *testing.T) {
	const gib = 1 << 30
	for _, tc := range []struct {
		name                                   string
		totalPhys, availPhys, totalPF, availPF uint64
		wantTotal, wantUsed                    uint64
	}{
		// Windows without a page file: the commit limit is a little
		// under physical memory.
		{"no page file", 16 * gib, 8 * gib, 16*gib - 300<<20, 7 * gib, 0, 0},
		// Wine on a Linux machine without swap: two pages over memory,
		// every one of them "used" (the figures Wine 8.0 gave).
		{"commit rounding", 25276506112, 24148959232, 25276514304, 24148959232, 0, 0},
		{"page file, unused", 16 * gib, 8 * gib, 20 * gib, 12 * gib, 4 * gib, 0},
		{"page file, half used", 16 * gib, 1 * gib, 20 * gib, 3 * gib, 4 * gib, 2 * gib},
		{"page file, overcommitted", 16 * gib, 0, 20 * gib, 0, 4 * gib, 4 * gib},
	} {
		total, used := swapFromCommit(tc.totalPhys, tc.availPhys, tc.totalPF, tc.availPF)
		if total != tc.wantTotal || used != tc.wantUsed {
			t.Errorf("%s: swap %d used of %d, want %d of %d", tc.name, used, total, tc.wantUsed, tc.wantTotal)
		}
	}
}
