package http

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/polder-nsm/polder/internal/corpus"
)

// TestAccuracyTshark measures how the (host without port, URI) pairs of
// the requests this parser logs agree with what tshark dissects, over every
// corpus pcap for which a tshark dump exists. Development aid, not a gate:
//
//	for f in pcaps: tshark -n -r f -o tcp.try_heuristic_first:TRUE --enable-heuristic http_tcp \
//	    -o tcp.check_checksum:FALSE -Y http.request -T fields \
//	    -e http.host -e http.request.uri -e http.request.method > $DIR/<rel>.tsv
//
// Pairs follow internal/oracle's rules (authority of an absolute URI or
// CONNECT target wins; host lower-cased without port; non-printable values
// dropped). The replay is replayPcap's naive stream handling (no IP
// defragmentation, TCP only), so it slightly understates the pipeline.
//
//	POLDER_HTTP_TSHARK=$DIR go test -run Accuracy -v ./sensor/applayer/http/
func TestAccuracyTshark(t *testing.T) {
	dir := os.Getenv("POLDER_HTTP_TSHARK")
	if dir == "" {
		t.Skip("set POLDER_HTTP_TSHARK to a directory of tshark dumps")
	}
	var inter, union, nt, np int
	type row struct {
		rel         string
		miss, extra []string
	}
	var rows []row
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(path, ".tsv") {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		rel = strings.TrimSuffix(rel, ".tsv")
		want := map[string]bool{}
		f, _ := os.Open(path)
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			parts := strings.Split(sc.Text(), "\t")
			if len(parts) < 2 {
				continue
			}
			// tshark joins the fields of several requests in one frame
			// with ','. Zip hosts and URIs when the counts agree (a URI
			// may itself hold commas).
			method := ""
			if len(parts) > 2 {
				method = parts[2]
			}
			hosts, uris, methods := strings.Split(parts[0], ","), strings.Split(parts[1], ","), strings.Split(method, ",")
			if len(hosts) > 1 && len(hosts) == len(uris) {
				for i := range hosts {
					m := ""
					if i < len(methods) {
						m = methods[i]
					}
					addPair(want, oracleHost(hosts[i], uris[i], m), uris[i])
				}
				continue
			}
			addPair(want, oracleHost(hosts[0], parts[1], methods[0]), parts[1])
		}
		f.Close()
		got := map[string]bool{}
		if _, err := os.Stat(corpus.Path(t, "pcaps", rel)); err != nil {
			return nil
		}
		for _, tx := range replayPcap(t, corpus.Path(t, "pcaps", rel)) {
			if !tx.reqSeen {
				continue
			}
			addPair(got, string(tx.Host), string(tx.URI))
		}
		var r row
		r.rel = rel
		for k := range want {
			nt++
			if got[k] {
				inter++
			} else {
				r.miss = append(r.miss, k)
			}
		}
		for k := range got {
			np++
			if !want[k] {
				r.extra = append(r.extra, k)
			}
		}
		union += len(want) + len(got)
		if len(r.miss)+len(r.extra) > 0 {
			sort.Strings(r.miss)
			sort.Strings(r.extra)
			rows = append(rows, r)
		}
		return nil
	})
	union -= inter
	for _, r := range rows {
		t.Logf("%s: missing %d extra %d\n  missing: %s\n  extra:   %s", r.rel, len(r.miss), len(r.extra), trunc(r.miss), trunc(r.extra))
	}
	if union == 0 {
		t.Skip("no pairs")
	}
	t.Logf("pairs: tshark %d, parser %d, both %d; agreement (|∩|/|∪|) %.2f%%, recall %.2f%%, precision %.2f%%",
		nt, np, inter, 100*float64(inter)/float64(union), 100*float64(inter)/float64(max(nt, 1)), 100*float64(inter)/float64(max(np, 1)))
}

// pairKey normalises a (host, uri) pair: host lower-cased without port.
func pairKey(host, uri string) string {
	h, _ := splitHostPort([]byte(host))
	return strings.ToLower(string(trimDots(h))) + " " + uri
}

// oracleHost applies the lead's oracle rule (internal/oracle) to tshark's
// fields: the authority of an absolute URI or CONNECT target wins over the
// Host header, as libhtp does.
func oracleHost(hostHeader, uri, method string) string {
	if h, _, ok := uriAuthority([]byte(uri), []byte(method)); ok {
		return string(h)
	}
	return hostHeader
}

// addPair adds a normalised pair, skipping values with bytes outside
// printable ASCII (tshark and EVE escape them differently; the oracle drops
// them too).
func addPair(set map[string]bool, host, uri string) {
	for _, s := range []string{host, uri} {
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] > 0x7e {
				return
			}
		}
	}
	set[pairKey(host, uri)] = true
}
