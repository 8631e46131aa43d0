// Package pipeline wires the sensor stages together: capture → decode →
// defrag → flow → stream → app-layer → output. It is the only package that
// imports every stage. Each worker owns one flow table, reassembler and set
// of parsers and runs without locks; flows are sharded to workers by the
// kernel's symmetric fanout hash (live) or handled by one worker (offline).
package pipeline

import (
	"log/slog"
	"time"

	"github.com/polder-nsm/polder/sensor/bypass"
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

	// Bypass is the capture-bypass table of a live run (the eBPF socket
	// filter or XDP loader of bpf/, for Config.Bypass.Mode socket-filter,
	// xdp or auto). OpenLive attaches it to the capture sockets when it
	// implements bypass.Attacher. The caller owns it: close it after Run
	// returns. nil: bypassed flows are dropped in user space. Reading a
	// file never uses it.
	Bypass bypass.Table
}

// engine returns the ruleset to run: the given Engine, or Config.Rules
// loaded now (and logged as Suricata does at startup: RuleLoad.Log), with
// the load's errors.
func (o Options) engine(cfg *Config, log *slog.Logger) (*detect.Engine, rules.ErrorList, error) {
	if o.Engine != nil || len(cfg.Rules.Files) == 0 {
		return o.Engine, nil, nil
	}
	res, err := LoadRules(cfg.Rules)
	if err != nil {
		return nil, nil, err
	}
	res.Log(log)
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
