package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/polder-nsm/polder/sensor/detect"
	"github.com/polder-nsm/polder/sensor/rules"
)

// The control protocol is Suricata's unix-socket protocol (suricatasc):
// each request is one JSON object {"command": NAME, "arguments": {...}},
// each reply one JSON object {"return": "OK"|"NOK", "message": ...}
// followed by a newline. A client may first send Suricata's version
// handshake {"version": "0.2"}, answered {"return": "OK"}; polder does not
// require it. Requests may be newline-delimited or simply concatenated.
const (
	// ControlOK and ControlNOK are the values of ControlReply.Return.
	ControlOK  = "OK"
	ControlNOK = "NOK"

	controlMaxRequest = 64 << 10        // bytes of one request; a longer one closes the connection
	controlMaxConns   = 16              // connections served at once; more are refused with NOK
	controlIdle       = 5 * time.Minute // a connection that sends nothing for this long is closed
	controlWrite      = 10 * time.Second

	// unixPathMax is the longest socket path the kernel accepts: sun_path
	// is 108 bytes on Linux, one of them the terminating NUL.
	unixPathMax = 107
)

// ControlRequest is one command sent to a control socket.
type ControlRequest struct {
	Command   string          `json:"command,omitempty"`
	Arguments json.RawMessage `json:"arguments,omitempty"` // no polder command takes any yet
	Version   string          `json:"version,omitempty"`   // Suricata's handshake; set only on that message
}

// ControlReply is the answer to one ControlRequest. Message is a JSON
// string (what went wrong, for NOK) or the command's result, whose shape
// each command documents (ControlReload, ControlRulesetStats, ...).
type ControlReply struct {
	Return  string          `json:"return"`
	Message json.RawMessage `json:"message,omitempty"`
}

// OK reports whether the command succeeded.
func (r *ControlReply) OK() bool { return r.Return == ControlOK }

