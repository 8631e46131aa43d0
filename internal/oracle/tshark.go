package oracle

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// ErrNoTshark is returned when the tshark binary cannot be found.
var ErrNoTshark = errors.New("tshark not found (apt-get install tshark)")

// tsharkFields are the columns asked of tshark, in output order.
var tsharkFields = []string{
	"frame.protocols",                      // protocol stack: tells TCP from QUIC/DTLS, dns from mdns/llmnr
	"dns.qry.name",                         // question names of queries and responses
	"http.request",                         // present once per HTTP request in the frame
	"http.host",                            // Host header(s)
	"http.request.uri",                     // request target(s) as sent
	"tls.handshake.extensions_server_name", // SNI(s)
}

const (
	fieldSep  = '\t'
	aggregSep = "\x1f" // between occurrences; a byte no name or URI holds printably
)

// tsharkArgs returns tshark's arguments for pcap. Dissection uses tshark's
// defaults (TCP reassembly on, the tcp→http and tcp→tls heuristics on),
// stated explicitly where it matters, with one change: TCP heuristic
// dissectors run before the port table (tcp.try_heuristic_first). By
// default a well-known port wins over content, so tshark calls an HTTP
// request to port 22 "SSH" and one to 5060 "SIP"; the sensor must detect
// protocols by content, and an oracle that detects by port would count the
// sensor's correct answers as disagreements.
func tsharkArgs(pcap string) []string {
	args := []string{
		"-r", pcap, "-n",
		"-o", "tcp.desegment_tcp_streams:TRUE",
		"-o", "tcp.try_heuristic_first:TRUE",
		"-o", "tcp.check_checksum:FALSE", // like the sensor's default (Suricata -k none)
		"-o", "http.desegment_headers:TRUE",
		"-o", "tls.desegment_ssl_records:TRUE",
		"-Y", "dns || http.request || tls.handshake.extensions_server_name",
		"-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
		"-E", "aggregator=" + aggregSep, "-E", "quote=n",
	}
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	return args
}

// Tshark runs tshark and optionally caches its raw output. A Tshark is safe
// for concurrent use.
type Tshark struct {
	// Path is the tshark binary; "" means look "tshark" up in PATH.
	Path string
	// CacheDir, if not "", holds one file per pcap with tshark's raw output,
	// keyed by the pcap's path, size and mtime, the tshark version and the
	// arguments. The directory is created on first use.
	CacheDir string

	once    sync.Once
	version string
	verErr  error
}

// DefaultCacheDir is where tests cache tshark's output unless
// POLDER_TSHARK_CACHE names another directory: one cache shared by every
// test binary of a run, so the corpus is dissected once.
func DefaultCacheDir() string {
	if d := os.Getenv("POLDER_TSHARK_CACHE"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "polder-tshark-cache")
}

// TsharkSets runs tshark on pcap, uncached, and returns its Sets. If
// tshark fails part-way (a truncated capture) the Sets hold what it
// printed before failing and err says why.
func TsharkSets(ctx context.Context, pcap string) (Sets, error) {
	var t Tshark
	return t.Sets(ctx, pcap)
}

// Version returns tshark's version line, e.g. "TShark (Wireshark) 4.0.17
// (Git v4.0.17 packaged as 4.0.17-0+deb12u3).", or ErrNoTshark.
func (t *Tshark) Version(ctx context.Context) (string, error) {
	t.once.Do(func() {
		bin, err := t.bin()
		if err != nil {
			t.verErr = err
			return
		}
		out, err := exec.CommandContext(ctx, bin, "--version").Output()
		if err != nil {
			t.verErr = fmt.Errorf("tshark --version: %w", err)
			return
		}
		line, _, _ := strings.Cut(string(out), "\n")
		t.version = strings.TrimSpace(line)
	})
	return t.version, t.verErr
}

func (t *Tshark) bin() (string, error) {
	if t.Path != "" {
		return t.Path, nil
	}
	p, err := exec.LookPath("tshark")
	if err != nil {
		return "", ErrNoTshark
	}
	return p, nil
}

// Sets returns the Sets tshark dissects from pcap, from the cache when a
// matching entry exists. See TsharkSets for partial results.
func (t *Tshark) Sets(ctx context.Context, pcap string) (Sets, error) {
	out, err := t.output(ctx, pcap)
	s := parseTshark(out)
	return s, err
}

