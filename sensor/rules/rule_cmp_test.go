package rules

import "testing"

func TestCmpOpMatch(t *testing.T) {
	for _, tc := range []struct {
		op   CmpOp
		x    uint64
		want bool
	}{
		{CmpEQ, 5, true}, {CmpEQ, 6, false}, {CmpNE, 6, true}, {CmpNE, 5, false},
		{CmpLT, 4, true}, {CmpLT, 5, false}, {CmpLE, 5, true}, {CmpLE, 6, false},
		{CmpGT, 6, true}, {CmpGT, 5, false}, {CmpGE, 5, true}, {CmpGE, 4, false},
		{CmpRange, 6, true}, {CmpRange, 5, false}, {CmpRange, 9, false}, {0, 5, false},
	} {
		if got := tc.op.Match(tc.x, 5, 9); got != tc.want {
			t.Errorf("op %d x %d (a 5, b 9): %v, want %v", tc.op, tc.x, got, tc.want)
		}
	}
}
