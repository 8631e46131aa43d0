package ipset

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/polder-nsm/polder/sensor/rules"
)

// testVars are suricata.yaml's defaults plus groups exercising nesting,
// IPv6, negated variables and errors.
func testVars() rules.Vars {
	v := rules.DefaultVars()
	v.AddressGroups["V6NET"] = "[2001:db8::/32,fe80::/10]"
	v.AddressGroups["DUAL"] = "[$HOME_NET,$V6NET]"
	v.AddressGroups["NOT_DUAL"] = "!$DUAL"
	v.AddressGroups["NESTED"] = "[[10.0.0.0/8,![10.1.0.0/16,!10.1.2.0/24]],$V6NET]"
	v.AddressGroups["ANYVAR"] = "any"
	v.AddressGroups["NOTHING"] = "!$ANYVAR"
	v.AddressGroups["LOOP_A"] = "[1.2.3.4,$LOOP_B]"
	v.AddressGroups["LOOP_B"] = "!$LOOP_A"
	v.AddressGroups["BROKEN"] = "[1.2.3.4"
	v.AddressGroups["UNDEF"] = "[1.2.3.4,$NOPE]"
	v.PortGroups["WEB"] = "[80,443,8000:8999]"
	v.PortGroups["NOT_WEB"] = "!$WEB"
	v.PortGroups["PLOOP"] = "[1,$PLOOP]"
	v.PortGroups["ALLP"] = "any"
	return v
}

func mustCompile(t testing.TB, expr string, v rules.Vars) *Set {
	t.Helper()
	a, err := rules.ParseAddress(expr)
	if err != nil {
		t.Fatalf("ParseAddress(%q): %v", expr, err)
	}
	s, err := CompileAddress(a, v)
	if err != nil {
		t.Fatalf("CompileAddress(%q): %v", expr, err)
	}
	return s
}

