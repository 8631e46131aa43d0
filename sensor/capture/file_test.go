package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/polder-nsm/polder/internal/corpus"
)

// oracleFrame is what both readers must agree on for one frame.
type oracleFrame struct {
	caplen, origlen int
	ts              time.Time
	link            LinkType
	data            []byte
}

// readOracle reads a whole file with gopacket's pcapgo, which the tests use
// as the reference implementation (and only the tests: it allocates per
// frame). It returns the frames it read and the error that stopped it.
func readOracle(t *testing.T, data []byte) ([]oracleFrame, error) {
	t.Helper()
	var src interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	link := func(ci gopacket.CaptureInfo) LinkType { return 0 }
	if len(data) >= 4 && le32(data) == ngBlockSHB {
		r, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return nil, err
		}
		src = r
		link = func(ci gopacket.CaptureInfo) LinkType { return LinkType(ci.AncillaryData[0].(layers.LinkType)) }
	} else {
		r, err := pcapgo.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		lt := LinkType(r.LinkType())
		src = r
		link = func(gopacket.CaptureInfo) LinkType { return lt }
	}
	var out []oracleFrame
	for {
		d, ci, err := src.ReadPacketData()
		if err != nil {
			return out, err
		}
		out = append(out, oracleFrame{ci.CaptureLength, ci.Length, ci.Timestamp, link(ci), d})
	}
}

// readAll reads a whole file with File and returns frames and the final error.
func readAll(t testing.TB, data []byte) ([]oracleFrame, error) {
	out, _, err := readAllEnds(t, data)
	return out, err
}

// readAllEnds also returns the byte offset at which each frame's record or
// block ends (Progress after the frame).
func readAllEnds(t testing.TB, data []byte) ([]oracleFrame, []int64, error) {
	c, err := NewFileReader(bufio.NewReaderSize(bytes.NewReader(data), 4096), "test", int64(len(data)))
	if err != nil {
		return nil, nil, err
	}
	var out []oracleFrame
	var ends []int64
	var f Frame
	for {
		if err := c.ReadFrame(&f); err != nil {
			if uint64(len(out)) != c.Frames() {
				t.Errorf("Frames() = %d, returned %d", c.Frames(), len(out))
			}
			return out, ends, err
		}
		out = append(out, oracleFrame{len(f.Data), f.OrigLen, f.Timestamp, f.LinkType, bytes.Clone(f.Data)})
		read, _ := c.Progress()
		ends = append(ends, read)
	}
}

func TestCorpusMatchesPcapgo(t *testing.T) {
	rel, abs := corpus.Pcaps(t)
	if len(rel) < 700 {
		t.Fatalf("corpus has %d pcaps, want about 775", len(rel))
	}
	var frames, files int
	for i := range rel {
		t.Run(rel[i], func(t *testing.T) {
			data, err := os.ReadFile(abs[i])
			if err != nil {
				t.Fatal(err)
			}
			want, werr := readOracle(t, data)
			got, gerr := readAll(t, data)
			if werr == io.EOF && gerr != io.EOF {
				t.Errorf("pcapgo read the file cleanly, we stopped with %v", gerr)
			}
			if werr != io.EOF {
				t.Logf("pcapgo stopped after %d frames: %v; we: %d frames, %v", len(want), werr, len(got), gerr)
				if gerr == io.EOF || gerr == nil {
					t.Errorf("pcapgo reported damage (%v), we read cleanly", werr)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("read %d frames, pcapgo read %d", len(got), len(want))
			}
			for j := range want {
				g, w := got[j], want[j]
				tsOK := g.ts.Equal(w.ts) || w.ts.IsZero() // simple packet blocks: pcapgo gives zero time, we repeat the last
				if g.caplen != w.caplen || g.origlen != w.origlen || !tsOK || g.link != w.link || !bytes.Equal(g.data, w.data) {
					t.Fatalf("frame %d: got caplen %d origlen %d ts %v link %v; pcapgo caplen %d origlen %d ts %v link %v (data equal %v)",
						j, g.caplen, g.origlen, g.ts.UTC(), g.link, w.caplen, w.origlen, w.ts.UTC(), w.link, bytes.Equal(g.data, w.data))
				}
			}
			frames += len(got)
			files++
		})
	}
	t.Logf("%d files, %d frames agree with pcapgo", files, frames)
}

func TestOpenFileProgress(t *testing.T) {
	_, abs := corpus.Pcaps(t)
	c, err := OpenFile(abs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, _ := os.Stat(abs[0])
	var f Frame
	for c.ReadFrame(&f) == nil {
	}
	read, total := c.Progress()
	if total != st.Size() || read != total {
		t.Errorf("Progress() = %d, %d; want %d, %d", read, total, st.Size(), st.Size())
	}
}

func TestOpenFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := dir + "/" + name
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"missing", dir + "/nope.pcap", "no such file"},
		{"empty", write("empty.pcap", nil), "empty file"},
		{"short", write("short.pcap", []byte{0xd4, 0xc3}), "too short"},
		{"text", write("text.pcap", []byte("hello world, not a pcap")), "unknown magic number 0x6c6c6568"},
		{"header cut", write("cut.pcap", pcapFile(binary.LittleEndian, false, 1, nil)[:20]), "truncated file header at offset 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := OpenFile(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("OpenFile: %v, want error containing %q", err, tc.want)
			}
		})
	}
}

