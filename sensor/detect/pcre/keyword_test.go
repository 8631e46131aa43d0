package pcre

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSuricata(t *testing.T) {
	tests := []struct {
		in      string
		want    Keyword
		wantErr bool
	}{
		{`"/foo/"`, Keyword{Expr: "foo"}, false},
		{`/foo/i`, Keyword{Expr: "foo", Flags: Flags{Caseless: true}}, false},
		{`!"/foo/Ri"`, Keyword{Negated: true, Expr: "foo", Flags: Flags{Caseless: true}, Relative: true, EngineMods: "R"}, false},
		{` ! "/a\/b/ismxAEG"`, Keyword{Negated: true, Expr: `a\/b`, Flags: Flags{true, true, true, true, true, true, true}}, false},
		{`"/a\\/U"`, Keyword{Expr: `a\\`, Buffer: 'U', EngineMods: "U"}, false},
		{`"/x/OB"`, Keyword{Expr: "x", MatchLimit: true, Buffer: 'B', EngineMods: "OB"}, false},
		{`"/(?P<flow_x>.*)/, flow:x"`, Keyword{Expr: "(?P<flow_x>.*)", Captures: "flow:x"}, false},
		{`"/(a)/i", flow:x`, Keyword{Expr: "(a)", Flags: Flags{Caseless: true}, Captures: "flow:x"}, false},
		{`"/x/" y`, Keyword{}, true},
		{`"/a/b/i"`, Keyword{Expr: "a/b", Flags: Flags{Caseless: true}}, false},
		{`"/x/UI"`, Keyword{}, true},
		{`"/x/BU"`, Keyword{}, true},
		{`"/x/q"`, Keyword{}, true},
		{`"foo"`, Keyword{}, true},
		{`"/foo"`, Keyword{}, true},
	}
	for _, tt := range tests {
		got, err := ParseSuricata(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseSuricata(%s) err = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil {
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("ParseSuricata(%s) (-want +got):\n%s", tt.in, d)
			}
		}
	}
	if s := (Flags{true, true, true, true, true, true, true}).String(); s != "ismxAEG" {
		t.Errorf("Flags.String = %q", s)
	}
}
