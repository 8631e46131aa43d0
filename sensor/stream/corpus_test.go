package stream_test

import (
	"errors"
	"io"
	"testing"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/sensor/capture"
	"github.com/polder-nsm/polder/sensor/decode"
	"github.com/polder-nsm/polder/sensor/flow"
	"github.com/polder-nsm/polder/sensor/stream"
)

type tally struct {
	data, gap, gaps uint64
	big             []uint32
}

func (t *tally) Data(dir flow.Direction, b []byte) { t.data += uint64(len(b)) }
func (t *tally) Gap(dir flow.Direction, n uint32) {
	t.gap += uint64(n)
	t.gaps++
	if n > 1<<16 {
		t.big = append(t.big, n)
	}
}

// TestCorpus reassembles every TCP flow of every corpus pcap (flow table and
// reassembler as the pipeline uses them): no panic, every buffered byte is
// released when flows end, and it logs how much payload was delivered.
func TestCorpus(t *testing.T) {
	_, abs := corpus.Pcaps(t)
	var payload uint64
	h := new(tally)
	r := stream.NewReassembler(stream.DefaultOptions())
	for _, path := range abs {
		tb := flow.NewTable(flow.TableOptions{MaxFlows: 1 << 14})
		sessions := []*stream.Session{nil} // by flow.Ext
		end := func(f *flow.Flow, _ flow.EndReason) {
			if f.Ext != 0 {
				r.Close(sessions[f.Ext], h)
			}
		}
		src, err := capture.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var dec decode.Decoder
		var p decode.Packet
		var fr capture.Frame
		for {
			if err := src.ReadFrame(&fr); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Logf("%s: %v", path, err)
				}
				break
			}
			tb.Expire(fr.Timestamp, end)
			if dec.Decode(&p, &fr) != decode.ReasonNone || p.IPProto != decode.IPProtoTCP || p.Fragment {
				continue
			}
			f, dir := tb.Lookup(&p)
			if f == nil {
				continue
			}
			if f.Ext == 0 {
				sessions = append(sessions, new(stream.Session))
				f.Ext = uint32(len(sessions) - 1)
			}
			s := sessions[f.Ext]
			payload += uint64(len(p.Payload))
			r.Process(s, dir, &p, h)
		}
		src.Close()
		tb.Flush(end)
		if len(h.big) > 0 {
			t.Logf("%s: large gaps %v", path, h.big)
			h.big = h.big[:0]
		}
	}
	m := map[string]uint64{}
	r.Each(func(n string, v uint64) { m[n] = v })
	if m["tcp.reassembly_memuse"] != 0 {
		t.Errorf("tcp.reassembly_memuse %d after all flows ended", m["tcp.reassembly_memuse"])
	}
	t.Logf("TCP payload %d bytes; delivered %d, %d gaps of %d bytes; %v", payload, h.data, h.gaps, h.gap, m)
}
