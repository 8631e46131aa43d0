package capture

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"sync/atomic"
	"time"
)

// Limits that keep a hostile or damaged file from making the reader allocate
// without bound. A record or block beyond them is reported as damage.
const (
	// MaxFrameLen is the largest captured length accepted for one frame, in
	// bytes. It is Wireshark's WTAP_MAX_PACKET_SIZE_STANDARD (256 KiB), which
	// is also what tcpdump and libpcap use as their largest snaplen.
	MaxFrameLen = 262144

	// maxIDBLen bounds an Interface Description Block, the only pcapng
	// block read whole into memory (for its options). Packet blocks are read
	// header, data (≤ MaxFrameLen) and trailer, skipping their options;
	// other blocks are skipped unread, so neither needs a limit.
	maxIDBLen = 1 << 20

	// maxInterfaces bounds the interface table of one pcapng section.
	maxInterfaces = 1 << 16

	// readBufferSize is the bufio buffer for large files; small files get a
	// buffer of their own size so a corpus run does not allocate 1 MiB each.
	readBufferSize = 1 << 20
)

// Format is the container format of a capture file.
type Format uint8

// Container formats OpenFile recognises by their magic number.
const (
	FormatPcap   Format = iota + 1 // classic libpcap, microsecond or nanosecond
	FormatPcapNG                   // pcapng (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng)
)

func (f Format) String() string {
	switch f {
	case FormatPcap:
		return "pcap"
	case FormatPcapNG:
		return "pcapng"
	}
	return "capture"
}

// ErrCorrupt is wrapped by every DamageError that is not a truncation: a
// length field, magic number or interface reference that cannot be right.
var ErrCorrupt = errors.New("corrupt data")

// DamageError reports a damaged capture file. Frames before Offset were
// returned intact; nothing after it is read. Callers branch on it with
// errors.As to tell "the file ended early" (errors.Is(err,
// io.ErrUnexpectedEOF)) or "a field is impossible" (errors.Is(err,
// ErrCorrupt)) from a clean io.EOF.
type DamageError struct {
	Format Format
	Path   string
	Offset int64  // byte offset from the start of the file of the damaged record or block
	What   string // what was damaged, e.g. "truncated record", "bad block"
	Err    error  // io.ErrUnexpectedEOF, or a detail wrapping ErrCorrupt
}

func (e *DamageError) Error() string {
	return fmt.Sprintf("%s %s: %s at offset %d: %v", e.Format, e.Path, e.What, e.Offset, e.Err)
}

func (e *DamageError) Unwrap() error { return e.Err }

// pcap and pcapng magic numbers, as read little-endian from the first four
// bytes of the file.
const (
	magicMicroLE  = 0xa1b2c3d4
	magicMicroBE  = 0xd4c3b2a1
	magicNanoLE   = 0xa1b23c4d
	magicNanoBE   = 0x4d3cb2a1
	magicKuznetLE = 0xa1b2cd34 // "modified" pcap (Alexey Kuznetsov's patches): 8 extra record bytes
	magicKuznetBE = 0x34cdb2a1
	ngByteOrder   = 0x1a2b3c4d

	ngBlockSHB = 0x0a0d0d0a
	ngBlockIDB = 0x00000001
	ngBlockPB  = 0x00000002 // obsolete Packet Block
	ngBlockSPB = 0x00000003
	ngBlockEPB = 0x00000006

	ngOptEnd      = 0
	ngOptTsresol  = 9
	ngOptTsoffset = 14
)

// ngInterface is what the reader keeps from an Interface Description Block.
type ngInterface struct {
	link     LinkType
	snaplen  uint32 // 0 = no limit beyond MaxFrameLen
	unitsSec uint64 // timestamp units per second (if_tsresol)
	offset   int64  // seconds added to every timestamp (if_tsoffset)
}

// File reads frames from a classic pcap or pcapng file with one reusable
// buffer: ReadFrame allocates nothing once the buffer has grown to the largest
// frame. A File is used by one goroutine, except Progress and Frames, which
// any goroutine may call (e.g. a CLI progress bar): they read counters
// published atomically after each frame.
type File struct {
	path   string
	closer io.Closer
	r      *bufio.Reader
	format Format
	size   int64 // total bytes, or -1 when unknown
	off    int64 // bytes consumed so far
	frames uint64
	// pubOff and pubFrames publish off and frames for other goroutines.
	pubOff    atomic.Int64
	pubFrames atomic.Uint64
	err       error // sticky: once set, ReadFrame returns it forever
	buf       []byte
	hdr       [32]byte

	be bool // big-endian fields (pcap: file byte order; pcapng: current section)

	// classic pcap
	nano    bool
	recHdr  int    // 16, or 24 for the modified format
	snaplen uint32 // from the file header; advisory, see readPcapRecord
	link    LinkType

	// pcapng
	ifaces []ngInterface
	lastTS time.Time // simple packet blocks carry no time: they reuse the last one
}

