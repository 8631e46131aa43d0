package config

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// Validate checks values and cross-field constraints and returns every
// problem as an ErrorList (nil when c is valid). Messages name the key and,
// for a Config read by Parse or Load, the file and line that set it.
func (c *Config) Validate() error {
	v := validator{c: c}
	c.validateCapture(&v)
	c.validateVars(&v)

	eve := c.Outputs.EVE
	switch eve.Filetype {
	case FiletypeRegular, FiletypeUnixStream, FiletypeUnixDgram:
	default:
		v.errorf("outputs.eve.filetype", "%q is not a filetype (want regular, unix_stream or unix_dgram)", eve.Filetype)
	}
	if eve.Enabled && eve.Filename == "" {
		v.errorf("outputs.eve.filename", "empty, but outputs.eve.enabled is yes")
	}
	if eve.Enabled && eve.Types.Stats.Enabled && eve.Types.Stats.Interval <= 0 {
		v.errorf("outputs.eve.types.stats.interval", "must be positive when stats events are enabled")
	}
	if d := eve.Types.Drop; d.Enabled && d.Flows != DropFlowsStart && d.Flows != DropFlowsAll {
		v.errorf("outputs.eve.types.drop.flows", "%q is not a drop flows mode (want start or all)", d.Flows)
	}
	switch strings.ToLower(eve.Types.Engine.Level) {
	case "error", "warning", "notice", "info", "debug", "":
	default:
		v.errorf("outputs.eve.types.engine.level", "%q is not a log level (want error, warning, notice, info or debug)", eve.Types.Engine.Level)
	}
	switch c.MPMAlgo {
	case "", "auto", "hs", "ac", "ac-bs", "ac-ks":
	default:
		v.errorf("mpm-algo", "%q is not a prefilter algorithm (want auto, hs or ac)", c.MPMAlgo)
	}
	seenHash := map[string]bool{}
	for i, h := range eve.Types.Files.ForceHash {
		key := fmt.Sprintf("outputs.eve.types.files.force-hash[%d]", i)
		switch h {
		case HashMD5, HashSHA1, HashSHA256:
		default:
			v.errorf(key, "%q is not a hash (want md5, sha1 or sha256)", h)
			continue
		}
		if seenHash[h] {
			v.errorf(key, "%q is listed twice", h)
		}
		seenHash[h] = true
	}
	fast := c.Outputs.Fast
	if fast.Enabled && fast.Filename == "" {
		v.errorf("outputs.fast.filename", "empty, but outputs.fast.enabled is yes")
	}
	if fast.Enabled && eve.Enabled && eve.Filetype == FiletypeRegular && fast.Filename == eve.Filename {
		v.errorf("outputs.fast.filename", "%q is also outputs.eve.filename: the two logs would interleave in one file", fast.Filename)
	}

	f := c.Flow
	v.positive("flow.memcap", int64(min(f.Memcap, 1<<62)))
	v.positive("flow.hash-size", int64(f.HashSize))
	v.positive("flow.max-flows", int64(f.MaxFlows))
	if f.EmergencyRecovery < 1 || f.EmergencyRecovery > 100 {
		v.errorf("flow.emergency-recovery", "%d is not a percentage from 1 to 100", f.EmergencyRecovery)
	}

	s := c.Stream
	v.positive("stream.memcap", int64(min(s.Memcap, 1<<62)))
	v.positive("stream.reassembly.memcap", int64(min(s.Reassembly.Memcap, 1<<62)))
	if s.Reassembly.Depth > s.Reassembly.Memcap {
		v.errorf("stream.reassembly.depth", "%s exceeds stream.reassembly.memcap %s: no session could reach it", s.Reassembly.Depth, s.Reassembly.Memcap)
	}

	d := c.Defrag
	v.positive("defrag.memcap", int64(min(d.Memcap, 1<<62)))
	v.positive("defrag.trackers", int64(d.Trackers))
	v.positive("defrag.timeout", int64(d.Timeout))
	if d.MaxFrags < d.Trackers {
		v.errorf("defrag.max-frags", "%d is below defrag.trackers %d: each tracker needs at least one fragment", d.MaxFrags, d.Trackers)
	}

	c.validateBypass(&v)

	if c.Workers < 0 {
		v.errorf("workers", "%d is negative (0 means one per CPU)", c.Workers)
	}
	if c.LogDir == "" {
		v.errorf("log-dir", "empty (use \".\" for the current directory)")
	}
	return v.errs.Err()
}