// ---- hand-built fixtures ----

type rec struct {
	sec, frac uint32
	data      []byte
	origlen   uint32 // 0: len(data)
}

func pcapFile(bo binary.ByteOrder, nano bool, link uint32, recs []rec) []byte {
	var b bytes.Buffer
	magic := uint32(magicMicroLE)
	if nano {
		magic = magicNanoLE
	}
	binary.Write(&b, bo, magic)
	binary.Write(&b, bo, uint16(2))
	binary.Write(&b, bo, uint16(4))
	binary.Write(&b, bo, int32(0))
	binary.Write(&b, bo, uint32(0))
	binary.Write(&b, bo, uint32(65535))
	binary.Write(&b, bo, link)
	for _, r := range recs {
		ol := r.origlen
		if ol == 0 {
			ol = uint32(len(r.data))
		}
		binary.Write(&b, bo, []uint32{r.sec, r.frac, uint32(len(r.data)), ol})
		b.Write(r.data)
	}
	return b.Bytes()
}

// kuznetsov builds a "modified" pcap: magic 0xa1b2cd34 and 24-byte record
// headers (ifindex, protocol, pkt_type, padding after the usual 16 bytes).
func kuznetsov() []byte {
	b := pcapFile(binary.LittleEndian, false, 1, nil)
	binary.LittleEndian.PutUint32(b, magicKuznetLE)
	b = binary.LittleEndian.AppendUint32(b, 5)
	b = binary.LittleEndian.AppendUint32(b, 6)
	b = binary.LittleEndian.AppendUint32(b, 10)
	b = binary.LittleEndian.AppendUint32(b, 10)
	b = append(b, 2, 0, 0, 0, 0, 8, 0, 0) // ifindex 2, protocol 0x0800, pkt_type 0
	return append(b, bytes.Repeat([]byte{10}, 10)...)
}

// ngBuilder writes pcapng blocks in one byte order.
type ngBuilder struct {
	bo binary.ByteOrder
	b  bytes.Buffer
}

func (n *ngBuilder) block(typ uint32, body []byte) {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	l := uint32(12 + len(body))
	binary.Write(&n.b, n.bo, typ)
	binary.Write(&n.b, n.bo, l)
	n.b.Write(body)
	binary.Write(&n.b, n.bo, l)
}

func (n *ngBuilder) put(vs ...any) []byte {
	var b bytes.Buffer
	for _, v := range vs {
		if bs, ok := v.([]byte); ok {
			b.Write(bs)
			for b.Len()%4 != 0 {
				b.WriteByte(0)
			}
			continue
		}
		binary.Write(&b, n.bo, v)
	}
	return b.Bytes()
}

func (n *ngBuilder) shb() {
	n.block(ngBlockSHB, n.put(uint32(ngByteOrder), uint16(1), uint16(0), int64(-1)))
}

// idb adds an interface; tsresol < 0 leaves the option out.
func (n *ngBuilder) idb(link uint16, snaplen uint32, tsresol int, tsoffset int64) {
	body := n.put(link, uint16(0), snaplen)
	if tsresol >= 0 {
		body = append(body, n.put(uint16(ngOptTsresol), uint16(1), []byte{byte(tsresol)})...)
	}
	if tsoffset != 0 {
		body = append(body, n.put(uint16(ngOptTsoffset), uint16(8), tsoffset)...)
	}
	body = append(body, n.put(uint16(0), uint16(0))...)
	n.block(ngBlockIDB, body)
}