// OpenFile opens a pcap or pcapng file, recognised by its magic number, and
// reads its file or first section header. The returned File owns the
// descriptor; Close releases it.
func OpenFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open capture file: %w", err)
	}
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	bs := readBufferSize
	if size >= 0 && size < int64(bs) {
		bs = max(int(size), 4096)
	}
	c, err := NewFileReader(bufio.NewReaderSize(f, bs), path, size)
	if err != nil {
		f.Close()
		return nil, err
	}
	c.closer = f
	return c, nil
}

// NewFileReader reads a pcap or pcapng stream from r; name appears in errors
// and size (in bytes, or -1 if unknown) in Progress. Wrap unbuffered readers
// in a bufio.Reader first; a *bufio.Reader is used as is.
func NewFileReader(r io.Reader, name string, size int64) (*File, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, readBufferSize)
	}
	// 64 KiB covers every frame of a 64 KiB-MTU capture, so the buffer
	// rarely grows while reading.
	c := &File{path: name, r: br, size: size, buf: make([]byte, 0, 64<<10)}
	magic, err := br.Peek(4)
	if err != nil {
		if err == io.EOF && len(magic) == 0 {
			return nil, fmt.Errorf("read capture file %s: empty file", name)
		}
		return nil, fmt.Errorf("read capture file %s: too short for a pcap or pcapng header (%d bytes)", name, len(magic))
	}
	switch le32(magic) {
	case magicMicroLE, magicMicroBE, magicNanoLE, magicNanoBE, magicKuznetLE, magicKuznetBE:
		c.format = FormatPcap
		err = c.readPcapHeader()
	case ngBlockSHB:
		c.format = FormatPcapNG
		if err = c.full(c.hdr[:8], 0, "section header", false); err == nil {
			err = c.readSection(c.hdr[:8], 0)
		}
	default:
		return nil, fmt.Errorf("read capture file %s: unknown magic number %#08x (not a pcap or pcapng file)", name, le32(magic))
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Format reports whether the file is pcap or pcapng.
func (c *File) Format() Format { return c.format }

// LinkType is the link type of a classic pcap file, or of the first interface
// of a pcapng file once a frame has been read from it (0 before that).
func (c *File) LinkType() LinkType {
	if c.format == FormatPcapNG {
		if len(c.ifaces) == 0 {
			return 0
		}
		return c.ifaces[0].link
	}
	return c.link
}

// Progress reports how many bytes of the file have been consumed and the
// file size (-1 when unknown, e.g. a pipe).
func (c *File) Progress() (read, total int64) { return c.pubOff.Load(), c.size }

// Frames is the number of frames ReadFrame has returned.
func (c *File) Frames() uint64 { return c.pubFrames.Load() }

// Close releases the file. It is safe to call more than once.
func (c *File) Close() error {
	if c.closer == nil {
		return nil
	}
	err := c.closer.Close()
	c.closer = nil
	if c.err == nil {
		c.err = errors.New("read capture file " + c.path + ": file closed")
	}
	return err
}

// ReadFrame fills f with the next frame. f.Data points into a buffer owned by
// the File and is overwritten by the next call. At the end of the file it
// returns io.EOF; a damaged file yields every intact frame and then a
// *DamageError, returned again on every later call.
func (c *File) ReadFrame(f *Frame) error {
	if c.err != nil {
		return c.err
	}
	var err error
	if c.format == FormatPcap {
		err = c.readPcapRecord(f)
	} else {
		err = c.readNgPacket(f)
	}
	if err != nil {
		c.err = err
		c.pubOff.Store(c.off)
		return err
	}
	c.frames++
	c.pubFrames.Store(c.frames)
	c.pubOff.Store(c.off)
	return nil
}

// ---- helpers ----

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
func be32(b []byte) uint32 {
	return uint32(b[3]) | uint32(b[2])<<8 | uint32(b[1])<<16 | uint32(b[0])<<24
}

func (c *File) u16(b []byte) uint16 {
	if c.be {
		return uint16(b[0])<<8 | uint16(b[1])
	}
	return uint16(b[1])<<8 | uint16(b[0])
}

func (c *File) u32(b []byte) uint32 {
	if c.be {
		return be32(b)
	}
	return le32(b)
}

func (c *File) u64(b []byte) uint64 {
	if c.be {
		return uint64(be32(b))<<32 | uint64(be32(b[4:]))
	}
	return uint64(le32(b[4:]))<<32 | uint64(le32(b))
}

// full reads exactly len(b) bytes. A short read is a truncation of the
// record or block that started at start; a read of zero bytes at a record
// boundary is reported as clean io.EOF when atBoundary is set.
func (c *File) full(b []byte, start int64, what string, atBoundary bool) error {
	n, err := io.ReadFull(c.r, b)
	c.off += int64(n)
	if err == nil {
		return nil
	}
	if err == io.EOF && atBoundary {
		return io.EOF
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = io.ErrUnexpectedEOF
	}
	return c.damage(start, "truncated "+what, err)
}

func (c *File) skip(n int64, start int64, what string) error {
	for n > 0 {
		k := int(min(n, 1<<30))
		d, err := c.r.Discard(k)
		c.off += int64(d)
		n -= int64(d)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return c.damage(start, "truncated "+what, err)
		}
	}
	return nil
}