// Text returns Message as text: the string itself when it is a JSON
// string, otherwise the JSON indented.
func (r *ControlReply) Text() string {
	var s string
	if json.Unmarshal(r.Message, &s) == nil {
		return s
	}
	var v any
	if json.Unmarshal(r.Message, &v) != nil {
		return string(r.Message)
	}
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

// ControlRulesetStats is the message of ruleset-stats: the counts of the
// running ruleset (detect.Stats). Refused counts the rules the detection
// engine refused; rules the parser refused are only in the load's errors.
type ControlRulesetStats struct {
	Loaded   int `json:"loaded"`
	Refused  int `json:"refused"`
	Inactive int `json:"inactive"` // loaded but unable to match here
}

// ControlReload is the message of a successful reload-rules: the counts of
// the new ruleset, the first ControlOptions.MaxErrors problems of the load
// (refused rules and bad config lines, "file:line:col: sid N: keyword:
// msg"), how many there were in all, and the wall time the load took.
type ControlReload struct {
	ControlRulesetStats
	Errors     []string `json:"errors"`
	ErrorCount int      `json:"error_count"`
	TookMS     int64    `json:"took_ms"`
}

// ControlOptions configures a ControlServer.
type ControlOptions struct {
	// Path is the socket file; required. Its directory must exist. A socket
	// left there by a sensor that died is replaced; one that answers is not.
	Path string
	// Version is what the version command answers; "" = "unknown".
	Version string
	// Logger gets a line per command; nil = discard.
	Logger *slog.Logger
	// MaxErrors is how many rule errors a reload-rules reply lists; 0 = 20,
	// negative = all. ruleset-failed-rules always lists all.
	MaxErrors int
}

// controlTarget is what the commands act on: a Live sensor (liveControl),
// or a fake in tests. Its methods may be called from several connections at
// once.
type controlTarget interface {
	// reloadRules loads the configured ruleset and makes it the running
	// one, returning only once the workers will use it for their next
	// packet. On error the running ruleset stays.
	reloadRules() (rulesetInfo, error)
	// running describes the running ruleset; false when there is none.
	running() (rulesetInfo, bool)
	reopen() error
	uptime() time.Duration
}

// rulesetInfo describes one loaded ruleset.
type rulesetInfo struct {
	stats       detect.Stats
	errs        rules.ErrorList // problems of its load
	errsUnknown bool            // errs are not known (see liveControl)
}

// ControlServer answers control commands for a Live sensor on a unix
// socket (mode 0600: only the sensor's user may reload its rules). Make one
// with ListenControl before opening the sensor, so that a second sensor
// started by mistake stops before it joins the first one's fanout group;
// then Serve it.
type ControlServer struct {
	t       controlTarget // set by Serve
	o       ControlOptions
	log     *slog.Logger
	ln      *net.UnixListener
	created os.FileInfo // the socket file this server made, removed at Close only if still there

	wg        sync.WaitGroup // connection and background reload goroutines
	mu        sync.Mutex     // guards conns, closed
	conns     map[net.Conn]struct{}
	closed    bool
	closeErr  error
	closeOnce sync.Once
}

// ListenControl creates the control socket at o.Path, replacing a stale
// socket file no process listens on, and refusing to start when another
// process (another sensor with the same log directory) answers on it or a
// file that is not a socket is in the way. Nothing is answered until
// Serve; connections wait in the backlog meanwhile. The socket is never
// reachable with looser permissions than 0600: it is made in a private
// directory beside o.Path, restricted, then linked into place.
func ListenControl(o ControlOptions) (*ControlServer, error) {
	if o.Path == "" {
		return nil, errors.New("listen on control socket: no path given")
	}
	if o.Version == "" {
		o.Version = "unknown"
	}
	if o.MaxErrors == 0 {
		o.MaxErrors = 20
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ln, fi, err := listenUnixPrivate(o.Path)
	if err != nil {
		return nil, fmt.Errorf("listen on control socket %s: %w", o.Path, err)
	}
	return &ControlServer{o: o, log: log, ln: ln, created: fi, conns: map[net.Conn]struct{}{}}, nil
}

// listenUnixPrivate listens on a new unix socket at path with mode 0600.
func listenUnixPrivate(path string) (*net.UnixListener, os.FileInfo, error) {
	if len(path) > unixPathMax {
		return nil, nil, fmt.Errorf("path is %d bytes, the kernel allows %d (choose a shorter path)", len(path), unixPathMax)
	}
	if err := removeStaleSocket(path); err != nil {
		return nil, nil, err
	}
	// Bind in a directory only we can enter, restrict the socket, then
	// link it into place: link fails if another process took the path in
	// the meantime, where rename would silently replace its socket.
	tmp, err := os.MkdirTemp(filepath.Dir(path), ".ctl")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(tmp)
	tmpSock := filepath.Join(tmp, "s")
	if len(tmpSock) > unixPathMax {
		return nil, nil, fmt.Errorf("directory path too long for a socket (%d bytes; choose a shorter path)", len(filepath.Dir(path)))
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmpSock, Net: "unix"})
	if err != nil {
		return nil, nil, err
	}
	ln.SetUnlinkOnClose(false) // the name it was bound to is gone; Close removes ours
	if err := os.Chmod(tmpSock, 0o600); err != nil {
		ln.Close()
		return nil, nil, err
	}
	if err := os.Link(tmpSock, path); err != nil {
		ln.Close()
		if errors.Is(err, fs.ErrExist) {
			return nil, nil, errors.New("another process created it while this one started")
		}
		return nil, nil, err
	}
	fi, err := os.Lstat(path)
	if err != nil {
		ln.Close()
		return nil, nil, err
	}
	return ln, fi, nil
}

// removeStaleSocket removes the socket file at path if no process listens
// on it, and explains why it cannot start otherwise.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("a %s that is not a socket is in the way (remove it or choose another path)", fileKind(fi))
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return errors.New("another process listens on it (is a sensor already running with this log directory?)")
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("check for a running sensor: %w", err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale socket: %w", err)
	}
	return nil
}

func fileKind(fi os.FileInfo) string {
	if fi.IsDir() {
		return "directory"
	}
	return "file"
}

// Path returns the socket path.
func (s *ControlServer) Path() string { return s.o.Path }

// Serve answers commands for l until ctx is cancelled or Close is called,
// then closes every connection, waits for commands in progress (a reload
// finishes), removes the socket file and returns nil. It returns an error
// only when accepting fails for another reason. Call it once.
func (s *ControlServer) Serve(ctx context.Context, l *Live) error {
	return s.serve(ctx, &liveControl{l: l})
}

func (s *ControlServer) serve(ctx context.Context, t controlTarget) error {
	s.t = t
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	var err error
	for {
		c, aerr := s.ln.Accept()
		if aerr != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				break
			}
			if errors.Is(aerr, syscall.EMFILE) || errors.Is(aerr, syscall.ENFILE) || errors.Is(aerr, syscall.ECONNABORTED) {
				s.log.Warn("accept on control socket", "err", aerr.Error())
				time.Sleep(100 * time.Millisecond) // out of descriptors: let some close
				continue
			}
			err = fmt.Errorf("accept on control socket %s: %w", s.o.Path, aerr)
			break
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			continue
		}
		full := len(s.conns) >= controlMaxConns
		if !full {
			s.conns[c] = struct{}{}
			s.wg.Add(1)
		}
		s.mu.Unlock()
		if full {
			c.SetWriteDeadline(time.Now().Add(time.Second))
			writeReply(c, nokf("too many control connections (%d); try again", controlMaxConns))
			c.Close()
			continue
		}
		go func() {
			defer s.wg.Done()
			s.serveConn(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
	cerr := s.Close()
	s.wg.Wait()
	return errors.Join(err, cerr)
}

// Close stops accepting, closes open connections and removes the socket
// file if it is still the one this server made. Commands in progress run
// to their end (Serve waits for them). Safe to call more than once.
func (s *ControlServer) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.ln.Close()
		if fi, err := os.Lstat(s.o.Path); err == nil && os.SameFile(fi, s.created) {
			if err := os.Remove(s.o.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				s.closeErr = fmt.Errorf("remove control socket: %w", err)
			}
		}
	})
	return s.closeErr
}

