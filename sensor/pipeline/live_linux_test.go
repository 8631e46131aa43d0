package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/polder-nsm/polder/internal/netnstest"
)

// TestLiveVeth runs the sensor on two interfaces at once: the outer ends of
// two veth pairs whose other ends are in namespaces the test made, each with
// an HTTP server and a DNS server. It sends known requests from our side and
// checks the EVE the sensor wrote: every request and query with the
// interface it came in on, the flows with traffic both ways, and kernel
// capture stats.
func TestLiveVeth(t *testing.T) {
	netnstest.NeedRoot(t)
	// Two interfaces at once, two fanout workers each.
	pairs := []*netnstest.VethPair{netnstest.NewVethPair(t, "pl", 0), netnstest.NewVethPair(t, "pl", 1)}
	var names []string
	for _, v := range pairs {
		serveInNS(t, v)
		v.Up(t) // capture refuses an interface that is down
		names = append(names, v.Outer)
	}

	dir := t.TempDir()
	cfg := testConfig()
	cfg.SetInterfaces(names, 2)
	cfg.EVE.StatsInterval = 500 * time.Millisecond
	live, err := OpenLive(Options{Config: cfg, LogDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- live.Run(ctx) }()
	time.Sleep(300 * time.Millisecond) // let the links come up

	const n = 3
	client := &nethttp.Client{Timeout: 5 * time.Second, Transport: &nethttp.Transport{DisableKeepAlives: true}}
	for p, v := range pairs {
		for i := range n {
			req, _ := nethttp.NewRequest("GET", fmt.Sprintf("http://%s/path-%d?q=%d", netip.AddrPortFrom(v.InnerAddr, 8080), i, i), nil)
			req.Host = fmt.Sprintf("host-%d-%d.polder.test", p, i)
			req.Header.Set("User-Agent", "polder-live-test")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err := queryDNS(netip.AddrPortFrom(v.InnerAddr, 53), fmt.Sprintf("q-%d-%d.polder.test.", p, i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	time.Sleep(700 * time.Millisecond) // let the last packets reach the ring and a stats event pass
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	events := readEVE(t, filepath.Join(dir, "eve.json"))
	hosts, queries := map[string]string{}, map[string]bool{}
	ifaceOf := map[string]string{}
	httpFlows := 0
	var kernelPkts float64
	for _, e := range events {
		switch e["event_type"] {
		case "http":
			h := e["http"].(map[string]any)
			hosts[h["hostname"].(string)] = h["url"].(string)
			ifaceOf[h["hostname"].(string)], _ = e["in_iface"].(string)
			if h["http_user_agent"] != "polder-live-test" || h["status"] != float64(200) {
				t.Errorf("http event lacks user agent or status: %v", h)
			}
		case "dns":
			d := e["dns"].(map[string]any)
			for _, q := range d["queries"].([]any) {
				queries[q.(map[string]any)["rrname"].(string)] = true
			}
		case "flow":
			f := e["flow"].(map[string]any)
			if e["app_proto"] == "http" {
				httpFlows++
				if f["pkts_toserver"].(float64) < 3 || f["pkts_toclient"].(float64) < 3 {
					t.Errorf("http flow missing packets: %v", f)
				}
				if e["dest_port"] != float64(8080) {
					t.Errorf("http flow oriented wrongly: %v", e)
				}
			}
		case "stats":
			if c, ok := e["stats"].(map[string]any)["capture"].(map[string]any); ok {
				kernelPkts = max(kernelPkts, c["kernel_packets"].(float64))
			}
		}
	}
	for p, v := range pairs {
		for i := range n {
			host := fmt.Sprintf("host-%d-%d.polder.test", p, i)
			if want := fmt.Sprintf("/path-%d?q=%d", i, i); hosts[host] != want {
				t.Errorf("http %s: url %q, want %q (all: %v)", host, hosts[host], want, hosts)
			}
			if ifaceOf[host] != v.Outer {
				t.Errorf("http %s: in_iface %q, want %q", host, ifaceOf[host], v.Outer)
			}
			if q := fmt.Sprintf("q-%d-%d.polder.test", p, i); !queries[q] {
				t.Errorf("dns query %s not logged (all: %v)", q, queries)
			}
		}
	}
	if httpFlows != n*len(pairs) {
		t.Errorf("%d http flows logged, want %d", httpFlows, n*len(pairs))
	}
	if kernelPkts == 0 {
		t.Error("no stats event with capture.kernel_packets > 0")
	}
}

// serveInNS starts an HTTP server on port 8080 and a DNS server on port 53
// at the namespace end of v, both stopped when the test ends.
func serveInNS(t *testing.T, v *netnstest.VethPair) {
	var httpLn net.Listener
	var dnsConn net.PacketConn
	v.InNS(t, func() (err error) {
		if httpLn, err = net.Listen("tcp4", netip.AddrPortFrom(v.InnerAddr, 8080).String()); err != nil {
			return err
		}
		dnsConn, err = net.ListenPacket("udp4", netip.AddrPortFrom(v.InnerAddr, 53).String())
		return err
	})
	srv := &nethttp.Server{Handler: nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "hello %s", r.URL.Path)
	})}
	go srv.Serve(httpLn)
	t.Cleanup(func() { srv.Close() })
	go serveDNS(dnsConn)
	t.Cleanup(func() { dnsConn.Close() })
}

func readEVE(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("bad EVE line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// serveDNS answers every A query with 192.0.2.1 until conn is closed.
func serveDNS(conn net.PacketConn) {
	buf := make([]byte, 1500)
	for {
		n, addr, err := conn.ReadFrom(buf)
		if err != nil {
			return
		}
		var p dnsmessage.Parser
		h, err := p.Start(buf[:n])
		if err != nil {
			continue
		}
		q, err := p.Question()
		if err != nil {
			continue
		}
		b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, RecursionDesired: h.RecursionDesired})
		b.StartQuestions()
		b.Question(q)
		b.StartAnswers()
		b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.AResource{A: [4]byte{192, 0, 2, 1}})
		msg, err := b.Finish()
		if err == nil {
			conn.WriteTo(msg, addr)
		}
	}
}

// queryDNS sends one A query and waits for the answer.
func queryDNS(server netip.AddrPort, name string) error {
	c, err := net.Dial("udp4", server.String())
	if err != nil {
		return err
	}
	defer c.Close()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 0x4242, RecursionDesired: true})
	b.StartQuestions()
	b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(name), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET})
	msg, err := b.Finish()
	if err != nil {
		return err
	}
	if _, err := c.Write(msg); err != nil {
		return err
	}
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 1500)
	_, err = c.Read(buf)
	return err
}