type validator struct {
	c    *Config
	errs ErrorList
}

// errorf records "key: msg" at the line that set key, or at its nearest
// ancestor that a file set.
func (v *validator) errorf(key, format string, args ...any) {
	e := &Error{File: v.c.file, Key: key, Msg: key + ": " + fmt.Sprintf(format, args...)}
	for k := key; k != "" && v.c.lines != nil; {
		if l, ok := v.c.lines[k]; ok {
			e.Line = l
			break
		}
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	v.errs = append(v.errs, e)
}

func (v *validator) positive(key string, n int64) {
	if n <= 0 {
		v.errorf(key, "must be positive")
	}
}

func (c *Config) validateCapture(v *validator) {
	seen := map[string]int{}
	for i, ifc := range c.Capture.Interfaces {
		p := fmt.Sprintf("capture.interfaces[%d]", i)
		switch {
		case ifc.Name == "":
			v.errorf(p+".name", "missing (every interface needs a name)")
		case len(ifc.Name) > 15 || strings.ContainsAny(ifc.Name, "/ \t"):
			v.errorf(p+".name", "%q is not an interface name", ifc.Name)
		default:
			if j, dup := seen[ifc.Name]; dup {
				v.errorf(p+".name", "%q is already listed as capture.interfaces[%d]", ifc.Name, j)
			}
			seen[ifc.Name] = i
		}
		if ifc.Workers < 1 {
			v.errorf(p+".workers", "%d: want at least 1", ifc.Workers)
		}
		if ifc.FanoutGroup < 0 || ifc.FanoutGroup > 65535 {
			v.errorf(p+".fanout-group", "%d is not a fanout group id (0 to derive, or 1–65535)", ifc.FanoutGroup)
		}
		if ifc.Snaplen != 0 && (ifc.Snaplen < 64 || ifc.Snaplen > 262144) {
			v.errorf(p+".snaplen", "%d bytes is out of range (0 for the MTU, or 64–262144)", ifc.Snaplen)
		}
	}
}

func (c *Config) validateBypass(v *validator) {
	b := c.Capture.Bypass
	switch b.Mode {
	case BypassAuto, BypassOff, BypassLocal, BypassSocketFilter, BypassXDP:
	default:
		v.errorf("capture.bypass.mode", "%q is not a bypass mode (want auto, off, local, socket-filter or xdp)", b.Mode)
	}
	if b.TableSize < 1 || b.TableSize > 1<<24 {
		v.errorf("capture.bypass.table-size", "%d flows is out of range (1–16777216)", b.TableSize)
	}
	for _, p := range []struct{ key, val string }{
		{"app-layer.tls.encryption-handling", c.AppLayer.TLS.EncryptionHandling},
		{"app-layer.ssh.encryption-handling", c.AppLayer.SSH.EncryptionHandling},
	} {
		switch p.val {
		case EncryptionTrackOnly, EncryptionDefault, EncryptionFull, EncryptionBypass:
		default:
			v.errorf(p.key, "%q is not an encryption handling (want track-only, full or bypass)", p.val)
		}
	}
}

func (c *Config) validateVars(v *validator) {
	ag, pg := c.Vars.AddressGroups, c.Vars.PortGroups
	for _, name := range sortedKeys(ag) {
		key := "vars.address-groups." + name
		if !varName(name) {
			v.errorf(key, "%q is not a variable name (letters, digits, _)", name)
			continue
		}
		if err := checkGroup(ag[name], ag, name, checkAddr); err != nil {
			v.errorf(key, "%q: %v", ag[name], err)
		}
	}
	for _, name := range sortedKeys(pg) {
		key := "vars.port-groups." + name
		if !varName(name) {
			v.errorf(key, "%q is not a variable name (letters, digits, _)", name)
			continue
		}
		if err := checkGroup(pg[name], pg, name, checkPort); err != nil {
			v.errorf(key, "%q: %v", pg[name], err)
		}
	}
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func varName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// checkGroup checks a Suricata address or port expression: "any", "!x",
// "[x,y,...]" (nested), "$VAR" (a name in vars) or an element that elem
// accepts. Problems inside a referenced variable are reported on that
// variable, not here; a reference chain leading back to self is reported
// here. The cycle search visits each variable at most once, so it is
// linear in the size of vars.
func checkGroup(expr string, vars map[string]string, self string, elem func(string) error) error {
	g := groupChecker{vars: vars, elem: elem}
	if err := g.expr(strings.TrimSpace(expr), 0); err != nil {
		return err
	}
	seen := map[string]bool{}
	stack := g.refs
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n == self {
			return fmt.Errorf("$%s refers to itself", self)
		}
		if seen[n] {
			continue
		}
		seen[n] = true
		stack = append(stack, varRefs(vars[n])...)
	}
	return nil
}

// varRefs returns the names s refers to as $NAME.
func varRefs(s string) []string {
	var refs []string
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			return refs
		}
		s = s[i+1:]
		j := 0
		for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
			j++
		}
		refs = append(refs, s[:j])
		s = s[j:]
	}
}