func (n *ngBuilder) epb(iface uint32, ts uint64, data []byte, origlen uint32) {
	n.block(ngBlockEPB, n.put(iface, uint32(ts>>32), uint32(ts), uint32(len(data)), origlen, data))
}

func TestHandBuiltFiles(t *testing.T) {
	pkt := func(n int) []byte { return bytes.Repeat([]byte{byte(n)}, n) }

	twoIfaces := func(bo binary.ByteOrder) []byte {
		n := &ngBuilder{bo: bo}
		n.shb()
		n.idb(1, 0, 9, 0)                                  // Ethernet, ns
		n.idb(101, 128, 0x80|10, 1000000000)               // raw IP, 2^-10 s, +1e9 s
		n.block(5, n.put(uint32(0), uint32(0), uint32(0))) // interface statistics: skipped
		n.block(0x0bad, []byte("unknown block type"))      // unknown: skipped
		n.epb(0, 1_700_000_000_123_456_789, pkt(60), 60)
		n.epb(1, 3<<10|512, pkt(40), 1500)
		n.block(ngBlockSPB, n.put(uint32(70), pkt(70)))
		n.block(ngBlockPB, n.put(uint16(1), uint16(0), uint32(0), uint32(5<<10), uint32(20), uint32(20), pkt(20)))
		// A second section in the other byte order with its own interfaces.
		other := binary.ByteOrder(binary.BigEndian)
		if bo == binary.BigEndian {
			other = binary.LittleEndian
		}
		m := &ngBuilder{bo: other}
		m.shb()
		m.idb(113, 0, -1, 0) // Linux SLL, default µs
		m.epb(0, 42_000_001, pkt(30), 30)
		return append(n.b.Bytes(), m.b.Bytes()...)
	}
	wantNG := []oracleFrame{
		{60, 60, time.Unix(1_700_000_000, 123_456_789), LinkTypeEthernet, nil},
		{40, 1500, time.Unix(1_000_000_003, 500_000_000), LinkTypeRaw, nil},
		{70, 70, time.Unix(1_000_000_003, 500_000_000), LinkTypeEthernet, nil}, // SPB: interface 0, previous time
		{20, 20, time.Unix(1_000_000_005, 0), LinkTypeRaw, nil},
		{30, 30, time.Unix(42, 1000), LinkTypeLinuxSLL, nil},
	}

	for _, tc := range []struct {
		name string
		data []byte
		want []oracleFrame
	}{
		{"pcap µs little-endian", pcapFile(binary.LittleEndian, false, 1, []rec{{10, 999999, pkt(64), 0}, {11, 1, pkt(14), 1514}}),
			[]oracleFrame{{64, 64, time.Unix(10, 999999000), 1, nil}, {14, 1514, time.Unix(11, 1000), 1, nil}}},
		{"pcap µs big-endian", pcapFile(binary.BigEndian, false, 101, []rec{{10, 5, pkt(20), 0}}),
			[]oracleFrame{{20, 20, time.Unix(10, 5000), LinkTypeRaw, nil}}},
		{"pcap ns little-endian", pcapFile(binary.LittleEndian, true, 1, []rec{{10, 999999999, pkt(64), 0}}),
			[]oracleFrame{{64, 64, time.Unix(10, 999999999), 1, nil}}},
		{"pcap ns big-endian", pcapFile(binary.BigEndian, true, 276, []rec{{7, 123456789, pkt(33), 0}}),
			[]oracleFrame{{33, 33, time.Unix(7, 123456789), LinkTypeLinuxSLL2, nil}}},
		{"pcap unsupported link type passes through", pcapFile(binary.LittleEndian, false, 105, []rec{{1, 0, pkt(24), 0}}),
			[]oracleFrame{{24, 24, time.Unix(1, 0), 105, nil}}},
		{"pcap no frames", pcapFile(binary.LittleEndian, false, 1, nil), nil},
		{"pcap modified (Kuznetsov) format", kuznetsov(), []oracleFrame{{10, 10, time.Unix(5, 6000), 1, nil}}},
		{"pcapng two interfaces little-endian", twoIfaces(binary.LittleEndian), wantNG},
		{"pcapng two interfaces big-endian", twoIfaces(binary.BigEndian), wantNG},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAll(t, tc.data)
			if err != io.EOF {
				t.Fatalf("stopped with %v after %d frames, want io.EOF", err, len(got))
			}
			if len(got) != len(tc.want) {
				t.Fatalf("read %d frames, want %d", len(got), len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.caplen != w.caplen || g.origlen != w.origlen || !g.ts.Equal(w.ts) || g.link != w.link {
					t.Errorf("frame %d: got caplen %d origlen %d ts %v link %v; want %d %d %v %v",
						i, g.caplen, g.origlen, g.ts.UTC(), g.link, w.caplen, w.origlen, w.ts.UTC(), w.link)
				}
				if len(g.data) > 0 && g.data[0] != byte(len(g.data)) && g.link != LinkTypeRaw {
					t.Errorf("frame %d: data %x does not hold its fill byte", i, g.data[:4])
				}
			}
		})
	}
}

