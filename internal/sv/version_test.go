package sv

import "testing"

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in    string
		exact bool
		want  Version
	}{
		{"8", false, Version{8, 0, 0}},
		{"8", true, Version{8, -1, -1}},
		{"6.0", false, Version{6, 0, 0}},
		{"6.0.11", false, Version{6, 0, 11}},
		{"4.1.0-dev", false, Version{4, 1, 0}},
		{"Suricata version 8.0.6 RELEASE", false, Version{8, 0, 6}},
	} {
		got, err := ParseVersion(tc.in, tc.exact)
		if err != nil || got != tc.want {
			t.Errorf("ParseVersion(%q, %v) = %v, %v; want %v", tc.in, tc.exact, got, err, tc.want)
		}
	}
	if _, err := ParseVersion("dev", false); err == nil {
		t.Error("ParseVersion(dev): no error")
	}
}

// TestVersionGates checks the requirement gates as polder (8.0.0) meets
// them, with YAML values as test.yaml writes them.
func TestVersionGates(t *testing.T) {
	env := Env{Version: DefaultVersion, Features: DefaultFeatures}
	for _, tc := range []struct {
		name string
		r    Requires
		ok   bool
	}{
		{"min 8 (int)", Requires{MinVersion: int64(8)}, true},
		{"min 8.0.0", Requires{MinVersion: "8.0.0"}, true},
		{"min 6.0 (float)", Requires{MinVersion: 6.0}, true},
		{"min 8.0.1", Requires{MinVersion: "8.0.1"}, false},
		{"min 9", Requires{MinVersion: int64(9)}, false},
		{"lt 8", Requires{LtVersion: int64(8)}, false},
		{"lt 8.0.1", Requires{LtVersion: "8.0.1"}, true},
		{"lt 9", Requires{LtVersion: int64(9)}, true},
		{"gt 6.0.11", Requires{GtVersion: "6.0.11"}, true},
		{"gt 8", Requires{GtVersion: int64(8)}, false},
		{"version 8", Requires{Version: int64(8)}, true},
		{"version 8.0", Requires{Version: 8.0}, true},
		{"version 8.1", Requires{Version: 8.1}, false},
		{"version 7", Requires{Version: int64(7)}, false},
		{"feature JA3", Requires{Features: []string{"HAVE_JA3"}}, true},
		{"feature LUA", Requires{Features: []string{"HAVE_LUA"}}, false},
		{"env", Requires{Env: []string{"SV_SURELY_UNSET"}}, false},
		{"files", Requires{Files: []string{"src/detect-engine.c"}}, false},
		{"pcap false", Requires{Pcap: new(bool)}, true},
	} {
		why, err := env.unsatisfied(tc.r)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if (why == "") != tc.ok {
			t.Errorf("%s: unsatisfied = %q, want ok=%v", tc.name, why, tc.ok)
		}
	}
	if _, err := env.unsatisfied(Requires{Unknown: []string{"frobnicate"}}); err == nil {
		t.Error("unknown requires key: no error")
	}
}

// TestVersionLTQuirk pins run.py's is_lt, which does not check that the
// higher part was equal before comparing a lower one.
func TestVersionLTQuirk(t *testing.T) {
	if !versionLT(Version{8, 1, 0}, Version{8, 0, 5}) {
		t.Error("versionLT(8.1.0, 8.0.5) = false; run.py says true")
	}
	if versionLT(Version{8, 0, 0}, Version{8, 0, 0}) {
		t.Error("versionLT(8.0.0, 8.0.0) = true")
	}
}
