package eve

import (
	"net/netip"
	"testing"
	"time"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/internal/eveschema"
	"github.com/polder-nsm/polder/sensor/applayer/ssh"
)

// TestSSH: the ssh event as Suricata writes it, one side or both, and
// valid against the Suricata 8.0.6 schema whatever the banner held.
func TestSSH(t *testing.T) {
	v, err := eveschema.Load(corpus.Path(t, "schema", "schema-suricata-8.0.6.json"))
	if err != nil {
		t.Fatal(err)
	}
	h := &Header{
		Timestamp: time.Date(2013, 12, 20, 18, 45, 11, 961422000, time.UTC), FlowID: 2095808047731573, PcapCnt: 7,
		SrcIP: netip.MustParseAddr("10.0.0.1"), SrcPort: 61672, DstIP: netip.MustParseAddr("10.0.0.2"), DstPort: 22,
		Proto: 6, PktSrc: "wire/pcap", HasTxID: true, AppProto: "ssh",
	}
	both := &ssh.Session{
		Client: ssh.Endpoint{ProtoVersion: []byte("2.0"), SoftwareVersion: []byte("OpenSSH_5.3"), HasBanner: true},
		Server: ssh.Endpoint{ProtoVersion: []byte("1.99"), SoftwareVersion: []byte("OpenSSH_3.9p1"), HasBanner: true},
	}
	serverOnly := &ssh.Session{Server: ssh.Endpoint{ProtoVersion: []byte("2.0"), SoftwareVersion: []byte("x\"\x00\xff"), HasBanner: true}}
	tests := []struct {
		name string
		s    *ssh.Session
		want string
	}{
		{"both", both, `{"timestamp":"2013-12-20T18:45:11.961422+0000","flow_id":2095808047731573,"pcap_cnt":7,"event_type":"ssh","src_ip":"10.0.0.1","src_port":61672,"dest_ip":"10.0.0.2","dest_port":22,"proto":"TCP","pkt_src":"wire/pcap","tx_id":0,"app_proto":"ssh","ssh":{"client":{"proto_version":"2.0","software_version":"OpenSSH_5.3"},"server":{"proto_version":"1.99","software_version":"OpenSSH_3.9p1"}}}` + "\n"},
		{"server only, hostile", serverOnly, `{"timestamp":"2013-12-20T18:45:11.961422+0000","flow_id":2095808047731573,"pcap_cnt":7,"event_type":"ssh","src_ip":"10.0.0.1","src_port":61672,"dest_ip":"10.0.0.2","dest_port":22,"proto":"TCP","pkt_src":"wire/pcap","tx_id":0,"app_proto":"ssh","ssh":{"server":{"proto_version":"2.0","software_version":"x\"\u0000\\xff"}}}` + "\n"},
		{"none", &ssh.Session{}, `{"timestamp":"2013-12-20T18:45:11.961422+0000","flow_id":2095808047731573,"pcap_cnt":7,"event_type":"ssh","src_ip":"10.0.0.1","src_port":61672,"dest_ip":"10.0.0.2","dest_port":22,"proto":"TCP","pkt_src":"wire/pcap","tx_id":0,"app_proto":"ssh","ssh":{}}` + "\n"},
	}
	for _, tt := range tests {
		line := AppendSSH(nil, h, tt.s)
		if string(line) != tt.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tt.name, line, tt.want)
		}
		if err := v.Validate(line); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	buf := make([]byte, 0, 1024)
	if a := testing.AllocsPerRun(100, func() { buf = AppendSSH(buf[:0], h, both) }); a != 0 {
		t.Errorf("%v allocs", a)
	}
}
