package eve

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func line(worker, i int) []byte {
	return fmt.Appendf(nil, `{"event_type":"test","worker":%d,"i":%d,"pad":"%s"}`+"\n", worker, i, strings.Repeat("x", i%300))
}

// checkLines reads JSON lines and reports how many there are; every line
// must be complete.
func checkLines(t *testing.T, data []byte) int {
	t.Helper()
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Errorf("output ends inside a line: %q", data[max(0, len(data)-80):])
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		n++
		if !bytes.HasPrefix(sc.Bytes(), []byte(`{"event_type":"test"`)) || !bytes.HasSuffix(sc.Bytes(), []byte(`"}`)) {
			t.Errorf("torn line %d: %q", n, sc.Bytes())
		}
	}
	return n
}

// TestFileRotate writes from several goroutines while another renames the
// file and calls Reopen, as logrotate and SIGHUP do: both files hold only
// complete lines, and together all of them.
func TestFileRotate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "eve.json")
	w, err := NewWriter(WriterOptions{Path: path, BufferSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	const workers, per = 4, 2000
	var wg sync.WaitGroup
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				if err := w.Write(line(g, i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	rotated := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 5 {
			time.Sleep(2 * time.Millisecond)
			if err := os.Rename(path, fmt.Sprintf("%s.%d", path, i)); err != nil {
				t.Error(err)
				return
			}
			if err := w.Reopen(); err != nil {
				t.Error(err)
				return
			}
			rotated++
		}
	}()
	wg.Wait()
	<-done
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if s := w.Stats(); s.Lines != workers*per || s.Dropped != 0 {
		t.Errorf("stats %+v", s)
	}
	if err := w.Write(line(0, 0)); err == nil {
		t.Error("Write after Close succeeded")
	}
	files, _ := filepath.Glob(path + "*")
	if len(files) != rotated+1 {
		t.Errorf("%d files, want %d", len(files), rotated+1)
	}
	total := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		total += checkLines(t, data)
	}
	if total != workers*per {
		t.Errorf("%d lines in %d files, want %d", total, len(files), workers*per)
	}
}

func TestFileAppendsAndAddsNewline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eve.json")
	os.WriteFile(path, []byte("{\"event_type\":\"test\",\"old\":\"\"}\n"), 0o600)
	w, err := NewWriter(WriterOptions{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(`{"event_type":"test","no_newline":""}`))
	w.Flush()
	data, _ := os.ReadFile(path)
	if n := checkLines(t, data); n != 2 {
		t.Errorf("%d lines, want 2:\n%s", n, data)
	}
	w.Close()
}

func TestNewWriterErrors(t *testing.T) {
	for _, o := range []WriterOptions{
		{},
		{Path: filepath.Join(t.TempDir(), "missing-dir", "eve.json")},
		{Path: "x", Kind: "kafka"},
	} {
		if _, err := NewWriter(o); err == nil {
			t.Errorf("NewWriter(%+v) succeeded", o)
		}
	}
}

func sockPath(t *testing.T) string {
	// Unix socket paths are limited to ~108 bytes; t.TempDir can be longer.
	d, err := os.MkdirTemp("", "eve")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return filepath.Join(d, "s")
}

// fakeClock advances only when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// streamServer accepts connections and collects what each one sent.
type streamServer struct {
	ln    *net.UnixListener
	mu    sync.Mutex
	conns [][]byte
	open  []net.Conn
	wg    sync.WaitGroup
}

func newStreamServer(t *testing.T, path string) *streamServer {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	s := &streamServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			idx := len(s.conns)
			s.conns = append(s.conns, nil)
			s.open = append(s.open, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				buf := make([]byte, 32<<10)
				for {
					n, err := c.Read(buf)
					s.mu.Lock()
					s.conns[idx] = append(s.conns[idx], buf[:n]...)
					s.mu.Unlock()
					if err != nil {
						c.Close()
						return
					}
				}
			}()
		}
	}()
	return s
}

