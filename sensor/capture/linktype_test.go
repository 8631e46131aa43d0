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
		{LinkTypeIEEE80211, "105 (IEEE 802.11)", true},
		{LinkTypeIEEE80211Radiotap, "127 (IEEE 802.11 with radiotap)", true},
		{LinkTypeNFLOG, "239 (Linux netfilter log (NFLOG))", true},
		{192, "192 (PPI)", false},
		{9999, "9999", false},
	} {
		if got := tc.l.String(); got != tc.want || tc.l.Supported() != tc.supported {
			t.Errorf("LinkType(%d): String %q Supported %v, want %q %v", tc.l, got, tc.l.Supported(), tc.want, tc.supported)
		}
	}
	if got := fmt.Sprintf("unsupported link type %v", LinkType(192)); got != "unsupported link type 192 (PPI)" {
		t.Errorf("message reads %q", got)
	}
}
