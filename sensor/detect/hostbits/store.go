// Package hostbits holds the xbits and hostbits of Suricata 7/8 rules: named
// bits per host (hostbits, xbits track ip_src / ip_dst) or per address pair
// (xbits track ip_pair), each with an expiry time, seen by every worker.
// flowbits live in the flow and are the engine's business.
//
// Semantics (docs.suricata.io, "Xbits Keyword" and "Flow Keywords"):
//
//   - hostbits and xbits with track ip_src/ip_dst share one store per host:
//     "no difference between using hostbits and xbits with track ip_<src|dst>".
//     The engine turns the rule's direction into the host: HostKey(src) for
//     ip_src (hostbits src, the default), HostKey(dst) for ip_dst.
//   - ip_pair is unordered: PairKey(a, b) == PairKey(b, a). Suricata keeps
//     these bits in its IPPair table, which is also what by_both thresholds
//     use, documented as "packets going to opposite directions between same
//     addresses tracked as the same pair".
//   - set starts or restarts a bit's expiry: a bit set at t with expire E
//     is set through t+E inclusive ("if a hostbit is added for an existing
//     hostbit, its expiry timer is updated"). expire 0 means Suricata's
//     default of 30 seconds (DefaultExpire). toggle unsets a live bit and
//     sets an absent or expired one; unset removes it.
//   - Time is the packet time of the call, so offline replays are
//     deterministic. Bits are not ordered between workers beyond that: as
//     Suricata warns, "due to subtle timing issues between threads the
//     order of sets and checks can be slightly unpredictable".
//
// Bit names are interned: ID maps a name to a small integer once, when the
// engine compiles its rules, and every hot call takes that id. IsSet takes a
// shard's read lock, does one map lookup and scans the key's few bits; it
// does not allocate.
package hostbits

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultExpire is the lifetime of a bit set without expire, as in
// Suricata (DETECT_XBITS_EXPIRE_DEFAULT, 30 seconds).
const DefaultExpire = 30 * time.Second

// Defaults of Options.
const (
	DefaultMaxKeys  = 65536
	DefaultMaxNames = 65536
)

// numShards spreads keys over independently locked maps so workers
// setting bits on different hosts do not contend.
const (
	shardBits = 4
	numShards = 1 << shardBits
)

// Options configures a Store. Every zero field means its documented
// default.
type Options struct {
	// MaxKeys bounds the hosts and address pairs holding at least one bit;
	// 0 = 65536 (DefaultMaxKeys). A Set or Toggle that needs a new key when
	// the Store is full first sweeps expired bits (at most once per second
	// of packet time) and is then refused, counted in Stats.Refused: live
	// bits are never evicted, like Suricata's host and ippair tables at
	// their memcap.
	MaxKeys int

	// MaxNames bounds the distinct bit names ID interns; 0 = 65536
	// (DefaultMaxNames). Names come from the ruleset.
	MaxNames int
}

// Key is a host or an unordered address pair. The zero Key is no key:
// operations on it do nothing and IsSet reports false.
type Key struct {
	a, b  netip.Addr // b is valid for a pair only; a < b
	shard uint8      // computed once: the engine builds a key per packet and checks many bits
}

// HostKey returns the key of one host. IPv4-mapped IPv6 addresses count as
// IPv4 and zones are dropped; an invalid address gives the zero Key.
func HostKey(a netip.Addr) Key {
	a = a.Unmap().WithZone("")
	if !a.IsValid() {
		return Key{}
	}
	return Key{a: a, shard: shardOf(a, netip.Addr{})}
}

// PairKey returns the key of the unordered pair of a and b: PairKey(a, b)
// equals PairKey(b, a). It is the zero Key when either address is invalid.
func PairKey(a, b netip.Addr) Key {
	a, b = a.Unmap().WithZone(""), b.Unmap().WithZone("")
	if !a.IsValid() || !b.IsValid() {
		return Key{}
	}
	if b.Less(a) {
		a, b = b, a
	}
	return Key{a: a, b: b, shard: shardOf(a, b)}
}

// IsPair reports whether k is an address pair.
func (k Key) IsPair() bool { return k.b.IsValid() }