// stop closes the listener and every accepted connection: the peer is gone.
func (s *streamServer) stop() {
	s.ln.Close()
	s.mu.Lock()
	for _, c := range s.open {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *streamServer) data() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, len(s.conns))
	for i, c := range s.conns {
		out[i] = bytes.Clone(c)
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestUnixStream: lines reach a real listener from concurrent workers; the
// listener going away drops lines into the bounded buffer, never blocks,
// and a new listener gets whole lines after the reconnect.
func TestUnixStream(t *testing.T) {
	path := sockPath(t)
	clk := &fakeClock{t: time.Unix(1e9, 0)}

	// No listener yet: the Writer starts anyway and buffers.
	w, err := NewWriter(WriterOptions{Kind: SinkUnixStream, Path: path, BufferSize: 64 << 10, Now: clk.Now, ReconnectInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Write(line(9, 1)); err != nil {
		t.Fatal(err)
	}

	srv := newStreamServer(t, path)
	clk.Add(2 * time.Second)
	const workers, per = 4, 500
	var wg sync.WaitGroup
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				if err := w.Write(line(g, i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "all lines", func() bool {
		d := srv.data()
		return len(d) == 1 && bytes.Count(d[0], []byte{'\n'}) == workers*per+1
	})
	if n := checkLines(t, srv.data()[0]); n != workers*per+1 {
		t.Errorf("got %d lines, want %d", n, workers*per+1)
	}

	// The listener goes away. Writes must not block; once the buffer is
	// full, lines are dropped and counted.
	srv.stop()
	os.Remove(path)
	start := time.Now()
	var dropped int
	for i := range 2000 {
		if err := w.Write(line(0, i)); errors.Is(err, ErrDropped) {
			dropped++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("writes with the peer gone took %v", el)
	}
	if dropped == 0 {
		t.Error("no line dropped with the peer gone and the buffer full")
	}
	st := w.Stats()
	if st.Dropped < uint64(dropped) || st.Reconnects != 1 {
		t.Errorf("stats %+v, dropped %d", st, dropped)
	}

	// A new listener: after the reconnect interval the buffered lines
	// arrive whole.
	srv2 := newStreamServer(t, path)
	defer srv2.stop()
	clk.Add(2 * time.Second)
	w.Write(line(1, 1))
	w.Flush()
	waitFor(t, "reconnect", func() bool {
		d := srv2.data()
		return len(d) == 1 && len(d[0]) > 0 && d[0][len(d[0])-1] == '\n' && w.Stats().Reconnects == 2
	})
	w.Flush()
	time.Sleep(20 * time.Millisecond)
	if n := checkLines(t, srv2.data()[0]); n == 0 {
		t.Error("nothing after reconnect")
	}
}

// TestUnixStreamSlowPeer: a peer that never reads makes writes time out,
// not block.
func TestUnixStreamSlowPeer(t *testing.T) {
	path := sockPath(t)
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			time.Sleep(10 * time.Second) // never reads
		}
	}()
	w, err := NewWriter(WriterOptions{Kind: SinkUnixStream, Path: path, BufferSize: 256 << 10, WriteTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	start := time.Now()
	big := bytes.Repeat([]byte("y"), 4000)
	l := fmt.Appendf(nil, `{"event_type":"test","pad":"%s"}`+"\n", big)
	for range 2000 { // 8 MB: far beyond the socket buffer and ours
		w.Write(l)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("writes to a stuck peer took %v", el)
	}
	if st := w.Stats(); st.Dropped == 0 {
		t.Errorf("nothing dropped with a stuck peer: %+v", st)
	}
}

// TestUnixDgram: one datagram per line; no listener means counted drops.
func TestUnixDgram(t *testing.T) {
	path := sockPath(t)
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	w, err := NewWriter(WriterOptions{Kind: SinkUnixDgram, Path: path, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Write(line(0, 0)); !errors.Is(err, ErrDropped) {
		t.Fatalf("write without listener: %v, want ErrDropped", err)
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	clk.Add(2 * time.Second)
	for i := range 10 {
		l := line(1, i)
		if i%2 == 1 {
			l = l[:len(l)-1] // Write adds the newline
		}
		if err := w.Write(l); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 64<<10)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for i := range 10 {
		n, _, err := conn.ReadFromUnix(buf)
		if err != nil {
			t.Fatal(err)
		}
		if want := line(1, i); !bytes.Equal(buf[:n], want) {
			t.Errorf("datagram %d = %q, want %q", i, buf[:n], want)
		}
	}
	if st := w.Stats(); st.Lines != 10 || st.Dropped != 1 {
		t.Errorf("stats %+v", st)
	}
}

func BenchmarkWriterFile(b *testing.B) {
	w, err := NewWriter(WriterOptions{Path: filepath.Join(b.TempDir(), "eve.json")})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	l := line(0, 200)
	b.SetBytes(int64(len(l)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w.Write(l)
		}
	})
}

func TestFileFlushInterval(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eve.json")
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	w, err := NewWriter(WriterOptions{Path: path, Now: clk.Now, FlushInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Write(line(0, 1)) // first write flushes (nothing flushed yet)
	w.Write(line(0, 2)) // buffered
	data, _ := os.ReadFile(path)
	if n := checkLines(t, data); n != 1 {
		t.Errorf("%d lines on disk before the interval, want 1", n)
	}
	clk.Add(1500 * time.Millisecond)
	w.Write(line(0, 3))
	data, _ = os.ReadFile(path)
	if n := checkLines(t, data); n != 3 {
		t.Errorf("%d lines on disk after the interval, want 3", n)
	}
}
