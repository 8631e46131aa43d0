// Package pipeline wires the sensor stages together: capture → decode →
// defrag → flow → stream → app-layer → output. It is the only package that
// imports every stage. Each worker owns one flow table, reassembler and set
// of parsers and runs without locks; flows are sharded to workers by the
// kernel's symmetric fanout hash (live) or handled by one worker (offline).
package pipeline

import (
	"log/slog"
	"time"
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