// serveConn answers the requests of one connection in order.
func (s *ControlServer) serveConn(c net.Conn) {
	defer c.Close()
	lr := &io.LimitedReader{R: c, N: controlMaxRequest}
	dec := json.NewDecoder(lr)
	for {
		c.SetReadDeadline(time.Now().Add(controlIdle))
		lr.N = controlMaxRequest // a budget per request; read-ahead of the decoder counts against it
		var req ControlRequest
		err := dec.Decode(&req)
		var rep ControlReply
		var te *json.UnmarshalTypeError
		switch {
		case err == nil:
			rep = s.do(req)
		case errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded):
			return
		case lr.N == 0:
			c.SetWriteDeadline(time.Now().Add(controlWrite))
			writeReply(c, nokf("request longer than %d bytes", controlMaxRequest))
			return
		case errors.As(err, &te):
			rep = nokf("bad request: %v", err) // the value was read whole: the stream goes on
		default:
			c.SetWriteDeadline(time.Now().Add(controlWrite))
			writeReply(c, nokf("bad request (want one JSON object per line, {\"command\": NAME}): %v", err))
			return
		}
		c.SetWriteDeadline(time.Now().Add(controlWrite))
		if writeReply(c, rep) != nil {
			return
		}
	}
}

func writeReply(w io.Writer, rep ControlReply) error {
	b, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// controlCommand is one entry of the command table.
type controlCommand struct {
	name, help string
	run        func(s *ControlServer, args json.RawMessage) (any, error)
}

// controlCommands lists the commands, Suricata's names where Suricata has
// the command. Aliases are separate entries so command-list shows them.
var controlCommands []controlCommand

func init() {
	// Built in init: command-list refers to the table.
	controlCommands = []controlCommand{
		{"reload-rules", "load the rules again and switch to them; replies once every worker will use them for its next packet", (*ControlServer).cmdReload},
		{"ruleset-reload-rules", "same as reload-rules", (*ControlServer).cmdReload},
		{"ruleset-reload-nonblocking", "start a reload and reply at once; the log and ruleset-stats tell the outcome", (*ControlServer).cmdReloadNonblocking},
		{"ruleset-stats", "loaded, refused and inactive rules of the running ruleset", (*ControlServer).cmdRulesetStats},
		{"ruleset-failed-rules", "the errors of the load of the running ruleset", (*ControlServer).cmdFailedRules},
		{"reopen-log-files", "reopen eve.json (after logrotate moved it)", (*ControlServer).cmdReopen},
		{"uptime", "seconds since the sensor started", (*ControlServer).cmdUptime},
		{"bypass-stats", "capture bypass: mode, kernel table entries, inserts, insert failures by reason, downgrades", (*ControlServer).cmdBypassStats},
		{"version", "polder's version", (*ControlServer).cmdVersion},
		{"command-list", "the commands this socket answers", (*ControlServer).cmdList},
		{"help", "same as command-list", (*ControlServer).cmdList},
	}
}

// do runs one request and returns its reply. It is safe for concurrent
// use; the target serializes reloads.
func (s *ControlServer) do(req ControlRequest) ControlReply {
	if req.Command == "" {
		if req.Version != "" {
			return ControlReply{Return: ControlOK} // Suricata's handshake
		}
		return nokf(`request has no command (send {"command": "command-list"} for the list)`)
	}
	i := slices.IndexFunc(controlCommands, func(c controlCommand) bool { return c.name == req.Command })
	if i < 0 {
		return nokf("unknown command %q (send command-list for the list)", req.Command)
	}
	msg, err := controlCommands[i].run(s, req.Arguments)
	if err != nil {
		s.log.Warn("control command failed", "command", req.Command, "err", err.Error())
		return nokf("%s", err.Error())
	}
	s.log.Info("control command", "command", req.Command)
	b, err := json.Marshal(msg)
	if err != nil {
		return nokf("encode reply: %v", err)
	}
	return ControlReply{Return: ControlOK, Message: b}
}

func nokf(format string, a ...any) ControlReply {
	b, _ := json.Marshal(fmt.Sprintf(format, a...))
	return ControlReply{Return: ControlNOK, Message: b}
}

func rulesetStats(st detect.Stats) ControlRulesetStats {
	return ControlRulesetStats{Loaded: st.Loaded, Refused: st.Refused, Inactive: st.Inactive}
}

func (s *ControlServer) cmdReload(json.RawMessage) (any, error) {
	start := time.Now()
	info, err := s.t.reloadRules()
	if err != nil {
		return nil, err
	}
	r := ControlReload{
		ControlRulesetStats: rulesetStats(info.stats),
		Errors:              []string{},
		ErrorCount:          len(info.errs),
		TookMS:              time.Since(start).Milliseconds(),
	}
	for i, e := range info.errs {
		if s.o.MaxErrors >= 0 && i >= s.o.MaxErrors {
			break
		}
		r.Errors = append(r.Errors, e.Error())
	}
	s.log.Info("rules reloaded", "loaded", r.Loaded, "refused", r.Refused, "inactive", r.Inactive,
		"errors", r.ErrorCount, "took_ms", r.TookMS)
	return r, nil
}

func (s *ControlServer) cmdReloadNonblocking(json.RawMessage) (any, error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if _, err := s.cmdReload(nil); err != nil {
			s.log.Error("rule reload failed", "err", err.Error())
		}
	}()
	return "reload started", nil
}