func (c *File) damage(off int64, what string, err error) *DamageError {
	return &DamageError{Format: c.format, Path: c.path, Offset: off, What: what, Err: err}
}

func (c *File) corrupt(off int64, what, format string, args ...any) *DamageError {
	return c.damage(off, what, fmt.Errorf(format+": %w", append(args, ErrCorrupt)...))
}

// frameBuf returns the reusable buffer resized to n bytes, growing it if
// needed; n is already bounded by the caller.
func (c *File) frameBuf(n int) []byte {
	if cap(c.buf) < n {
		c.buf = make([]byte, n, max(n, 2*cap(c.buf)))
	}
	return c.buf[:n]
}

// ---- classic pcap ----

func (c *File) readPcapHeader() error {
	h := c.hdr[:24]
	if err := c.full(h, 0, "file header", false); err != nil {
		return err
	}
	c.recHdr = 16
	switch le32(h) {
	case magicMicroLE:
	case magicMicroBE:
		c.be = true
	case magicNanoLE:
		c.nano = true
	case magicNanoBE:
		c.be, c.nano = true, true
	case magicKuznetLE:
		c.recHdr = 24
	case magicKuznetBE:
		c.be, c.recHdr = true, 24
	}
	if major := c.u16(h[4:]); major != 2 {
		return c.corrupt(4, "bad file header", "version %d.%d (want 2.x)", major, c.u16(h[6:]))
	}
	c.snaplen = c.u32(h[16:])
	// The upper bits of the link-type field carry FCS information
	// (LINKTYPE_FCS); the link type proper is the low 16 bits.
	c.link = LinkType(c.u32(h[20:]) & 0xffff)
	return nil
}

func (c *File) readPcapRecord(f *Frame) error {
	start := c.off
	h := c.hdr[:c.recHdr]
	if err := c.full(h, start, "record header", true); err != nil {
		return err
	}
	sec, frac := c.u32(h[0:]), c.u32(h[4:])
	caplen, origlen := c.u32(h[8:]), c.u32(h[12:])
	// The header's snaplen is advisory: dpkt and old gopacket write records
	// longer than the snaplen they declare (zeek's krb/smb2_krb.pcap has
	// 10014-byte records under a 9999 snaplen), and tcpdump, Wireshark and
	// Suricata read them. Only MaxFrameLen bounds the buffer.
	if caplen > MaxFrameLen {
		return c.corrupt(start, "bad record", "captured length %d exceeds the maximum frame length %d", caplen, MaxFrameLen)
	}
	if caplen > origlen {
		return c.corrupt(start, "bad record", "captured length %d exceeds original length %d", caplen, origlen)
	}
	data := c.frameBuf(int(caplen))
	if err := c.full(data, start, "record", false); err != nil {
		return err
	}
	nsec := int64(frac)
	if !c.nano {
		nsec *= 1000
	}
	f.Data = data
	f.OrigLen = int(origlen)
	f.Timestamp = time.Unix(int64(sec), nsec)
	f.LinkType = c.link
	f.Interface = 0
	return nil
}