func TestCompileAddress(t *testing.T) {
	v := testVars()
	tests := []struct {
		expr   string
		want   string   // String()
		in     []string // addresses in the set
		out    []string // addresses not in it
		anyAll bool
	}{
		{expr: "any", want: "any", in: []string{"0.0.0.0", "255.255.255.255", "::", "2001:db8::1", "::ffff:1.2.3.4"}, anyAll: true},
		{expr: "1.2.3.4", want: "1.2.3.4", in: []string{"1.2.3.4", "::ffff:1.2.3.4"}, out: []string{"1.2.3.5", "::1.2.3.4", "::"}},
		{expr: "10.0.0.0/8", want: "10.0.0.0/8", in: []string{"10.0.0.0", "10.255.255.255"}, out: []string{"9.255.255.255", "11.0.0.0"}},
		{expr: "10.1.2.3/8", want: "10.0.0.0/8", in: []string{"10.9.9.9"}},
		{expr: "10.0.0.0/255.0.0.0", want: "10.0.0.0/8"},
		{expr: "1.1.1.1-1.1.1.10", want: "1.1.1.1-1.1.1.10", in: []string{"1.1.1.1", "1.1.1.10"}, out: []string{"1.1.1.0", "1.1.1.11"}},
		{expr: "1.1.1.0-1.1.1.255", want: "1.1.1.0/24"},
		{expr: "[1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.0]", want: "1.1.1.0/30"},
		{expr: "0.0.0.0/0", want: "0.0.0.0/0", in: []string{"1.2.3.4"}, out: []string{"::1", "2001:db8::1"}},
		{expr: "::/0", want: "::/0", in: []string{"::1"}, out: []string{"1.2.3.4", "::ffff:1.2.3.4"}},
		{expr: "[0.0.0.0/0,::/0]", want: "any", anyAll: true},
		{expr: "!1.2.3.4", want: "[0.0.0.0-1.2.3.3,1.2.3.5-255.255.255.255]", in: []string{"1.2.3.3", "1.2.3.5", "0.0.0.0"}, out: []string{"1.2.3.4", "::1"}},
		{expr: "![1.1.1.1,1.1.1.2]", in: []string{"1.1.1.3"}, out: []string{"1.1.1.1", "1.1.1.2", "::1"}},
		{expr: "[10.0.0.0/8,!10.1.2.3]", want: "[10.0.0.0-10.1.2.2,10.1.2.4-10.255.255.255]", in: []string{"10.1.2.2", "10.1.2.4"}, out: []string{"10.1.2.3", "11.0.0.0"}},
		{expr: "[!10.1.2.3,10.0.0.0/8]", want: "[10.0.0.0-10.1.2.2,10.1.2.4-10.255.255.255]"},
		{expr: "[!1.1.1.1,!2.2.2.2]", in: []string{"3.3.3.3"}, out: []string{"1.1.1.1", "2.2.2.2", "::1"}},
		{expr: "[10.0.0.0/8,!192.168.0.1]", want: "10.0.0.0/8"},
		{expr: "[10.0.0.0/8,!9.0.0.0-10.0.0.5]", want: "10.0.0.6-10.255.255.255"},
		{expr: "[10.0.0.0/8,!2001:db8::1]", in: []string{"10.0.0.1", "2001:db8::2", "::"}, out: []string{"2001:db8::1", "11.0.0.0"}},
		{expr: "[2001:db8::/32,!2001:db8::/48]", want: "2001:db8:1::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", in: []string{"2001:db8:1::"}, out: []string{"2001:db8::1", "2001:db9::"}},
		{expr: "2001:db8::1-2001:db8::ff", want: "2001:db8::1-2001:db8::ff"},
		{expr: "2001:db8::/127", want: "2001:db8::/127"},
		{expr: "::ffff:10.0.0.0/104", want: "10.0.0.0/8", in: []string{"10.1.1.1", "::ffff:10.1.1.1"}, out: []string{"11.0.0.0"}},
		{expr: "::ffff:10.0.0.1-::ffff:10.0.0.3", want: "10.0.0.1-10.0.0.3"},
		{expr: "$HOME_NET", want: "[10.0.0.0/8,172.16.0.0/12,192.168.0.0/16]", in: []string{"10.2.3.4", "172.31.255.255", "192.168.1.1"}, out: []string{"172.32.0.0", "8.8.8.8", "fd00::1"}},
		{expr: "$EXTERNAL_NET", in: []string{"8.8.8.8", "172.32.0.0"}, out: []string{"10.0.0.1", "192.168.1.1", "2001:db8::1"}},
		{expr: "!$HOME_NET", in: []string{"8.8.8.8"}, out: []string{"10.0.0.1", "::1"}},
		{expr: "!$EXTERNAL_NET", want: "[10.0.0.0/8,172.16.0.0/12,192.168.0.0/16]"},
		{expr: "[$EXTERNAL_NET,!255.255.255.255]", in: []string{"8.8.8.8"}, out: []string{"255.255.255.255", "10.0.0.1"}},
		{expr: "[$HOME_NET,$HTTP_SERVERS]", want: "[10.0.0.0/8,172.16.0.0/12,192.168.0.0/16]"},
		{expr: "$AIM_SERVERS", in: []string{"8.8.8.8"}, out: []string{"10.0.0.1"}},
		{expr: "$DUAL", in: []string{"10.0.0.1", "2001:db8::5", "fe80::1"}, out: []string{"8.8.8.8", "2001:db9::"}},
		{expr: "$NOT_DUAL", in: []string{"8.8.8.8", "2001:db9::"}, out: []string{"10.0.0.1", "2001:db8::5"}},
		// Nested lists are sets: 10/8 minus (10.1/16 minus 10.1.2/24).
		{expr: "$NESTED", in: []string{"10.0.0.1", "10.1.2.3", "2001:db8::1"}, out: []string{"10.1.3.1", "10.1.0.0"}},
		{expr: "[[1.0.0.0/8,[2.0.0.0/8,[3.0.0.0/8]]],4.0.0.0/8]", want: "1.0.0.0-4.255.255.255"},
	}
	for _, tt := range tests {
		s := mustCompile(t, tt.expr, v)
		if tt.want != "" && s.String() != tt.want {
			t.Errorf("%s: String() = %s, want %s", tt.expr, s.String(), tt.want)
		}
		if s.Any() != tt.anyAll {
			t.Errorf("%s: Any() = %v", tt.expr, s.Any())
		}
		for _, a := range tt.in {
			if !s.Contains(netip.MustParseAddr(a)) {
				t.Errorf("%s: Contains(%s) = false, want true", tt.expr, a)
			}
		}
		for _, a := range tt.out {
			if s.Contains(netip.MustParseAddr(a)) {
				t.Errorf("%s: Contains(%s) = true, want false", tt.expr, a)
			}
		}
		// String is canonical and compiles back to the same set.
		if again := mustCompile(t, s.String(), v); again.String() != s.String() {
			t.Errorf("%s: String %s recompiles to %s", tt.expr, s.String(), again.String())
		}
	}
}