type groupChecker struct {
	vars map[string]string
	elem func(string) error
	refs []string // variables referred to
}

func (g *groupChecker) expr(s string, depth int) error {
	if depth > 16 {
		return fmt.Errorf("nested too deeply")
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return fmt.Errorf("empty element")
	}
	if strings.HasPrefix(s, "!") {
		if strings.TrimSpace(s[1:]) == "any" {
			return fmt.Errorf("\"!any\" matches nothing")
		}
		return g.expr(s[1:], depth+1)
	}
	if strings.HasPrefix(s, "[") {
		if !strings.HasSuffix(s, "]") {
			return fmt.Errorf("unbalanced '['")
		}
		parts, err := splitList(s[1 : len(s)-1])
		if err != nil {
			return err
		}
		for _, p := range parts {
			if err := g.expr(p, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if strings.ContainsAny(s, "[],") {
		return fmt.Errorf("list without brackets near %q", s)
	}
	if s == "any" {
		return nil
	}
	if name, ok := strings.CutPrefix(s, "$"); ok {
		if _, ok := g.vars[name]; !ok {
			return fmt.Errorf("undefined variable $%s", name)
		}
		g.refs = append(g.refs, name)
		return nil
	}
	return g.elem(s)
}

// splitList splits a bracket body at top-level commas.
func splitList(s string) ([]string, error) {
	var parts []string
	level, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			level++
		case ']':
			level--
			if level < 0 {
				return nil, fmt.Errorf("unbalanced ']'")
			}
		case ',':
			if level == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	if level != 0 {
		return nil, fmt.Errorf("unbalanced '['")
	}
	return append(parts, s[start:]), nil
}

// checkAddr accepts an address, a CIDR prefix or an "a-b" range.
func checkAddr(s string) error {
	if _, err := netip.ParseAddr(s); err == nil {
		return nil
	}
	if _, err := netip.ParsePrefix(s); err == nil {
		return nil
	}
	if a, b, ok := strings.Cut(s, "-"); ok {
		x, err1 := netip.ParseAddr(strings.TrimSpace(a))
		y, err2 := netip.ParseAddr(strings.TrimSpace(b))
		if err1 == nil && err2 == nil && x.Is4() == y.Is4() && x.Compare(y) <= 0 {
			return nil
		}
	}
	// Suricata also accepts a.b.c.d/m.m.m.m netmasks.
	if a, m, ok := strings.Cut(s, "/"); ok {
		x, err1 := netip.ParseAddr(a)
		y, err2 := netip.ParseAddr(m)
		if err1 == nil && err2 == nil && x.Is4() && y.Is4() && contiguousMask(y.As4()) {
			return nil
		}
	}
	return fmt.Errorf("bad address %q (want an IP, CIDR, range a-b, $VAR, any, ! or [list])", s)
}

func contiguousMask(m [4]byte) bool {
	v := uint32(m[0])<<24 | uint32(m[1])<<16 | uint32(m[2])<<8 | uint32(m[3])
	return ^v&(^v+1) == 0 // ones then zeros
}

// checkPort accepts a port, or a range "a:b", "a:" or ":b".
func checkPort(s string) error {
	bad := fmt.Errorf("bad port %q (want 0–65535, a range a:b, $VAR, any, ! or [list])", s)
	if a, b, ok := strings.Cut(s, ":"); ok {
		lo, hi := 0, 65535
		var err error
		if a != "" {
			if lo, err = port(a); err != nil {
				return bad
			}
		}
		if b != "" {
			if hi, err = port(b); err != nil {
				return bad
			}
		}
		if a == "" && b == "" || lo > hi {
			return bad
		}
		return nil
	}
	if _, err := port(s); err != nil {
		return bad
	}
	return nil
}

func port(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > 65535 {
		return 0, fmt.Errorf("bad port")
	}
	return n, nil
}
