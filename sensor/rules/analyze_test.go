package rules

import (
	"fmt"
	"github.com/polder-nsm/polder/internal/corpus"
	"path/filepath"
	"strings"
	"testing"
)

func TestAnalyzeRule(t *testing.T) {
	const http = `alert http any any -> any any (msg:"t"; `
	tests := []struct {
		name    string
		rule    string
		keyword string // "" = no warning
		col     int
		msg     string
	}{
		// The cases of suricata-verify's detect-bsize-01, with Suricata's
		// numbers.
		{"content over bsize", http + `http.uri; content:"abcdefgh123456"; bsize:2; sid:1;)`, "bsize", 77,
			"signature can't match as required content length 14 exceeds bsize value: 2"},
		{"content over bsize <", http + `http.uri; content:"abcdefgh123456"; bsize:<13; sid:2;)`, "bsize", 77,
			"signature can't match as required content length 14 exceeds bsize value: <13"},
		{"content over bsize range", http + `http.uri; content:"abcdefgh123456"; bsize:10<>13; sid:3;)`, "bsize", 77,
			"signature can't match as required content length 14 exceeds bsize range: 10-13"},
		{"content alone too long, offset not counted", http + `http.uri; content:"abcdefghi123456"; offset:12; bsize:3; sid:4;)`, "bsize", 89,
			"signature can't match as required content length 15 exceeds bsize value: 3"},
		{"offset makes it too long", http + `http.uri; content:"abc"; offset:3; depth:3; bsize:3; sid:5;)`, "bsize", 85,
			"signature can't match as required content length 6 exceeds bsize value: 3"},
		{"longest of unrelated contents", http + `http.uri; content:"abcef"; content:"gh"; bsize:1; sid:6;)`, "bsize", 82,
			"signature can't match as required content length 5 exceeds bsize value: 1"},
		{"bsize 4", http + `http.uri; content:"abcef"; content:"g"; bsize:4; sid:9;)`, "bsize", 81,
			"signature can't match as required content length 5 exceeds bsize value: 4"},
		{"bsize above", http + `http.uri; content:"/index.php"; bsize:>1024; sid:7;)`, "", 0, ""},
		{"bsize below is room enough", http + `http.uri; content:"abcdefgh123456"; bsize:<20; sid:10;)`, "", 0, ""},
		{"bsize range is room enough", http + `http.uri; content:"abcdefgh123456"; bsize:15<>25; sid:11;)`, "", 0, ""},

		// Exact bounds.
		{"bsize < is exclusive", http + `http.uri; content:"abcd"; bsize:<4; sid:12;)`, "bsize", 67,
			"signature can't match as required content length 4 exceeds bsize value: <4"},
		{"bsize <= is inclusive", http + `http.uri; content:"abcd"; bsize:<=4; sid:13;)`, "", 0, ""},
		{"bsize range is exclusive", http + `http.uri; content:"abcd"; bsize:1<>4; sid:14;)`, "bsize", 67,
			"signature can't match as required content length 4 exceeds bsize range: 1-4"},
		{"bsize A-B range", http + `http.uri; content:"abcd"; bsize:1-4; sid:15;)`, "bsize", 67,
			"signature can't match as required content length 4 exceeds bsize range: 1-4"},

		// Relative chains add up; negated contents and lost anchors do not.
		{"distance adds", http + `http.uri; content:"ab"; content:"cd"; distance:2; bsize:5; sid:16;)`, "bsize", 91,
			"signature can't match as required content length 6 exceeds bsize value: 5"},
		{"within alone is distance 0", http + `http.uri; content:"ab"; content:"cd"; within:4; bsize:3; sid:17;)`, "bsize", 89,
			"signature can't match as required content length 4 exceeds bsize value: 3"},
		{"negative distance overlaps", http + `http.uri; content:"abc"; content:"cd"; distance:-1; bsize:4; sid:18;)`, "", 0, ""},
		{"negated content", http + `http.uri; content:!"abcdef"; bsize:3; sid:19;)`, "", 0, ""},
		{"relative pcre keeps the anchor", http + `http.uri; content:"ab"; pcre:"/x/R"; content:"cd"; distance:0; bsize:3; sid:20;)`, "bsize", 104,
			"signature can't match as required content length 4 exceeds bsize value: 3"},
		{"pcre resets the anchor", http + `http.uri; content:"ab"; pcre:"/x/"; content:"cd"; distance:0; bsize:3; sid:21;)`, "", 0, ""},
		{"byte_jump resets the anchor", http + `http.uri; content:"ab"; byte_jump:1,0,relative; content:"cd"; distance:0; bsize:3; sid:22;)`, "", 0, ""},
		{"variable offset", http + `http.uri; byte_extract:1,0,off; content:"abcd"; offset:off; bsize:4; sid:23;)`, "", 0, ""},
		{"other buffer", http + `http.uri; bsize:2; http.host; content:"example.com"; sid:24;)`, "", 0, ""},
		{"same buffer selected twice", http + `http.uri; bsize:2; http.uri; content:"example.com"; sid:25;)`, "", 0, ""},

		// dsize and urilen.
		{"dsize", `alert udp any any -> any any (msg:"t"; dsize:3; content:"abcd"; sid:30;)`, "dsize", 40,
			"signature can't match as required content length 4 exceeds dsize value 3"},
		{"dsize <", `alert udp any any -> any any (msg:"t"; dsize:<4; content:"ab"; offset:2; depth:2; sid:31;)`, "dsize", 40,
			"signature can't match as required content length 4 exceeds dsize value 3"},
		{"dsize fits", `alert udp any any -> any any (msg:"t"; dsize:<=4; content:"ab"; offset:2; sid:32;)`, "", 0, ""},
		{"dsize with pkt_data transform", `alert udp any any -> any any (msg:"t"; dsize:3; pkt_data; to_md5; content:"|00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f|"; sid:33;)`, "", 0, ""},
		{"urilen", http + `urilen:<3; http.uri; content:"/abc"; sid:34;)`, "urilen", 41,
			"signature can't match as required content length 4 exceeds urilen value 2"},
		{"urilen raw", http + `urilen:3,raw; http.uri.raw; content:"/abc"; sid:35;)`, "urilen", 41,
			"signature can't match as required content length 4 exceeds urilen value 3"},
		{"urilen raw, normalized content", http + `urilen:3,raw; http.uri; content:"/abc"; sid:36;)`, "", 0, ""},
		{"legacy uricontent", http + `urilen:2; uricontent:"/abc"; sid:37;)`, "urilen", 41,
			"signature can't match as required content length 4 exceeds urilen value 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse(tt.rule)
			if err != nil {
				t.Fatal(err)
			}
			ws := AnalyzeRule(r)
			if tt.keyword == "" {
				if len(ws) != 0 {
					t.Errorf("want no warning, got %v", ws[0])
				}
				return
			}
			if len(ws) != 1 {
				t.Fatalf("want 1 warning, got %d %v", len(ws), ws)
			}
			w := ws[0]
			if w.Keyword != tt.keyword || w.Line != 1 || w.Col != tt.col || w.SID != r.SID || w.Msg != tt.msg {
				t.Errorf("got  %s (col %d)\nwant %d: sid %d: %s: %s", w, w.Col, tt.col, r.SID, tt.keyword, tt.msg)
			}
		})
	}
}