func TestDamagedFiles(t *testing.T) {
	body := pcapFile(binary.LittleEndian, false, 1, []rec{{1, 0, make([]byte, 60), 0}, {2, 0, make([]byte, 60), 0}})
	le := func(b []byte, off int, v uint32) []byte {
		b = bytes.Clone(b)
		binary.LittleEndian.PutUint32(b[off:], v)
		return b
	}
	n := &ngBuilder{bo: binary.LittleEndian}
	n.shb()
	n.idb(1, 0, -1, 0)
	n.epb(0, 1, make([]byte, 60), 60)
	n.epb(0, 2, make([]byte, 60), 60)
	ng := n.b.Bytes()
	const shbLen, idbLen, epbLen = 28, 24, 92

	for _, tc := range []struct {
		name   string
		data   []byte
		frames int
		offset int64
		is     error
		msg    string
	}{
		{"pcap cut in second record header", body[:24+76+10], 1, 100, io.ErrUnexpectedEOF, "pcap test: truncated record header at offset 100: unexpected EOF"},
		{"pcap cut in second record data", body[:len(body)-1], 1, 100, io.ErrUnexpectedEOF, "truncated record at offset 100"},
		{"pcap caplen beyond snaplen is tolerated", le(le(body, 24+76+8, 70000), 24+76+12, 70000), 1, 100, io.ErrUnexpectedEOF, "truncated record at offset 100"},
		{"pcap absurd caplen", le(body, 24+76+8, 0xffffff00), 1, 100, ErrCorrupt, "captured length 4294967040 exceeds the maximum frame length 262144"},
		{"pcap caplen beyond origlen", le(body, 24+8, 61), 0, 24, ErrCorrupt, "captured length 61 exceeds original length 60"},
		{"pcapng cut in block", ng[:len(ng)-3], 1, shbLen + idbLen + epbLen, io.ErrUnexpectedEOF, "pcapng test: truncated packet block at offset 144"},
		{"pcapng cut in block header", ng[:shbLen+idbLen+epbLen+5], 1, shbLen + idbLen + epbLen, io.ErrUnexpectedEOF, "truncated block header"},
		{"pcapng absurd block length", le(ng, shbLen+idbLen+4, 0xfffffff0), 0, shbLen + idbLen, io.ErrUnexpectedEOF, "block of 4294967280 bytes runs past the end of the 236-byte file"},
		{"pcapng unaligned block length", le(ng, shbLen+idbLen+4, 93), 0, shbLen + idbLen, ErrCorrupt, "length 93"},
		{"pcapng trailer mismatch", le(ng, shbLen+idbLen+epbLen-4, 96), 0, shbLen + idbLen, ErrCorrupt, "trailing length 96"},
		{"pcapng unknown interface", le(ng, shbLen+idbLen+8, 3), 0, shbLen + idbLen, ErrCorrupt, "interface 3 not described"},
		{"pcapng caplen beyond block", le(ng, shbLen+idbLen+20, 64), 0, shbLen + idbLen, ErrCorrupt, "captured length 64 exceeds block length 92"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAll(t, tc.data)
			var de *DamageError
			if !errors.As(err, &de) {
				t.Fatalf("after %d frames: %v, want *DamageError", len(got), err)
			}
			if len(got) != tc.frames || de.Offset != tc.offset || !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %d frames, %q (offset %d); want %d frames, offset %d, errors.Is %v, containing %q",
					len(got), err, de.Offset, tc.frames, tc.offset, tc.is, tc.msg)
			}
		})
	}
}

