package eve

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"
)

// Sink kinds for WriterOptions.Kind, named as Suricata's eve-log filetype.
const (
	SinkFile       = "regular"
	SinkUnixStream = "unix_stream"
	SinkUnixDgram  = "unix_dgram"
)

// WriterOptions configures a Writer.
type WriterOptions struct {
	// Kind is SinkFile, SinkUnixStream or SinkUnixDgram. Zero: SinkFile.
	Kind string
	// Path is the file or socket path. Required.
	Path string
	// FileMode is the permission of a created file. Zero: 0640.
	FileMode os.FileMode
	// BufferSize is, for a file, the bufio buffer in bytes and, for a stream
	// socket, the most bytes held while the peer is slow or gone; lines that
	// do not fit are dropped and counted. Zero: 64 KiB for files, 1 MiB for
	// stream sockets. Datagram sockets buffer nothing.
	BufferSize int
	// WriteTimeout bounds one socket write, in which every other worker
	// waits on the Writer's lock. Zero: 100 ms.
	WriteTimeout time.Duration
	// ReconnectInterval is the least time between two connection attempts
	// to a socket, and how long a stream socket whose peer stopped reading
	// (a write hit WriteTimeout) is left alone before the next attempt.
	// Zero: 1 s.
	ReconnectInterval time.Duration
	// FlushInterval: a Write more than this long after the last flush
	// flushes, so a live sensor's output does not lag by a whole buffer.
	// Zero: 1 s; negative: only when full, on Flush and on Close.
	FlushInterval time.Duration
	// Now is the clock for flush, reconnect and stall throttling. Nil:
	// time.Now.
	// Write deadlines always use the wall clock.
	Now func() time.Time
}

// WriterStats counts what a Writer did since it was created.
type WriterStats struct {
	Lines      uint64 // lines accepted (written or buffered)
	Bytes      uint64 // bytes of accepted lines
	Dropped    uint64 // lines dropped: buffer full, peer gone, write error
	Reconnects uint64 // successful socket (re)connections, the first included
	Errors     uint64 // write, flush and connect errors
}

// ErrDropped is returned by Write when the line was dropped because a socket
// peer is gone or too slow; the drop is counted in WriterStats.Dropped.
// Callers normally count it and go on.
var ErrDropped = errors.New("eve line dropped (socket peer gone or slow)")

// Writer owns one EVE output: an append-mode file or a unix socket. It is
// safe for concurrent use: workers hand it complete lines, and one mutex
// keeps each line whole and in one piece, in one file or one stream.
//
// Buffered bytes go out when a buffer fills, on Flush, on Close, and on the
// first Write after FlushInterval (1 s by default); an owner that may go
// quiet for long should also call Flush on a timer.
//
// A file is buffered; Flush writes the buffer out and Reopen (for logrotate
// on SIGHUP, from any goroutine) flushes into the old file, closes it and
// opens Path anew, so every line lands complete in exactly one of them.
//
// Sockets never block the caller for more than WriteTimeout: a stream
// socket's lines wait in a bounded buffer while the peer is gone and the
// Writer reconnects at most once per ReconnectInterval; a line that does
// not fit is dropped and counted. A stream broken in the middle of a line
// drops the rest of that line on reconnect, so the peer never sees a torn
// line. A datagram socket sends each line as one datagram and drops it
// when the peer is gone or its queue is full.
type Writer struct {
	mu    sync.Mutex
	o     WriterOptions
	stats WriterStats

	// file
	f  *os.File
	bw *bufio.Writer

	// sockets
	conn         net.Conn
	lastDial     time.Time
	dialed       bool      // a dial was attempted at least once
	pending      []byte    // stream: bytes not yet written, whole lines except maybe a head sent in part
	headPartial  bool      // stream: pending starts in the middle of a line already partly sent
	scratch      []byte    // datagram: a line plus its missing '\n'
	stalledUntil time.Time // stream: no write attempt before this (peer stuck)
	lastFlush    time.Time
	closed       bool
}

