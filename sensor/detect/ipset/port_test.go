package ipset

import (
	"strings"
	"testing"

	"github.com/polder-nsm/polder/sensor/rules"
)

func mustCompilePort(t testing.TB, expr string, v rules.Vars) *PortSet {
	t.Helper()
	p, err := rules.ParsePort(expr)
	if err != nil {
		t.Fatalf("ParsePort(%q): %v", expr, err)
	}
	s, err := CompilePort(p, v)
	if err != nil {
		t.Fatalf("CompilePort(%q): %v", expr, err)
	}
	return s
}

func TestCompilePort(t *testing.T) {
	v := testVars()
	tests := []struct {
		expr, want string
		in, out    []uint16
	}{
		{"any", "any", []uint16{0, 1, 65535}, nil},
		{"80", "80", []uint16{80}, []uint16{79, 81}},
		{"1024:", "1024:", []uint16{1024, 65535}, []uint16{1023}},
		{":1023", "0:1023", []uint16{0, 1023}, []uint16{1024}},
		{"0:", "any", nil, nil},
		{"[80,81,82]", "80:82", nil, []uint16{83}},
		{"[1:80,!53]", "[1:52,54:80]", []uint16{1, 52, 54, 80}, []uint16{0, 53, 81}},
		{"[80:100,!99]", "[80:98,100]", nil, nil},
		{"[1:80,![2,4]]", "[1,3,5:80]", nil, nil},
		{"[1:80,!100]", "1:80", nil, nil},
		{"!80", "[0:79,81:]", []uint16{0, 65535}, []uint16{80}},
		{"![0:100,1000:3000]", "[101:999,3001:]", nil, nil},
		{"[80:88,85:100]", "80:100", nil, nil},
		{"[!80,!443]", "[0:79,81:442,444:]", nil, []uint16{80, 443}},
		{"$HTTP_PORTS", "80", nil, nil},
		{"!$HTTP_PORTS", "[0:79,81:]", nil, nil},
		{"$SHELLCODE_PORTS", "[0:79,81:]", nil, nil},
		{"$FILE_DATA_PORTS", "[80,110,143]", nil, nil},
		{"$NOT_WEB", "[0:79,81:442,444:7999,9000:]", []uint16{8999 + 1}, []uint16{443, 8500}},
		{"[$WEB,!8080]", "[80,443,8000:8079,8081:8999]", nil, nil},
		{"[1,3,5,7,9,11,13,15,17,19,21]", "[1,3,5,7,9,11,13,15,17,19,21]", []uint16{1, 13, 21}, []uint16{0, 2, 14, 20, 22, 65535}},
	}
	for _, tt := range tests {
		p := mustCompilePort(t, tt.expr, v)
		if p.String() != tt.want {
			t.Errorf("%s: String() = %s, want %s", tt.expr, p, tt.want)
		}
		if p.Any() != (tt.want == "any") {
			t.Errorf("%s: Any() = %v", tt.expr, p.Any())
		}
		for _, x := range tt.in {
			if !p.Contains(x) {
				t.Errorf("%s: Contains(%d) = false", tt.expr, x)
			}
		}
		for _, x := range tt.out {
			if p.Contains(x) {
				t.Errorf("%s: Contains(%d) = true", tt.expr, x)
			}
		}
		if again := mustCompilePort(t, p.String(), v); again.String() != p.String() {
			t.Errorf("%s: String %s recompiles to %s", tt.expr, p, again)
		}
	}
}

func TestCompilePortErrors(t *testing.T) {
	v := testVars()
	tests := []struct{ expr, want string }{
		{"[80,!80]", `port "[80,!80]": matches no port`},
		{"[1:10,![0:5,6:20]]", "matches no port"},
		{"!$ALLP", "matches no port"},
		{"$NOPE", "undefined port variable $NOPE (add it to vars.port-groups)"},
		{"$PLOOP", "port variable $PLOOP refers to itself"},
		{"$HOME_NET", "$HOME_NET is an address group, used as a port"},
	}
	for _, tt := range tests {
		p, err := rules.ParsePort(tt.expr)
		if err != nil {
			t.Fatalf("ParsePort(%q): %v", tt.expr, err)
		}
		s, err := CompilePort(p, v)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CompilePort(%q) = %v, %v; want error containing %q", tt.expr, s, err, tt.want)
		}
	}
}

func TestPortContainsAllocs(t *testing.T) {
	v := testVars()
	ps := []*PortSet{mustCompilePort(t, "any", v), mustCompilePort(t, "[1:80,!53]", v), mustCompilePort(t, "[1,3,5,7,9,11,13,15,17,19,21]", v)}
	n := testing.AllocsPerRun(100, func() {
		for _, p := range ps {
			p.Contains(53)
			p.Contains(19)
		}
	})
	if n != 0 {
		t.Errorf("Contains allocates %v times per run", n)
	}
}

func BenchmarkPortContains(b *testing.B) {
	p := mustCompilePort(b, "[1:80,!53,443,8000:8999]", rules.DefaultVars())
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		if p.Contains(uint16(i)) {
			n++
		}
	}
	_ = n
}
