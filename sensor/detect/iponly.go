package detect

import (
	"net/netip"

	"github.com/polder-nsm/polder/sensor/detect/ipset"
)

// ipOnlyIndex finds the IP-only signatures (reputation lists and the
// like) whose addresses fit a packet without testing each one: every
// signature is indexed on the more selective of its two address sets,
// so one lookup per packet address yields the few candidates, which are
// then checked whole.
type ipOnlyIndex struct {
	bySrc, byDst ipset.IndexBuilder
	src, dst     *ipset.Index
	anySigs      []uint32 // both sides any: every packet is a candidate
	n            int
}

func (x *ipOnlyIndex) add(s *Sig) {
	x.n++
	switch {
	case s.src.Any() && s.dst.Any():
		x.anySigs = append(x.anySigs, s.ID)
	case s.dst.Any() || (!s.src.Any() && s.src.Coverage() <= s.dst.Coverage()):
		// Selective side is the rule's source: a forward match has it as
		// the packet source; a <> rule may also see it as destination.
		x.bySrc.Add(s.src, s.ID)
		if s.bidir {
			x.byDst.Add(s.src, s.ID)
		}
	default:
		x.byDst.Add(s.dst, s.ID)
		if s.bidir {
			x.bySrc.Add(s.dst, s.ID)
		}
	}
}

func (x *ipOnlyIndex) build() {
	x.src = x.bySrc.Build()
	x.dst = x.byDst.Build()
}

// candidates appends the ids of signatures that may match a packet from
// src to dst; duplicates are possible and removed by the caller.
func (x *ipOnlyIndex) candidates(src, dst netip.Addr, out []uint32) []uint32 {
	if x.n == 0 {
		return out
	}
	out = append(out, x.anySigs...)
	out = x.src.Lookup(src, out)
	out = x.dst.Lookup(dst, out)
	return out
}