// NewWriter opens the output. A file must open; a socket may be absent at
// start (the sensor often starts before its consumer): the Writer connects
// later.
func NewWriter(o WriterOptions) (*Writer, error) {
	if o.Kind == "" {
		o.Kind = SinkFile
	}
	if o.Path == "" {
		return nil, errors.New("open eve output: empty path")
	}
	if o.FileMode == 0 {
		o.FileMode = 0o640
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 100 * time.Millisecond
	}
	if o.ReconnectInterval <= 0 {
		o.ReconnectInterval = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = time.Second
	}
	w := &Writer{o: o}
	switch o.Kind {
	case SinkFile:
		if o.BufferSize <= 0 {
			w.o.BufferSize = 64 << 10
		}
		f, err := w.openFile()
		if err != nil {
			return nil, err
		}
		w.f = f
		w.bw = bufio.NewWriterSize(f, w.o.BufferSize)
	case SinkUnixStream:
		if o.BufferSize <= 0 {
			w.o.BufferSize = 1 << 20
		}
		w.pending = make([]byte, 0, w.o.BufferSize)
		w.dial()
	case SinkUnixDgram:
		w.dial()
	default:
		return nil, fmt.Errorf("open eve output %q: unknown kind %q (want %q, %q or %q)", o.Path, o.Kind, SinkFile, SinkUnixStream, SinkUnixDgram)
	}
	return w, nil
}

func (w *Writer) openFile() (*os.File, error) {
	f, err := os.OpenFile(w.o.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, w.o.FileMode)
	if err != nil {
		return nil, fmt.Errorf("open eve output: %w", err)
	}
	return f, nil
}

// dial connects the socket if it is not connected and the last attempt is
// at least ReconnectInterval old. It reports whether a connection exists.
func (w *Writer) dial() bool {
	if w.conn != nil {
		return true
	}
	now := w.o.Now()
	if w.dialed && now.Sub(w.lastDial) < w.o.ReconnectInterval {
		return false
	}
	w.dialed, w.lastDial = true, now
	network := "unix"
	if w.o.Kind == SinkUnixDgram {
		network = "unixgram"
	}
	d := net.Dialer{Timeout: w.o.WriteTimeout}
	c, err := d.Dial(network, w.o.Path)
	if err != nil {
		w.stats.Errors++
		return false
	}
	w.conn = c
	w.stats.Reconnects++
	if w.headPartial {
		// The peer of the new connection never saw the start of this line.
		if i := bytes.IndexByte(w.pending, '\n'); i >= 0 {
			w.pending = w.pending[:copy(w.pending, w.pending[i+1:])]
		} else {
			w.pending = w.pending[:0]
		}
		w.headPartial = false
		w.stats.Dropped++
	}
	return true
}

func (w *Writer) dropConn() {
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

// Write hands one complete line (ending in '\n') to the output; Write adds
// the '\n' when it is missing. The Writer copies what it keeps: line may be
// reused as soon as Write returns.
//
// It returns ErrDropped when a socket dropped the line, an error naming the
// cause when a file write failed (the line and the buffer are dropped), and
// an error after Close.
func (w *Writer) Write(line []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		w.stats.Dropped++
		return errors.New("write eve line: writer closed")
	}
	nl := len(line) == 0 || line[len(line)-1] != '\n'
	n := len(line)
	if nl {
		n++
	}
	switch w.o.Kind {
	case SinkFile:
		_, err := w.bw.Write(line)
		if err == nil && nl {
			err = w.bw.WriteByte('\n')
		}
		if err != nil {
			w.fileFailed()
			return fmt.Errorf("write eve line to %s: %w", w.o.Path, err)
		}
	case SinkUnixStream:
		if len(w.pending)+n > cap(w.pending) {
			w.flushStream()
			if len(w.pending)+n > cap(w.pending) {
				w.stats.Dropped++
				return ErrDropped
			}
		}
		w.pending = append(w.pending, line...)
		if nl {
			w.pending = append(w.pending, '\n')
		}
		if len(w.pending) >= cap(w.pending)/2 {
			w.flushStream()
		}
	case SinkUnixDgram:
		if !w.dial() {
			w.stats.Dropped++
			return ErrDropped
		}
		w.conn.SetWriteDeadline(time.Now().Add(w.o.WriteTimeout))
		msg := line
		if nl { // one datagram per line: copy rather than send two
			w.scratch = append(append(w.scratch[:0], line...), '\n')
			msg = w.scratch
		}
		if _, err := w.conn.Write(msg); err != nil {
			w.stats.Errors++
			w.stats.Dropped++
			var ne net.Error
			if !(errors.As(err, &ne) && ne.Timeout()) {
				w.dropConn()
			}
			return ErrDropped
		}
	}
	w.stats.Lines++
	w.stats.Bytes += uint64(n)
	if w.o.FlushInterval > 0 && w.o.Kind != SinkUnixDgram {
		if now := w.o.Now(); now.Sub(w.lastFlush) >= w.o.FlushInterval {
			w.lastFlush = now
			if err := w.flushLocked(); err != nil && w.o.Kind == SinkFile {
				return err
			}
		}
	}
	return nil
}