// TestCutEverywhere cuts real files at many lengths and flips bytes: the
// reader must never panic, must return every frame that fits wholly before
// the cut, and must report damage (not io.EOF) inside a record.
func TestCutEverywhere(t *testing.T) {
	_, abs := corpus.Pcaps(t)
	var picked []string
	seen := map[Format]int{}
	for _, p := range abs {
		st, err := os.Stat(p)
		if err != nil || st.Size() > 64<<10 || st.Size() < 2000 {
			continue
		}
		c, err := OpenFile(p)
		if err != nil {
			continue
		}
		if seen[c.Format()] < 3 {
			seen[c.Format()]++
			picked = append(picked, p)
		}
		c.Close()
	}
	if len(picked) < 4 {
		t.Fatalf("found only %d small pcap/pcapng files to cut", len(picked))
	}
	for _, p := range picked {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		full, ends, err := readAllEnds(t, data)
		if err != io.EOF {
			t.Fatalf("%s: %v", p, err)
		}
		step := max(1, len(data)/300)
		for cut := 0; cut < len(data); cut += step {
			got, err := readAll(t, data[:cut])
			if cut < 24 {
				continue // header errors are covered in TestOpenFileErrors
			}
			want := 0
			for want < len(ends) && ends[want] <= int64(cut) {
				want++
			}
			if len(got) != want {
				t.Fatalf("%s cut at %d: %d frames, want the %d that end before the cut (%v)", p, cut, len(got), want, err)
			}
			var de *DamageError
			switch {
			case err == io.EOF:
				// A cut exactly on a record boundary is a clean, shorter file.
			case errors.As(err, &de):
				if de.Offset > int64(cut) || !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("%s cut at %d: %v (offset %d)", p, cut, err, de.Offset)
				}
			default:
				t.Fatalf("%s cut at %d: %v, want io.EOF or *DamageError", p, cut, err)
			}
			for i := range got {
				if !bytes.Equal(got[i].data, full[i].data) {
					t.Fatalf("%s cut at %d: frame %d differs from the whole file's", p, cut, i)
				}
			}
		}
		for i := 0; i < len(data); i += step {
			flipped := bytes.Clone(data)
			flipped[i] ^= 0xff
			got, err := readAll(t, flipped)
			var de *DamageError
			if err != io.EOF && !errors.As(err, &de) && len(got) > 0 {
				t.Fatalf("%s flip at %d: %v", p, i, err)
			}
		}
	}
}

func TestReadFrameAllocs(t *testing.T) {
	_, abs := corpus.Pcaps(t)
	for _, name := range []string{"pcap", "pcapng"} {
		t.Run(name, func(t *testing.T) {
			data := benchFile(t, abs, name)
			c, err := NewFileReader(bufio.NewReader(bytes.NewReader(data)), "alloc", int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			var f Frame
			c.ReadFrame(&f) // grow the buffer
			allocs := testing.AllocsPerRun(1000, func() {
				if err := c.ReadFrame(&f); err == io.EOF {
					c, _ = NewFileReader(bytes.NewReader(data), "alloc", int64(len(data)))
				}
			})
			// The reopen at EOF allocates; amortised it must stay far below one per frame.
			if allocs > 0.05 {
				t.Errorf("ReadFrame allocates %.3f times per frame, want 0", allocs)
			}
		})
	}
}

// benchFile returns the largest corpus file of the given format (capped at
// 8 MiB), so benchmarks measure steady-state reading.
func benchFile(tb testing.TB, abs []string, format string) []byte {
	tb.Helper()
	var best []byte
	for _, p := range abs {
		if !strings.HasSuffix(p, "."+format) {
			continue
		}
		st, err := os.Stat(p)
		if err != nil || st.Size() > 8<<20 || st.Size() <= int64(len(best)) {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := readAll(tb, data); err != io.EOF {
			continue
		}
		best = data
	}
	if best == nil {
		tb.Fatalf("no clean %s file in the corpus", format)
	}
	return best
}

func BenchmarkReadFrame(b *testing.B) {
	_, abs := corpus.Pcaps(b)
	for _, name := range []string{"pcap", "pcapng"} {
		b.Run(name, func(b *testing.B) {
			data := benchFile(b, abs, name)
			rd := bytes.NewReader(data)
			br := bufio.NewReaderSize(rd, readBufferSize)
			c, err := NewFileReader(br, "bench", int64(len(data)))
			if err != nil {
				b.Fatal(err)
			}
			var f Frame
			var bytesRead int64
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				err := c.ReadFrame(&f)
				if err == io.EOF {
					b.StopTimer()
					rd.Reset(data)
					br.Reset(rd)
					c, _ = NewFileReader(br, "bench", int64(len(data)))
					b.StartTimer()
					continue
				}
				if err != nil {
					b.Fatal(err)
				}
				bytesRead += int64(len(f.Data))
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
			b.SetBytes(bytesRead / int64(max(b.N, 1)))
		})
	}
}