func (s *ControlServer) cmdRulesetStats(json.RawMessage) (any, error) {
	info, ok := s.t.running()
	if !ok {
		return nil, errNoRuleset
	}
	return rulesetStats(info.stats), nil
}

var errNoRuleset = errors.New("no ruleset: the sensor was started without rules")

func (s *ControlServer) cmdFailedRules(json.RawMessage) (any, error) {
	info, ok := s.t.running()
	if !ok {
		return nil, errNoRuleset
	}
	if info.errsUnknown {
		return nil, errors.New("the errors of the running ruleset are not known here: it was loaded at startup or on a signal, and the log lists them (reload-rules loads it again and keeps them)")
	}
	out := make([]string, len(info.errs))
	for i, e := range info.errs {
		out[i] = e.Error()
	}
	return out, nil
}

func (s *ControlServer) cmdReopen(json.RawMessage) (any, error) {
	if err := s.t.reopen(); err != nil {
		return nil, fmt.Errorf("reopen eve output: %w", err)
	}
	return "done", nil
}

func (s *ControlServer) cmdUptime(json.RawMessage) (any, error) {
	return int64(s.t.uptime() / time.Second), nil
}

func (s *ControlServer) cmdVersion(json.RawMessage) (any, error) { return s.o.Version, nil }

func (s *ControlServer) cmdList(json.RawMessage) (any, error) {
	type entry struct {
		Name string `json:"name"`
		Help string `json:"help"`
	}
	out := make([]entry, len(controlCommands))
	for i, c := range controlCommands {
		out[i] = entry{c.name, c.help}
	}
	return out, nil
}

// liveControl is the controlTarget of a Live sensor. The running ruleset
// carries the errors of its load (startup, signal or socket reload).
type liveControl struct {
	l *Live
}

func (c *liveControl) reloadRules() (rulesetInfo, error) {
	res, err := c.l.ReloadRules()
	if err != nil {
		return rulesetInfo{}, err
	}
	return rulesetInfo{stats: res.Engine.Stats(), errs: res.Errors}, nil
}

func (c *liveControl) running() (rulesetInfo, bool) {
	rs := c.l.rules.cur.Load()
	if rs == nil {
		return rulesetInfo{}, false
	}
	return rulesetInfo{stats: rs.eng.Stats(), errs: rs.errs}, true
}

func (c *liveControl) reopen() error { return c.l.Reopen() }

func (c *liveControl) uptime() time.Duration { return c.l.out.clock().Sub(c.l.out.started) }

// Control sends one command to the control socket at path and returns the
// reply; a NOK reply is not an error. ctx bounds the whole exchange (a
// reload of a large ruleset can take a while).
func Control(ctx context.Context, path, command string) (*ControlReply, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("connect to control socket: %w (is the sensor running, and is this its socket?)", err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	if err := writeRequest(c, ControlRequest{Command: command}); err != nil {
		return nil, fmt.Errorf("send %s: %w", command, err)
	}
	var rep ControlReply
	if err := json.NewDecoder(io.LimitReader(c, 16<<20)).Decode(&rep); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("read reply to %s: %w", command, err)
	}
	return &rep, nil
}

func writeRequest(w io.Writer, req ControlRequest) error {
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