var newline = []byte{'\n'}

// fileFailed drops whatever is buffered after a failed file write (disk
// full, I/O error): a bufio.Writer stays failed forever, and the next Write
// must start afresh. Only the line being written is counted as dropped; the
// buffered lines lost with it are not counted (bufio does not say how many).
func (w *Writer) fileFailed() {
	w.stats.Errors++
	w.stats.Dropped++ // the line being written; buffered lines are lost too
	w.bw.Reset(w.f)
}

// flushStream writes pending bytes to the stream socket, connecting first
// if needed. On timeout it keeps the rest; on any other error it drops the
// connection and keeps the rest for the next one.
func (w *Writer) flushStream() error {
	if len(w.pending) == 0 {
		return nil
	}
	if !w.dial() {
		return ErrDropped
	}
	if now := w.o.Now(); now.Before(w.stalledUntil) {
		return ErrDropped
	}
	// The deadline is wall-clock time whatever Now says: it bounds a real
	// system call.
	w.conn.SetWriteDeadline(time.Now().Add(w.o.WriteTimeout))
	n, err := w.conn.Write(w.pending)
	if n > 0 {
		// Did the write stop inside a line?
		w.headPartial = n < len(w.pending) && w.pending[n-1] != '\n'
		w.pending = w.pending[:copy(w.pending, w.pending[n:])]
	}
	if err != nil {
		w.stats.Errors++
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			// A stuck peer: do not make every Write wait WriteTimeout
			// again; buffer (and then drop) until ReconnectInterval passed.
			w.stalledUntil = w.o.Now().Add(w.o.ReconnectInterval)
		} else {
			w.dropConn()
		}
		return fmt.Errorf("write eve stream %s: %w", w.o.Path, err)
	}
	return nil
}

// Flush writes buffered lines out: the file buffer to the file, the stream
// buffer to the socket (bounded by WriteTimeout).
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lastFlush = w.o.Now()
	return w.flushLocked()
}

func (w *Writer) flushLocked() error {
	switch w.o.Kind {
	case SinkFile:
		if w.bw == nil {
			return nil
		}
		if err := w.bw.Flush(); err != nil {
			w.fileFailed()
			return fmt.Errorf("flush eve output %s: %w", w.o.Path, err)
		}
	case SinkUnixStream:
		return w.flushStream()
	}
	return nil
}

// Reopen flushes into the current file and reopens Path, for log rotation:
// after logrotate renamed the file, new lines go to a new file at Path. For
// sockets it drops the connection and reconnects now. It is safe to call
// from any goroutine, concurrently with Write.
func (w *Writer) Reopen() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errors.New("reopen eve output: writer closed")
	}
	switch w.o.Kind {
	case SinkFile:
		ferr := w.flushLocked()
		f, err := w.openFile()
		if err != nil {
			// Keep writing to the old file rather than losing events.
			return fmt.Errorf("reopen eve output: %w", err)
		}
		w.f.Close()
		w.f = f
		w.bw.Reset(f)
		return ferr
	default:
		if w.o.Kind == SinkUnixStream {
			w.flushStream()
		}
		w.dropConn()
		w.dialed = false
		w.dial()
	}
	return nil
}

// Close flushes and closes the output. Later Writes fail.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	err := w.flushLocked()
	w.closed = true
	if w.f != nil {
		if cerr := w.f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close eve output: %w", cerr)
		}
	}
	if w.o.Kind == SinkUnixStream && len(w.pending) > 0 {
		w.stats.Dropped += uint64(bytes.Count(w.pending, newline))
		w.pending = w.pending[:0]
	}
	w.dropConn()
	return err
}

// Stats returns the counters.
func (w *Writer) Stats() WriterStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}