// String formats k as "addr" or "addr,addr".
func (k Key) String() string {
	if k.IsPair() {
		return k.a.String() + "," + k.b.String()
	}
	return k.a.String()
}

// shardOf hashes the addresses of k to a shard index.
func shardOf(a, b netip.Addr) uint8 {
	x, y := a.As16(), b.As16()
	h := binary.LittleEndian.Uint64(x[:8]) ^ binary.LittleEndian.Uint64(x[8:])
	h ^= bits.RotateLeft64(binary.LittleEndian.Uint64(y[:8])^binary.LittleEndian.Uint64(y[8:]), 29)
	h *= 0x9e3779b97f4a7c15
	return uint8(h >> (64 - shardBits))
}

// bit is one set bit: its id and the UnixNano after which it is unset.
type bit struct {
	id       uint32
	deadline int64
}

type shard struct {
	mu      sync.RWMutex
	m       map[Key][]bit
	refused uint64
	expired uint64
}

// Store holds the bits. It is safe for concurrent use by every worker.
type Store struct {
	shards  [numShards]shard
	keys    atomic.Int64 // keys held, across shards
	maxKeys int64

	lastSweep atomic.Int64 // UnixNano of the last sweep forced by a full Store

	namesMu  sync.Mutex
	ids      map[string]uint32
	names    []string // names[id-1]
	maxNames int
	nameFull uint64
}

// New returns an empty Store.
func New(o Options) *Store {
	s := &Store{maxKeys: int64(o.MaxKeys), maxNames: o.MaxNames, ids: map[string]uint32{}}
	if s.maxKeys <= 0 {
		s.maxKeys = DefaultMaxKeys
	}
	if s.maxNames <= 0 {
		s.maxNames = DefaultMaxNames
	}
	for i := range s.shards {
		s.shards[i].m = map[Key][]bit{}
	}
	return s
}

// ID returns the id of the bit name, interning it on first use. Ids start
// at 1; 0 means the name table is full (Options.MaxNames, counted in
// Stats.NamesRefused), and every operation with id 0 does nothing. Names
// are case-sensitive, as in Suricata.
func (s *Store) ID(name string) uint32 {
	s.namesMu.Lock()
	defer s.namesMu.Unlock()
	if id, ok := s.ids[name]; ok {
		return id
	}
	if len(s.names) >= s.maxNames {
		s.nameFull++
		return 0
	}
	s.names = append(s.names, name)
	id := uint32(len(s.names))
	s.ids[name] = id
	return id
}

// Name returns the name of id, "" if it has none.
func (s *Store) Name(id uint32) string {
	s.namesMu.Lock()
	defer s.namesMu.Unlock()
	if id == 0 || int(id) > len(s.names) {
		return ""
	}
	return s.names[id-1]
}

func (s *Store) shardOf(k Key) *shard { return &s.shards[k.shard%numShards] }

func deadline(now time.Time, expire time.Duration) int64 {
	if expire <= 0 {
		expire = DefaultExpire
	}
	return now.UnixNano() + int64(expire)
}

// Set sets bit id on k until now+expire (expire ≤ 0: DefaultExpire),
// restarting the expiry of a bit already set.
func (s *Store) Set(k Key, id uint32, now time.Time, expire time.Duration) {
	if id == 0 || !k.a.IsValid() {
		return
	}
	s.update(k, id, now, func(bits []bit, i int) []bit {
		d := deadline(now, expire)
		if i >= 0 {
			bits[i].deadline = d
			return bits
		}
		return append(bits, bit{id, d})
	})
}

// Toggle unsets bit id on k if it is set at now, and otherwise sets it
// until now+expire (expire ≤ 0: DefaultExpire).
func (s *Store) Toggle(k Key, id uint32, now time.Time, expire time.Duration) {
	if id == 0 || !k.a.IsValid() {
		return
	}
	ns := now.UnixNano()
	s.update(k, id, now, func(bits []bit, i int) []bit {
		if i >= 0 && bits[i].deadline >= ns {
			return removeAt(bits, i)
		}
		d := deadline(now, expire)
		if i >= 0 {
			bits[i].deadline = d
			return bits
		}
		return append(bits, bit{id, d})
	})
}

