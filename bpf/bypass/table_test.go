//go:build linux

package bypass

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/polder-nsm/polder/sensor/flow"
)

// testKey returns a distinct normalized TCP flow key for i < 2^24:
// 10.x.y.z:i → 192.0.2.1:80.
func testKey(i int) flow.Key {
	k := flow.Key{Proto: 6, IPVersion: 4, SrcPort: uint16(i), DstPort: 80}
	k.Src = [16]byte{10: 0xff, 11: 0xff, 12: 10, 13: byte(i >> 16), 14: byte(i >> 8), 15: byte(i)}
	k.Dst = [16]byte{10: 0xff, 11: 0xff, 12: 192, 13: 0, 14: 2, 15: 1}
	return k
}

func readAll(t testing.TB, b *Bypass) map[flow.Key]Counters {
	t.Helper()
	m := map[flow.Key]Counters{}
	err := b.Read(func(k flow.Key, c Counters) bool {
		if _, dup := m[k]; dup {
			t.Errorf("Read returned %+v twice", k)
		}
		m[k] = c
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestTable: Insert, Lookup, Read (batched and entry by entry), Remove and
// Delete, with counters oriented to the key asked for.
func TestTable(t *testing.T) {
	b := openTest(t, Config{Mode: ModeSocket, TableSize: 20000})
	const n = 10000
	for i := range n {
		if err := b.Insert(testKey(i)); err != nil {
			t.Fatal(err)
		}
	}
	// Again, in the other orientation: already there, counters kept.
	if err := b.Insert(reversed(testKey(7))); err != nil {
		t.Fatal(err)
	}
	s, err := b.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Inserted != n || s.InsertExists != 1 {
		t.Errorf("Inserted %d, InsertExists %d, want %d, 1", s.Inserted, s.InsertExists, n)
	}

	before := Monotonic()
	batched := readAll(t, b)
	if len(batched) != n {
		t.Fatalf("Read returned %d flows, want %d", len(batched), n)
	}
	for i := range n {
		c, ok := batched[testKey(i)]
		if !ok {
			t.Fatalf("Read lacks %+v", testKey(i))
		}
		if c.Packets() != 0 || c.LastSeen() == 0 || c.LastSeen() > before {
			t.Fatalf("fresh flow %d: %+v (now %v)", i, c, before)
		}
	}
	b.noBatch.Store(true)
	if iterated := readAll(t, b); len(iterated) != n {
		t.Errorf("Read without batches returned %d flows, want %d", len(iterated), n)
	}
	b.noBatch.Store(false)
	stopped := 0
	b.Read(func(flow.Key, Counters) bool { stopped++; return stopped < 5 })
	if stopped != 5 {
		t.Errorf("Read went on after fn returned false: %d calls", stopped)
	}

	// Count one packet sent by the key's Dst through a program, then read
	// it back in both orientations.
	progs := testPrograms(t, b)
	k := testKey(42)
	f := frame{src: v4("192.0.2.1"), dst: v4("10.0.0.42"), proto: 6, sport: 80, dport: 42, tcpFlags: 0x10}
	if pr := progs[0]; pr.run(t, f.bytes()) {
		t.Fatal("packet of a bypassed flow passed")
	}
	if c := lookup(t, b, k); c.FromDst.Packets != 1 || c.FromSrc.Packets != 0 {
		t.Errorf("Lookup(k) = %+v, want 1 packet FromDst", c)
	}
	if c := lookup(t, b, reversed(k)); c.FromSrc.Packets != 1 || c.FromDst.Packets != 0 {
		t.Errorf("Lookup(reversed k) = %+v, want 1 packet FromSrc", c)
	}
	c, ok, err := b.Remove(reversed(k))
	if err != nil || !ok || c.FromSrc.Packets != 1 || c.FromSrc.Bytes != uint64(len(f.bytes())) {
		t.Errorf("Remove(reversed k) = %+v, %v, %v; want 1 packet FromSrc", c, ok, err)
	}
	if _, ok, err := b.Remove(k); ok || err != nil {
		t.Errorf("second Remove: %v, %v; want not found", ok, err)
	}
	if _, ok, err := b.Lookup(k); ok || err != nil {
		t.Errorf("Lookup after Remove: %v, %v", ok, err)
	}

	// Delete in batches, with absent keys in between.
	var del []flow.Key
	for i := 0; i < n; i += 2 {
		del = append(del, testKey(i), testKey(n+i))
	}
	got, err := b.Delete(del)
	if want := n/2 - 1; err != nil || got != want { // testKey(42) was removed
		t.Errorf("Delete = %d, %v; want %d", got, err, want)
	}
	if left := readAll(t, b); len(left) != n/2 {
		t.Errorf("%d flows left, want %d", len(left), n/2)
	}
}

// TestTableFull: a full table refuses new flows with ErrTableFull, keeps
// the old ones (they are still bypassed) and counts the refusals.
func TestTableFull(t *testing.T) {
	const size = 64
	b := openTest(t, Config{Mode: ModeSocket, TableSize: size})
	var err error
	i := 0
	for ; i < 2*size && err == nil; i++ {
		err = b.Insert(testKey(i))
	}
	if !errors.Is(err, ErrTableFull) {
		t.Fatalf("insert %d: %v, want ErrTableFull", i, err)
	}
	if i-1 != size {
		t.Errorf("table of %d took %d flows", size, i-1)
	}
	if err := b.Insert(testKey(1000)); !errors.Is(err, ErrTableFull) {
		t.Errorf("insert into full table: %v", err)
	}
	s, _ := b.Stats()
	if s.InsertTableFull != 2 || s.Inserted != size {
		t.Errorf("InsertTableFull %d, Inserted %d; want 2, %d", s.InsertTableFull, s.Inserted, size)
	}
	if got := len(readAll(t, b)); got != size {
		t.Errorf("%d flows in the table, want %d", got, size)
	}
	// An old flow is still bypassed.
	f := frame{src: v4("10.0.0.3"), dst: v4("192.0.2.1"), proto: 6, sport: 3, dport: 80, tcpFlags: 0x10}
	for _, pr := range testPrograms(t, b) {
		if pr.run(t, f.bytes()) {
			t.Errorf("%s: packet of a bypassed flow passed with the table full", pr.name)
		}
	}
	// Room again after a Remove.
	if _, ok, err := b.Remove(testKey(5)); !ok || err != nil {
		t.Fatalf("Remove: %v, %v", ok, err)
	}
	if err := b.Insert(testKey(1000)); err != nil {
		t.Errorf("insert after Remove: %v", err)
	}
}

func TestInsertUnsupported(t *testing.T) {
	b := openTest(t, Config{Mode: ModeSocket, TableSize: 16})
	k, _ := keyOf(t, with(tcp4, func(f *frame) { f.proto = 1 }).bytes())
	if err := b.Insert(k); !errors.Is(err, ErrNotSupported) {
		t.Errorf("insert ICMP flow: %v, want ErrNotSupported", err)
	}
	if s, _ := b.Stats(); s.InsertUnsupported != 1 {
		t.Errorf("InsertUnsupported %d, want 1", s.InsertUnsupported)
	}
	if _, ok, err := b.Lookup(k); ok || err != nil {
		t.Errorf("Lookup ICMP flow: %v, %v", ok, err)
	}
}

func TestAttachSocketNeedsSocketMode(t *testing.T) {
	b := openTest(t, Config{Mode: ModeSocket, TableSize: 16})
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := b.AttachSocket(fd); err == nil {
		t.Error("attached to a UDP socket")
	}
	pfd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pfd)
	if err := b.AttachSocket(pfd); err == nil {
		t.Error("attached to an unbound AF_PACKET socket")
	}
	if err := unix.Bind(pfd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: 1}); err != nil {
		t.Fatal(err)
	}
	if err := b.AttachSocket(pfd); err != nil { // lo: Ethernet framing
		t.Errorf("attach to a socket bound to lo: %v", err)
	}
	if err := b.DetachSocket(pfd); err != nil {
		t.Error(err)
	}
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// mountBPFFS mounts a private bpf filesystem for the test.
func mountBPFFS(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("bpf", dir, "bpf", 0, "mode=0700"); err != nil {
		t.Fatalf("mount bpffs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

// crash releases b's descriptors without Close, as a killed sensor does:
// the pins stay.
func crash(b *Bypass) {
	b.closed.Store(true)
	for _, l := range b.links {
		l.Close()
	}
	b.objs.Close()
}

// TestPinning: a restarted sensor adopts the pinned table's flows; stale
// pins are removed; an incompatible pinned table is replaced; Close
// removes the pins.
func TestPinning(t *testing.T) {
	needPrivileges(t)
	pin := filepath.Join(mountBPFFS(t), "polder", "test")

	b1, err := Open(Config{Mode: ModeSocket, TableSize: 128, PinDir: pin})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := b1.Insert(testKey(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b1.objs.Stats.Pin(filepath.Join(pin, "stale")); err != nil {
		t.Fatal(err)
	}
	crash(b1)

	b2, err := Open(Config{Mode: ModeSocket, TableSize: 128, PinDir: pin})
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, b2); len(got) != 3 {
		t.Errorf("adopted %d flows, want 3", len(got))
	}
	if _, err := os.Stat(filepath.Join(pin, "stale")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale pin: %v, want removed", err)
	}
	crash(b2)

	b3, err := Open(Config{Mode: ModeSocket, TableSize: 256, PinDir: pin})
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, b3); len(got) != 0 || b3.TableSize() != 256 {
		t.Errorf("incompatible pinned table: %d flows, size %d; want 0, 256", len(got), b3.TableSize())
	}
	if err := b3.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(pin); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pin directory after Close: %v, want removed", err)
	}

	if _, err := Open(Config{Mode: ModeSocket, PinDir: t.TempDir()}); err == nil {
		t.Error("Open pinned outside a bpf filesystem")
	}
}

// TestSweep: idle flows are removed with their final counters, the others
// reported and kept.
func TestSweep(t *testing.T) {
	b := openTest(t, Config{Mode: ModeSocket, TableSize: 64})
	for i := range 3 {
		if err := b.Insert(testKey(i)); err != nil {
			t.Fatal(err)
		}
	}
	now := Monotonic()
	// Make flow 1 idle for two hours, with 5 packets from its Dst.
	mk, _, _ := toMapKey(testKey(1))
	old := uint64(now - 2*time.Hour)
	v := mapValue{Dir: [2]mapDir{{LastSeen: old}, {Packets: 5, Bytes: 500, LastSeen: old}}}
	if err := b.objs.Flows.Update(&mk, &v, 0); err != nil {
		t.Fatal(err)
	}
	var live, expired []flow.Key
	n, err := b.Sweep(now, time.Hour, func(k flow.Key, c Counters, exp bool) {
		if exp {
			expired = append(expired, k)
			if c.FromDst.Packets != 5 || c.FromDst.Bytes != 500 {
				t.Errorf("expired flow counters %+v", c)
			}
		} else {
			live = append(live, k)
		}
	})
	if err != nil || n != 1 || len(expired) != 1 || expired[0] != testKey(1) || len(live) != 2 {
		t.Errorf("Sweep = %d, %v; expired %v, live %v", n, err, expired, live)
	}
	if got := len(readAll(t, b)); got != 2 {
		t.Errorf("%d flows left, want 2", got)
	}
}
