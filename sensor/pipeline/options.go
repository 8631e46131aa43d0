// Package pipeline wires the sensor stages together: capture → decode →
// defrag → flow → stream → app-layer → output. It is the only package that
// imports every stage. Each worker owns one flow table, reassembler and set
// of parsers and runs without locks; flows are sharded to workers by the
// kernel's symmetric fanout hash (live) or handled by one worker (offline).
package pipeline

import (
	"log/slog"
	"time"

	"github.com/polder-nsm/polder/sensor/detect"
	"github.com/polder-nsm/polder/sensor/rules"
)

// Options configures a sensor run. The zero value of every field means the
// default documented on it.
type Options struct {
	Config *Config      // stage options; nil = DefaultConfig()
	LogDir string       // directory of eve.json when the EVE filename is relative; "" = current directory
	Logger *slog.Logger // nil = discard

	// Progress, when set, is called about every 250 ms of wall time while a
	// file is read, with bytes read and file size. It runs on the reading
	// goroutine and must return quickly.
	Progress func(done, total int64)

	// Clock returns wall time for stats uptime and live timeouts; nil = time.Now.
	Clock func() time.Time

	// Engine is the compiled ruleset to run (see LoadRules). nil: load
	// Config.Rules when it names rule files, else run without rules.
	Engine *detect.Engine
}

// engine returns the ruleset to run: the given Engine, or Config.Rules
// loaded now (refused rules are logged, as Suricata does at startup), with
// the load's errors.
func (o Options) engine(cfg *Config, log *slog.Logger) (*detect.Engine, rules.ErrorList, error) {
	if o.Engine != nil || len(cfg.Rules.Files) == 0 {
		return o.Engine, nil, nil
	}
	res, err := LoadRules(cfg.Rules)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range res.Errors {
		log.Warn("rule refused", "error", e.Error())
	}
	for _, s := range res.Engine.Inactive() {
		log.Debug("rule inactive", "file", s.Rule.File, "line", s.Rule.Pos.Line, "sid", s.Rule.SID, "reason", s.Inactive())
	}
	st := res.Engine.Stats()
	log.Info("rules loaded", "files", len(res.Files), "loaded", st.Loaded, "refused", st.Refused, "inactive", st.Inactive, "compile", st.Compile.Round(time.Millisecond))
	return res.Engine, res.Errors, nil
}

func (o Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Summary is what a finished run reports.
type Summary struct {
	Packets uint64        // frames read
	Bytes   uint64        // captured bytes
	Invalid uint64        // frames that failed to decode
	Flows   uint64        // flow records written
	Events  uint64        // EVE lines written (all types)
	Elapsed time.Duration // wall time
}