// TestAnalyzeGolden runs the analyzer over testdata/analyze/*.rules and
// compares its warnings with the .golden files (-update rewrites them).
func TestAnalyzeGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/analyze/*.rules")
	if len(files) == 0 {
		t.Fatal("no testdata/analyze/*.rules")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			set, errs := LoadFile(f, DefaultVars())
			if len(errs) > 0 {
				t.Fatalf("%v", errs)
			}
			var b strings.Builder
			ws := set.Analyze()
			fmt.Fprintf(&b, "%d rules, %d warnings\n", len(set.Rules), len(ws))
			for _, w := range ws {
				fmt.Fprintln(&b, strings.TrimPrefix(w.String(), filepath.Dir(f)+"/"))
			}
			checkGolden(t, strings.TrimSuffix(f, ".rules")+".golden", b.String(), "TestAnalyzeGolden", "the analyzer")
		})
	}
}

// TestAnalyzeETOpen: Suricata 7 loads every ET Open rule, and it refuses
// the rules this analyzer flags, so ET Open must give no warning. ET writes
// most bsize keywords as the exact length of the buffer's content: the
// analyzer must find the required length equal to the bound there (one
// byte less would flag them), which checks its arithmetic on real rules.
func TestAnalyzeETOpen(t *testing.T) {
	files := corpus.Glob(t, "rules/et-open-suricata-5.0-20240421/*.rules")
	set, _ := LoadFiles(files, LoadOptions{Vars: DefaultVars()})
	ws := set.Analyze()
	for _, w := range ws {
		t.Errorf("warning on ET Open: %s", w)
	}
	bounded, exact := 0, 0
	for _, r := range set.Rules {
		for _, b := range r.Buffers {
			for _, m := range b.Matches {
				c, ok := m.(*Compare)
				if !ok || c.Name != "bsize" {
					continue
				}
				if n, ok := upperBound(c); ok && n > 0 {
					bounded++
					if _, over := exceeds(b.Matches, n-1); over {
						exact++
					}
				}
			}
		}
	}
	t.Logf("ET Open: %d rules, %d warnings; %d bsize bounds, %d filled exactly by their contents", len(set.Rules), len(ws), bounded, exact)
	if exact < bounded/2 {
		t.Errorf("only %d of %d bsize bounds are filled exactly by their contents: the required length is underestimated", exact, bounded)
	}
}