// ---- pcapng ----

// trailer reads and checks the block's trailing copy of its length.
func (c *File) trailer(blen uint32, start int64, what string) error {
	t := c.hdr[16:20]
	if err := c.full(t, start, what, false); err != nil {
		return err
	}
	if got := c.u32(t); got != blen {
		return c.corrupt(start, "bad "+what, "trailing length %d differs from block length %d", got, blen)
	}
	return nil
}

// readNgPacket reads blocks until it finds a packet, handling section and
// interface headers on the way and skipping everything else.
func (c *File) readNgPacket(f *Frame) error {
	for {
		start := c.off
		h := c.hdr[:8]
		n, err := io.ReadFull(c.r, h)
		if n == 0 && err == io.EOF {
			return io.EOF
		}
		c.off += int64(n)
		if err != nil {
			return c.damage(start, "truncated block header", io.ErrUnexpectedEOF)
		}
		// The SHB type reads the same in both byte orders; its length can
		// only be decoded after the byte-order magic that follows it.
		if le32(h) == ngBlockSHB {
			if err := c.readSection(h, start); err != nil {
				return err
			}
			continue
		}
		typ, blen := c.u32(h), c.u32(h[4:])
		if blen < 12 || blen%4 != 0 {
			return c.corrupt(start, "bad block", "block type %#x length %d", typ, blen)
		}
		switch typ {
		case ngBlockIDB:
			if err := c.readIDB(blen, start); err != nil {
				return err
			}
		case ngBlockEPB, ngBlockPB, ngBlockSPB:
			return c.readPacketBlock(f, typ, blen, start)
		default:
			if err := c.skip(int64(blen)-12, start, "block"); err != nil {
				return err
			}
			if err := c.trailer(blen, start, "block"); err != nil {
				return err
			}
		}
	}
}

// readSection reads the rest of a Section Header Block whose first 8 bytes
// (type and length, in a byte order not yet known) were consumed into h. A
// new section sets the byte order and starts a new interface table.
func (c *File) readSection(h []byte, start int64) error {
	var b [8]byte
	if err := c.full(b[:], start, "section header", false); err != nil {
		return err
	}
	switch le32(b[:]) {
	case ngByteOrder:
		c.be = false
	case 0x4d3c2b1a:
		c.be = true
	default:
		return c.corrupt(start, "bad section header", "byte-order magic %#08x", le32(b[:]))
	}
	blen := c.u32(h[4:])
	if blen < 28 || blen%4 != 0 {
		return c.corrupt(start, "bad section header", "block length %d", blen)
	}
	if major := c.u16(b[4:]); major != 1 {
		return c.corrupt(start, "bad section header", "version %d.%d (want 1.x)", major, c.u16(b[6:]))
	}
	// Interface IDs are per section.
	c.ifaces = c.ifaces[:0]
	if err := c.skip(int64(blen)-20, start, "section header"); err != nil {
		return err
	}
	return c.trailer(blen, start, "section header")
}

func (c *File) readIDB(blen uint32, start int64) error {
	if blen < 20 || blen > maxIDBLen {
		return c.corrupt(start, "bad interface description", "block length %d", blen)
	}
	if err := c.fits(start, blen, "interface description"); err != nil {
		return err
	}
	if len(c.ifaces) >= maxInterfaces {
		return c.corrupt(start, "bad interface description", "more than %d interfaces in one section", maxInterfaces)
	}
	body := c.frameBuf(int(blen) - 8) // fixed part, options, trailer
	if err := c.full(body, start, "interface description", false); err != nil {
		return err
	}
	if got := c.u32(body[len(body)-4:]); got != blen {
		return c.corrupt(start, "bad interface description", "trailing length %d differs from block length %d", got, blen)
	}
	ifc := ngInterface{link: LinkType(c.u16(body)), snaplen: c.u32(body[4:]), unitsSec: 1e6}
	opts := body[8 : len(body)-4]
	for len(opts) >= 4 {
		code, olen := c.u16(opts), int(c.u16(opts[2:]))
		if code == ngOptEnd {
			break
		}
		padded := (olen + 3) &^ 3
		if 4+padded > len(opts) {
			return c.corrupt(start, "bad interface description", "option %d length %d overruns the block", code, olen)
		}
		v := opts[4 : 4+olen]
		switch {
		case code == ngOptTsresol && olen >= 1:
			exp := v[0] & 0x7f
			if v[0]&0x80 != 0 {
				if exp > 63 {
					return c.corrupt(start, "bad interface description", "timestamp resolution 2^-%d", exp)
				}
				ifc.unitsSec = 1 << exp
			} else {
				if exp > 19 {
					return c.corrupt(start, "bad interface description", "timestamp resolution 10^-%d", exp)
				}
				ifc.unitsSec = 1
				for range exp {
					ifc.unitsSec *= 10
				}
			}
		case code == ngOptTsoffset && olen >= 8:
			ifc.offset = int64(c.u64(v))
		}
		opts = opts[4+padded:]
	}
	c.ifaces = append(c.ifaces, ifc)
	return nil
}

