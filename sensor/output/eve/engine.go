package eve

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// LevelNotice is Suricata's notice level, between slog's Info and Warn.
const LevelNotice = slog.LevelInfo + 2

// LevelName is Suricata's name for a log level (its sc_log_level_map), as
// written in an engine event's log_level: "Error", "Warning", "Notice",
// "Info" or "Debug".
func LevelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "Error"
	case l >= slog.LevelWarn:
		return "Warning"
	case l >= LevelNotice:
		return "Notice"
	case l >= slog.LevelInfo:
		return "Info"
	}
	return "Debug"
}

// ParseLevel reads a level as Suricata's logging.default-log-level and
// outputs' level: "error", "warning", "notice", "info" or "debug" (any
// case). Suricata's "perf" and "config" sit between info and debug; they
// read as debug.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "error", "critical", "alert", "emergency":
		return slog.LevelError, nil
	case "warning":
		return slog.LevelWarn, nil
	case "notice":
		return LevelNotice, nil
	case "info":
		return slog.LevelInfo, nil
	case "perf", "config", "debug":
		return slog.LevelDebug, nil
	}
	return 0, fmt.Errorf("%q is not a log level (want error, warning, notice, info or debug)", s)
}

// Engine is an "engine" event: one log message of the sensor, as Suricata
// 7+ writes its own log messages to a logging output of type json (the
// event_type "engine" of the EVE schema).
type Engine struct {
	Time    time.Time
	Level   slog.Level
	Module  string // the part of the sensor speaking ("detect" for rule loading); "" leaves it out
	Thread  string // "" leaves it out
	Message string
}

// AppendEngine appends a complete engine event line (with '\n') to buf:
//
//	{"timestamp":"…","log_level":"Error","event_type":"engine",
//	 "engine":{"message":"…","thread_name":"…","module":"detect"}}
//
// in Suricata's member order. Engine events have no flow header.
func AppendEngine(buf []byte, e *Engine) []byte {
	b := Builder{B: buf}
	b.BeginObject()
	b.KeyTime("timestamp", e.Time)
	b.KeyString("log_level", LevelName(e.Level))
	b.KeyString("event_type", "engine")
	b.Key("engine")
	b.BeginObject()
	b.KeyString("message", e.Message)
	if e.Thread != "" {
		b.KeyString("thread_name", e.Thread)
	}
	if e.Module != "" {
		b.KeyString("module", e.Module)
	}
	b.EndObject()
	return b.end()
}

// LineWriter takes complete EVE lines; *Writer is one.
type LineWriter interface {
	Write(line []byte) error
}

// EngineHandler is a slog.Handler that writes each record at or above its
// level as an engine event: the sensor's log messages go to EVE, as
// Suricata's do with a json logging output. The attribute "module" (at the
// top level, from the record or from Logger.With) becomes engine.module;
// the other attributes are appended to the message as key=value pairs,
// quoted where needed, in the order slog gives them, so a record without
// attributes keeps its message exactly (Suricata-worded rule load messages
// rely on that). Groups prefix their keys ("g.key").
//
// Logging is not on the packet path: Handle allocates. It is safe for
// concurrent use when the LineWriter is (the Writer takes whole lines under
// its lock). Write errors are returned to slog, which drops them.
type EngineHandler struct {
	w      LineWriter
	level  slog.Leveler
	module string
	attrs  []string // "key=value" of Logger.With, group-prefixed
	group  string   // "a.b." prefix of WithGroup
}

// NewEngineHandler returns a handler writing to w the records at or above
// level (nil: slog.LevelInfo).
func NewEngineHandler(w LineWriter, level slog.Leveler) *EngineHandler {
	if level == nil {
		level = slog.LevelInfo
	}
	return &EngineHandler{w: w, level: level}
}

// Enabled implements slog.Handler.
func (h *EngineHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

// WithAttrs implements slog.Handler.
func (h *EngineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append([]string(nil), h.attrs...)
	for _, a := range as {
		c.attrs = c.add(c.attrs, a)
	}
	return &c
}

// WithGroup implements slog.Handler.
func (h *EngineHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.group += name + "."
	return &c
}

// Handle implements slog.Handler.
func (h *EngineHandler) Handle(_ context.Context, r slog.Record) error {
	c := *h // a record's own "module" must not stick to the handler
	pairs := append([]string(nil), h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		pairs = c.add(pairs, a)
		return true
	})
	msg := r.Message
	if len(pairs) > 0 {
		msg += " " + strings.Join(pairs, " ")
	}
	e := Engine{Time: r.Time, Level: r.Level, Module: c.module, Message: msg}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	return h.w.Write(AppendEngine(nil, &e))
}

// add appends a's "key=value" pairs to pairs, or takes it as the module.
func (h *EngineHandler) add(pairs []string, a slog.Attr) []string {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return pairs
	}
	if a.Value.Kind() == slog.KindGroup {
		sub := *h
		if a.Key != "" {
			sub.group += a.Key + "."
		}
		for _, g := range a.Value.Group() {
			pairs = sub.add(pairs, g)
		}
		return pairs
	}
	if h.group == "" && a.Key == "module" {
		h.module = a.Value.String()
		return pairs
	}
	return append(pairs, h.group+a.Key+"="+textValue(a.Value))
}

// textValue formats v as slog's text handler does: strings quoted when
// they are empty or hold spaces, quotes, '=' or unprintable characters.
func textValue(v slog.Value) string {
	var s string
	switch v.Kind() {
	case slog.KindTime:
		s = v.Time().Format(time.RFC3339Nano)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			s = err.Error()
		} else {
			s = v.String()
		}
	default:
		s = v.String()
	}
	if s == "" || strings.IndexFunc(s, func(r rune) bool {
		return r == ' ' || r == '"' || r == '=' || !unicode.IsPrint(r)
	}) >= 0 {
		return strconv.Quote(s)
	}
	return s
}
