package ipset

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"

	"github.com/polder-nsm/polder/sensor/rules"
)

func parseAddr(s string) (rules.Address, error) { return rules.ParseAddress(s) }

// Random expressions draw their addresses from a few small neighbourhoods
// so that elements overlap, touch and cancel often.
var (
	bases4 = []uint32{0x0a000000, 0x0a000100, 0xc0a80000, 0x01020300, 0xffffff00, 0}
	bases6 = []netip.Addr{netip.MustParseAddr("2001:db8::"), netip.MustParseAddr("::"), netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00")}
)

func randomAddr(r *rand.Rand) netip.Addr {
	if r.IntN(3) > 0 {
		x := v4(bases4[r.IntN(len(bases4))] + uint32(r.IntN(256)))
		return from4(x)
	}
	b := to6(bases6[r.IntN(len(bases6))])
	b.lo += uint64(r.IntN(256))
	return from6(b)
}

// randomAddrExpr returns address expression text: hosts, CIDRs, ranges,
// any, variables and nested, negated lists.
func randomAddrExpr(r *rand.Rand, depth int) string {
	neg := ""
	if r.IntN(3) == 0 {
		neg = "!"
	}
	switch k := r.IntN(10); {
	case k < 3 || depth > 3:
		return neg + randomAddr(r).String()
	case k < 5:
		a := randomAddr(r)
		bits := a.BitLen() - r.IntN(10)
		return neg + netip.PrefixFrom(a, bits).Masked().String()
	case k < 6:
		a, b := randomAddr(r), randomAddr(r)
		if a.Is4() != b.Is4() {
			return neg + a.String()
		}
		if b.Less(a) {
			a, b = b, a
		}
		return neg + a.String() + "-" + b.String()
	case k < 7:
		vars := []string{"$HOME_NET", "$EXTERNAL_NET", "$DUAL", "$NESTED", "$V6NET", "$NOT_DUAL"}
		return neg + vars[r.IntN(len(vars))]
	case k < 8 && neg == "":
		return "any"
	default:
		n := 1 + r.IntN(4)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = randomAddrExpr(r, depth+1)
		}
		return neg + "[" + strings.Join(parts, ",") + "]"
	}
}

func randomProbe(r *rand.Rand) netip.Addr {
	switch r.IntN(4) {
	case 0:
		return from4(v4(r.Uint32()))
	case 1:
		return from6(v6{r.Uint64(), r.Uint64()})
	}
	return randomAddr(r)
}

// boundaryProbes are the first and last address of each range of s and
// their outside neighbours.
func boundaryProbes(s *Set) []netip.Addr {
	var out []netip.Addr
	for _, x := range s.v4 {
		out = append(out, from4(x.lo), from4(x.hi), from4(x.lo.pred()), from4(x.hi.succ()))
	}
	for _, x := range s.v6 {
		out = append(out, from6(x.lo), from6(x.hi), from6(x.lo.pred()), from6(x.hi.succ()))
	}
	return out
}

func randSource(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

func randomPortExpr(r *rand.Rand, depth int) string {
	neg := ""
	if r.IntN(3) == 0 {
		neg = "!"
	}
	pick := func() int {
		if r.IntN(4) == 0 {
			return []int{0, 65535, 65534, 1}[r.IntN(4)]
		}
		return 50 + r.IntN(60)
	}
	switch k := r.IntN(10); {
	case k < 4 || depth > 3:
		return neg + fmt.Sprint(pick())
	case k < 6:
		a, b := pick(), pick()
		if b < a {
			a, b = b, a
		}
		switch r.IntN(4) {
		case 0:
			return neg + fmt.Sprintf("%d:", a)
		case 1:
			return neg + fmt.Sprintf(":%d", b)
		}
		return neg + fmt.Sprintf("%d:%d", a, b)
	case k < 7:
		vars := []string{"$HTTP_PORTS", "$WEB", "$NOT_WEB", "$FILE_DATA_PORTS", "$SHELLCODE_PORTS"}
		return neg + vars[r.IntN(len(vars))]
	case k < 8 && neg == "":
		return "any"
	default:
		n := 1 + r.IntN(4)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = randomPortExpr(r, depth+1)
		}
		return neg + "[" + strings.Join(parts, ",") + "]"
	}
}