func TestCompileAddressErrors(t *testing.T) {
	v := testVars()
	tests := []struct{ expr, want string }{
		{"[1.2.3.4,!1.2.3.4]", `address "[1.2.3.4,!1.2.3.4]": matches no address`},
		{"[1.1.1.1,![1.1.1.1]]", "matches no address"},
		{"[1.2.3.0/24,!1.2.3.0-1.2.3.255]", "matches no address"},
		{"[10.0.0.0/8,!$HOME_NET,!$EXTERNAL_NET]", "whole IPv4 space"},
		{"[::1,!0.0.0.0/0]", "negations cover the whole IPv4 space"},
		{"[1.2.3.4,!::/0]", "negations cover the whole IPv6 space"},
		{"!$ANYVAR", "whole IPv4 and IPv6 space"},
		{"$NOTHING", "in $NOTHING: negations cover the whole IPv4 and IPv6 space"},
		{"[1.2.3.4,$NOTHING]", "in $NOTHING"},
		{"$NOPE", "undefined address variable $NOPE (add it to vars.address-groups)"},
		{"$UNDEF", "in $UNDEF: undefined address variable $NOPE"},
		{"$LOOP_A", "address variable $LOOP_A refers to itself"},
		{"$BROKEN", "address variable $BROKEN:"},
		{"$HTTP_PORTS", "$HTTP_PORTS is a port group, used as an address"},
	}
	for _, tt := range tests {
		a, err := rules.ParseAddress(tt.expr)
		if err != nil {
			t.Fatalf("ParseAddress(%q): %v", tt.expr, err)
		}
		s, err := CompileAddress(a, v)
		if err == nil {
			t.Errorf("CompileAddress(%q) = %s, want error containing %q", tt.expr, s, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CompileAddress(%q) error %q, want it to contain %q", tt.expr, err, tt.want)
		}
	}
	// An empty variable is reported under its own name.
	v.AddressGroups["EMPTY"] = "[1.2.3.4,!1.2.3.4]"
	a, _ := rules.ParseAddress("[5.5.5.5,$EMPTY]")
	if _, err := CompileAddress(a, v); err == nil || !strings.Contains(err.Error(), `address variable $EMPTY = "[1.2.3.4,!1.2.3.4]" matches no address`) {
		t.Errorf("empty variable: got %v", err)
	}
}

func TestCoverage(t *testing.T) {
	v := testVars()
	tests := []struct {
		expr string
		want float64
	}{
		{"any", 1},
		{"0.0.0.0/0", 0.5},
		{"::/0", 0.5},
		{"128.0.0.0/1", 0.25},
		{"$HOME_NET", (1.0/256 + 1.0/4096 + 1.0/65536) / 2},
		{"1.2.3.4", 1.0 / (1 << 33)},
	}
	for _, tt := range tests {
		if got := mustCompile(t, tt.expr, v).Coverage(); got != tt.want {
			t.Errorf("Coverage(%s) = %g, want %g", tt.expr, got, tt.want)
		}
	}
	home, ext := mustCompile(t, "$HOME_NET", v), mustCompile(t, "$EXTERNAL_NET", v)
	if home.Coverage()+ext.Coverage() != 0.5 {
		t.Errorf("HOME_NET and EXTERNAL_NET should split IPv4: %g + %g", home.Coverage(), ext.Coverage())
	}
}

func TestContainsAllocs(t *testing.T) {
	v := testVars()
	home := mustCompile(t, "$HOME_NET", v)
	big := mustCompile(t, "[1.0.0.1,1.0.0.3,1.0.0.5,1.0.0.7,1.0.0.9,1.0.0.11,1.0.0.13,1.0.0.15,1.0.0.17,1.0.0.19,2001:db8::1,2001:db8::3]", v)
	addrs := []netip.Addr{netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("::ffff:1.0.0.9"), netip.MustParseAddr("2001:db8::3"), netip.MustParseAddr("fe80::1%eth0")}
	n := testing.AllocsPerRun(100, func() {
		for _, a := range addrs {
			home.Contains(a)
			big.Contains(a)
		}
	})
	if n != 0 {
		t.Errorf("Contains allocates %v times per run", n)
	}
	if !big.Contains(addrs[1]) || !big.Contains(addrs[2]) || big.Contains(netip.MustParseAddr("1.0.0.10")) {
		t.Error("binary search disagrees")
	}
	var zero Set
	if zero.Contains(addrs[0]) || zero.Contains(netip.Addr{}) || home.Contains(netip.Addr{}) {
		t.Error("the zero Set or the zero Addr matched")
	}
}

func BenchmarkContainsHomeNet(b *testing.B) {
	home := mustCompile(b, "$HOME_NET", rules.DefaultVars())
	addrs := []netip.Addr{netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("192.168.1.1"), netip.MustParseAddr("2001:db8::1")}
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		if home.Contains(addrs[i&3]) {
			n++
		}
	}
	_ = n
}