// timestamp converts a pcapng timestamp in interface units to a time,
// exactly (no float rounding) for every resolution from 2^-63 to 10^-19.
func (ifc *ngInterface) timestamp(ts uint64) time.Time {
	sec, frac := ts/ifc.unitsSec, ts%ifc.unitsSec
	hi, lo := bits.Mul64(frac, 1e9)
	nsec, _ := bits.Div64(hi, lo, ifc.unitsSec) // hi < unitsSec because frac < unitsSec
	return time.Unix(int64(sec)+ifc.offset, int64(nsec))
}

func (c *File) readPacketBlock(f *Frame, typ, blen uint32, start int64) error {
	fixed := 20
	if typ == ngBlockSPB {
		fixed = 4
	}
	if int64(blen) < int64(12+fixed) {
		return c.corrupt(start, "bad packet block", "block length %d too short for block type %d", blen, typ)
	}
	if err := c.fits(start, blen, "packet block"); err != nil {
		return err
	}
	h := c.hdr[:fixed]
	if err := c.full(h, start, "packet block", false); err != nil {
		return err
	}
	room := blen - 12 - uint32(fixed) // bytes for packet data, padding and options; a multiple of 4
	var ifc *ngInterface
	var caplen, origlen uint32
	var ts time.Time
	switch typ {
	case ngBlockEPB, ngBlockPB:
		var id uint32
		if typ == ngBlockEPB {
			id = c.u32(h)
		} else {
			id = uint32(c.u16(h))
		}
		if id >= uint32(len(c.ifaces)) {
			return c.corrupt(start, "bad packet block", "interface %d not described in this section (have %d)", id, len(c.ifaces))
		}
		ifc = &c.ifaces[id]
		f.Interface = int(id)
		ts = ifc.timestamp(uint64(c.u32(h[4:]))<<32 | uint64(c.u32(h[8:])))
		caplen, origlen = c.u32(h[12:]), c.u32(h[16:])
		if caplen > room {
			return c.corrupt(start, "bad packet block", "captured length %d exceeds block length %d", caplen, blen)
		}
	case ngBlockSPB:
		if len(c.ifaces) == 0 {
			return c.corrupt(start, "bad packet block", "simple packet block before any interface description")
		}
		ifc = &c.ifaces[0]
		f.Interface = 0
		ts = c.lastTS // an SPB has no timestamp; repeating the last keeps packet time monotonic
		origlen = c.u32(h)
		caplen = min(origlen, room)
		if ifc.snaplen != 0 {
			caplen = min(caplen, ifc.snaplen)
		}
	}
	// As for pcap, the interface snaplen is advisory; MaxFrameLen is not.
	if caplen > MaxFrameLen {
		return c.corrupt(start, "bad packet block", "captured length %d exceeds the maximum frame length %d", caplen, MaxFrameLen)
	}
	data := c.frameBuf(int(caplen))
	if err := c.full(data, start, "packet block", false); err != nil {
		return err
	}
	// Padding and options (comments, flags, hashes) are skipped unread.
	if err := c.skip(int64(room-caplen), start, "packet block"); err != nil {
		return err
	}
	if err := c.trailer(blen, start, "packet block"); err != nil {
		return err
	}
	c.lastTS = ts
	f.Data = data
	f.OrigLen = int(origlen)
	f.Timestamp = ts
	f.LinkType = ifc.link
	return nil
}

// fits reports a block that claims to run past the end of a file of known
// size as truncated before anything is allocated for it.
func (c *File) fits(start int64, blen uint32, what string) error {
	if c.size >= 0 && start+int64(blen) > c.size {
		return c.damage(start, "truncated "+what, fmt.Errorf("block of %d bytes runs past the end of the %d-byte file: %w", blen, c.size, io.ErrUnexpectedEOF))
	}
	return nil
}
