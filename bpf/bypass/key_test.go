//go:build linux

package bypass

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/polder-nsm/polder/sensor/flow"
)

// TestABI checks the Go mirrors of the C structs against the BTF of the
// committed object: sizes, and every field's offset and size in order.
// No privileges needed.
func TestABI(t *testing.T) {
	spec, err := loadBypass()
	if err != nil {
		t.Fatal(err)
	}
	flows, stats := spec.Maps[bypassMapFlows], spec.Maps[bypassMapStats]
	for _, c := range []struct {
		name string
		typ  btf.Type
		goT  reflect.Type
	}{
		{"flow_key", flows.Key, reflect.TypeFor[mapKey]()},
		{"flow_value", flows.Value, reflect.TypeFor[mapValue]()},
		{"bypass_stats", stats.Value, reflect.TypeFor[mapStats]()},
	} {
		st, ok := btf.UnderlyingType(c.typ).(*btf.Struct)
		if !ok || st.Name != c.name {
			t.Fatalf("%s: BTF type %v", c.name, c.typ)
		}
		if uintptr(st.Size) != c.goT.Size() {
			t.Errorf("%s: %d bytes in C, %s has %d", c.name, st.Size, c.goT, c.goT.Size())
		}
		if len(st.Members) != c.goT.NumField() {
			t.Errorf("%s: %d members in C, %s has %d fields", c.name, len(st.Members), c.goT, c.goT.NumField())
			continue
		}
		for i, m := range st.Members {
			f := c.goT.Field(i)
			size, err := btf.Sizeof(m.Type)
			if err != nil {
				t.Fatal(err)
			}
			if uintptr(m.Offset.Bytes()) != f.Offset || uintptr(size) != f.Type.Size() {
				t.Errorf("%s.%s at %d (%d bytes) in C, %s.%s at %d (%d bytes)", c.name, m.Name, m.Offset.Bytes(), size, c.goT, f.Name, f.Offset, f.Type.Size())
			}
		}
	}
}

// TestMapKeyMatchesFlowKey: the table key of a flow.KeyOf key is that key
// unchanged (both normalize the same way), and the key of the other
// orientation is the same table key, reported as reversed.
func TestMapKeyMatchesFlowKey(t *testing.T) {
	frames := []frame{tcp4, tcp4.reverse(), udp6, udp6.reverse(),
		with(tcp4, func(f *frame) { f.dst = f.src }), with(tcp4, func(f *frame) { f.dst, f.sport, f.dport = f.src, 80, 40000 }),
		with(tcp6, func(f *frame) { f.proto = 132; f.tags = []uint32{tpidAD | 7, tpidQ | 8} }),
		with(udp4, func(f *frame) { f.src, f.dst = v4("192.168.1.1"), v4("10.1.1.1"); f.tags = []uint32{tpidQ | 0x2fff} })}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		f := udp4
		if rng.IntN(2) == 0 {
			f = tcp6
		}
		if f.src.Is4() {
			f.src = netip.AddrFrom4([4]byte{10, 0, 0, byte(rng.IntN(3))})
			f.dst = netip.AddrFrom4([4]byte{10, 0, 0, byte(rng.IntN(3))})
		} else {
			a, b := f.src.As16(), f.dst.As16()
			a[15], b[15] = byte(rng.IntN(3)), byte(rng.IntN(3))
			f.src, f.dst = netip.AddrFrom16(a), netip.AddrFrom16(b)
		}
		f.sport, f.dport = uint16(rng.IntN(3)), uint16(rng.IntN(3))
		frames = append(frames, f)
	}
	for _, f := range frames {
		k, _ := keyOf(t, f.bytes())
		mk, rev, err := toMapKey(k)
		if err != nil {
			t.Fatalf("%+v: %v", k, err)
		}
		if rev || mk.flowKey() != k {
			t.Errorf("normalized key %+v became %+v (reversed %v)", k, mk.flowKey(), rev)
		}
		r := reversed(k)
		if r == k {
			continue
		}
		mr, rev, err := toMapKey(r)
		if err != nil || !rev || mr != mk {
			t.Errorf("reversed key %+v: %+v, reversed %v, %v; want %+v, true", r, mr, rev, err, mk)
		}
	}
}

func reversed(k flow.Key) flow.Key {
	k.Src, k.Dst = k.Dst, k.Src
	k.SrcPort, k.DstPort = k.DstPort, k.SrcPort
	return k
}

func TestSupported(t *testing.T) {
	tcp, _ := keyOf(t, tcp4.bytes())
	icmp, _ := keyOf(t, with(tcp4, func(f *frame) { f.proto = 1 }).bytes())
	icmp6, _ := keyOf(t, with(tcp6, func(f *frame) { f.proto = 58 }).bytes())
	esp := tcp
	esp.Proto = 50
	unmapped := tcp
	unmapped.Src[10] = 0
	for _, c := range []struct {
		name string
		k    flow.Key
		want bool
	}{{"tcp", tcp, true}, {"icmp", icmp, false}, {"icmpv6", icmp6, false}, {"esp", esp, false}, {"ipv4 not mapped", unmapped, false}} {
		if got := Supported(c.k); got != c.want {
			t.Errorf("%s: Supported = %v, want %v", c.name, got, c.want)
		}
		if _, _, err := toMapKey(c.k); !c.want && !errors.Is(err, ErrNotSupported) {
			t.Errorf("%s: %v, want ErrNotSupported", c.name, err)
		}
	}
}

func TestParseMode(t *testing.T) {
	for _, m := range []Mode{ModeOff, ModeLocal, ModeSocket, ModeXDP} {
		var got Mode
		if err := got.UnmarshalText([]byte(m.String())); err != nil || got != m {
			t.Errorf("%s: round trip %v, %v", m, got, err)
		}
	}
	if _, err := ParseMode("ebpf"); err == nil {
		t.Error("ParseMode(ebpf) succeeded")
	}
	for _, c := range []Config{{Mode: ModeLocal}, {Mode: ModeXDP}, {Mode: ModeSocket, TableSize: -1}, {Mode: ModeXDP, Interfaces: []string{"a", "a"}}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: Validate succeeded", c)
		}
	}
}