// Unset removes bit id from k.
func (s *Store) Unset(k Key, id uint32, now time.Time) {
	if id == 0 || !k.a.IsValid() {
		return
	}
	sh := s.shardOf(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	bits, ok := sh.m[k]
	if !ok {
		return
	}
	if i := find(bits, id); i >= 0 {
		bits = removeAt(bits, i)
	}
	s.store(sh, k, bits)
}

// update applies fn to k's bits under the shard lock; i is the index of id
// in bits or -1. A new key is refused when the Store is full.
func (s *Store) update(k Key, id uint32, now time.Time, fn func(bits []bit, i int) []bit) {
	sh := s.shardOf(k)
	for attempt := 0; ; attempt++ {
		sh.mu.Lock()
		bits, ok := sh.m[k]
		if ok || s.keys.Add(1) <= s.maxKeys {
			if !ok {
				sh.m[k] = nil // counted above
			}
			s.store(sh, k, fn(bits, find(bits, id)))
			sh.mu.Unlock()
			return
		}
		s.keys.Add(-1)
		if attempt > 0 || !s.trySweep(now) {
			sh.refused++
			sh.mu.Unlock()
			return
		}
		sh.mu.Unlock()
		s.Sweep(now)
	}
}

// trySweep reports whether a full Store may sweep now: at most once per
// second of packet time, so a Store full of live bits does not scan on
// every refused Set.
func (s *Store) trySweep(now time.Time) bool {
	ns := now.UnixNano()
	last := s.lastSweep.Load()
	if ns-last < int64(time.Second) && ns >= last {
		return false
	}
	return s.lastSweep.CompareAndSwap(last, ns)
}

// store saves bits as k's, dropping k when it has none. sh.mu is held.
func (s *Store) store(sh *shard, k Key, bits []bit) {
	if len(bits) == 0 {
		delete(sh.m, k)
		s.keys.Add(-1)
		return
	}
	sh.m[k] = bits
}

// IsSet reports whether bit id is set on k at now. It does not allocate.
func (s *Store) IsSet(k Key, id uint32, now time.Time) bool {
	if id == 0 {
		return false
	}
	ns := now.UnixNano()
	sh := s.shardOf(k)
	sh.mu.RLock()
	bits := sh.m[k]
	i := find(bits, id)
	set := i >= 0 && bits[i].deadline >= ns
	sh.mu.RUnlock()
	return set
}

// Sweep drops every bit expired at now, and every key left without bits.
// The engine calls it on its flow-expiry ticks; expired bits read as unset
// before that.
func (s *Store) Sweep(now time.Time) {
	ns := now.UnixNano()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, bits := range sh.m {
			live := bits[:0]
			for _, b := range bits {
				if b.deadline >= ns {
					live = append(live, b)
				} else {
					sh.expired++
				}
			}
			s.store(sh, k, live)
		}
		sh.mu.Unlock()
	}
}

// Len returns the number of hosts and pairs holding bits, counting those
// whose bits have all expired until Sweep drops them.
func (s *Store) Len() int { return int(s.keys.Load()) }

// Stats are a Store's counters.
type Stats struct {
	Keys         int    // hosts and pairs held (Len)
	Names        int    // bit names interned
	Refused      uint64 // Set or Toggle refused: the Store was full
	Expired      uint64 // bits dropped by Sweep
	NamesRefused uint64 // ID calls refused: the name table was full
}

// Stats returns the Store's counters.
func (s *Store) Stats() Stats {
	st := Stats{Keys: s.Len()}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		st.Refused += sh.refused
		st.Expired += sh.expired
		sh.mu.RUnlock()
	}
	s.namesMu.Lock()
	st.Names, st.NamesRefused = len(s.names), s.nameFull
	s.namesMu.Unlock()
	return st
}

func find(bits []bit, id uint32) int {
	for i := range bits {
		if bits[i].id == id {
			return i
		}
	}
	return -1
}

func removeAt(bits []bit, i int) []bit {
	bits[i] = bits[len(bits)-1]
	return bits[:len(bits)-1]
}