// output returns tshark's raw stdout for pcap, with a non-nil error if
// tshark exited non-zero (stdout is still returned then).
func (t *Tshark) output(ctx context.Context, pcap string) ([]byte, error) {
	ver, err := t.Version(ctx)
	if err != nil {
		return nil, err
	}
	bin, _ := t.bin()
	args := tsharkArgs(pcap)
	var cachePath string
	if t.CacheDir != "" {
		fi, err := os.Stat(pcap)
		if err != nil {
			return nil, fmt.Errorf("run tshark on %s: %w", pcap, err)
		}
		abs, _ := filepath.Abs(pcap)
		h := sha256.New()
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00%s\x00%q", abs, fi.Size(), fi.ModTime().UnixNano(), ver, args[1:])
		cachePath = filepath.Join(t.CacheDir, hex.EncodeToString(h.Sum(nil))[:32])
		if b, err := os.ReadFile(cachePath); err == nil {
			return decodeCache(b, pcap)
		}
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return nil, ctx.Err() // never cache an interrupted run
	}
	var errMsg string
	if runErr != nil {
		errMsg = strings.TrimSpace(filterStderr(stderr.String()))
		if errMsg == "" {
			errMsg = runErr.Error()
		}
	}
	if cachePath != "" {
		if err := os.MkdirAll(t.CacheDir, 0o755); err == nil {
			tmp := cachePath + ".tmp" + fmt.Sprint(os.Getpid())
			if os.WriteFile(tmp, encodeCache(stdout.Bytes(), errMsg), 0o644) == nil {
				os.Rename(tmp, cachePath)
			}
		}
	}
	if errMsg != "" {
		return stdout.Bytes(), fmt.Errorf("run tshark on %s: %s", pcap, errMsg)
	}
	return stdout.Bytes(), nil
}

// filterStderr drops tshark's warning about running as root.
func filterStderr(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "Running as user") {
			continue
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// Cache entry: first line "ok" or "err <message>", then raw stdout.
func encodeCache(stdout []byte, errMsg string) []byte {
	head := "ok\n"
	if errMsg != "" {
		head = "err " + strings.ReplaceAll(errMsg, "\n", " | ") + "\n"
	}
	return append([]byte(head), stdout...)
}

func decodeCache(b []byte, pcap string) ([]byte, error) {
	head, body, _ := bytes.Cut(b, []byte("\n"))
	if msg, ok := bytes.CutPrefix(head, []byte("err ")); ok {
		return body, fmt.Errorf("run tshark on %s: %s", pcap, msg)
	}
	return body, nil
}

// parseTshark turns tshark's field output into Sets.
func parseTshark(out []byte) Sets {
	s := NewSets()
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), string(fieldSep))
		for len(cols) < len(tsharkFields) {
			cols = append(cols, "")
		}
		protos := ":" + cols[0] + ":"
		tcp := strings.Contains(protos, ":tcp:")
		// DNS: unicast DNS only (not mdns/llmnr, whose protocol name differs).
		if cols[1] != "" && strings.Contains(protos, ":dns:") {
			for _, n := range split(cols[1]) {
				s.addDNS(n)
			}
		}
		// HTTP requests over TCP (SSDP over UDP shares http.* fields).
		if cols[2] != "" && tcp {
			hosts, uris := split(cols[3]), split(cols[4])
			for i := range uris {
				var host string
				switch {
				case len(hosts) == len(uris):
					host = hosts[i]
				case len(hosts) == 1 && len(uris) > 1:
					// Pipelined requests with one Host header between them
					// can't be paired reliably; assume the same host.
					host = hosts[0]
				case i < len(hosts):
					host = hosts[i]
				}
				s.addHTTP(host, uris[i])
			}
		}
		// TLS over TCP only: QUIC carries TLS handshakes in CRYPTO frames.
		if cols[5] != "" && tcp && !strings.Contains(protos, ":quic:") && !strings.Contains(protos, ":dtls:") {
			for _, n := range split(cols[5]) {
				s.addTLS(n)
			}
		}
	}
	return s
}

func split(col string) []string {
	if col == "" {
		return nil
	}
	return strings.Split(col, aggregSep)
}

// SetsAll runs t.Sets over pcaps with at most parallel tshark processes
// (≤ 0 means 2) and returns results in input order. errs[i] is non-nil
// where tshark failed on pcaps[i]; sets[i] then holds its partial output.
func (t *Tshark) SetsAll(ctx context.Context, pcaps []string, parallel int) (sets []Sets, errs []error) {
	if parallel <= 0 {
		parallel = 2
	}
	sets = make([]Sets, len(pcaps))
	errs = make([]error, len(pcaps))
	idx := make(chan int)
	var wg sync.WaitGroup
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				sets[i], errs[i] = t.Sets(ctx, pcaps[i])
			}
		}()
	}
	for i := range pcaps {
		idx <- i
	}
	close(idx)
	wg.Wait()
	return sets, errs
}
