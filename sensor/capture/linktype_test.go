package capture

import (
	"fmt"
	"testing"
)

func TestLinkTypeString(t *testing.T) {
	for _, tc := range []struct {
		l         LinkType
		want      string
		supported bool
	}{
		{LinkTypeEthernet, "1 (Ethernet)", true},
		{LinkTypeLinuxSLL2, "276 (Linux cooked v2)", true},
		{105, "105 (IEEE 802.11)", false},
		{9999, "9999", false},
	} {
		if got := tc.l.String(); got != tc.want || tc.l.Supported() != tc.supported {
			t.Errorf("LinkType(%d): String %q Supported %v, want %q %v", tc.l, got, tc.l.Supported(), tc.want, tc.supported)
		}
	}
	if got := fmt.Sprintf("unsupported link type %v", LinkType(105)); got != "unsupported link type 105 (IEEE 802.11)" {
		t.Errorf("message reads %q", got)
	}
}
