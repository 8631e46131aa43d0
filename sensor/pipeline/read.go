package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/polder-nsm/polder/sensor/capture"
	"github.com/polder-nsm/polder/sensor/detect"
)

// ReadFile analyses a pcap or pcapng file like Suricata's -r: packet time
// drives every timeout, flows still open at the end are flushed with reason
// "shutdown", and a final stats event is written. A damaged file is
// processed up to the damage and the returned error names its offset; the
// summary is valid in that case too.
func ReadFile(ctx context.Context, path string, opts Options) (*Summary, error) {
	src, err := capture.OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	if opts.Progress != nil {
		prog := opts.Progress
		opts.Progress = func(int64, int64) { prog(src.Progress()) }
	}
	return readSource(ctx, src, path, opts)
}

// readSource runs every frame of src through one worker. opts.Progress, if
// set, is called with zeros; ReadFile wraps it to report file offsets.
func readSource(ctx context.Context, src capture.Source, path string, opts Options) (*Summary, error) {
	start := time.Now()
	cfg := opts.config()
	out, err := newOutput(cfg, opts, "wire/pcap")
	if err != nil {
		return nil, err
	}
	opts.Logger = out.engineLog(opts.logger())
	// Rules first: the worker's preallocated flow table would otherwise
	// count as live heap while they load, and let the load's garbage grow.
	eng, _, err := opts.engine(cfg, opts.logger())
	if err != nil {
		out.close()
		return nil, err
	}
	w := newWorker(cfg, out)
	out.workers = []*worker{w}
	if eng != nil {
		sh, err := eng.NewShared(nil)
		if err != nil {
			opts.logger().Warn("rules", "error", err.Error())
		}
		w.det = detect.NewThread(eng, sh)
	}

	var (
		f         capture.Frame
		readErr   error
		lastProg  = time.Now()
		lastStats = time.Now()
		n         int
	)
	for {
		err := src.ReadFrame(&f)
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		if !f.LinkType.Supported() {
			if w.counters.packets == 0 {
				out.close()
				return nil, fmt.Errorf("read %s: unsupported link type %d (%s)", path, f.LinkType, f.LinkType)
			}
			w.counters.packets++
			w.counters.invalid++
			continue
		}
		w.handleFrame(&f)
		if n++; n&4095 == 0 {
			if err := ctx.Err(); err != nil {
				readErr = err
				break
			}
			if opts.Progress != nil && time.Since(lastProg) > 250*time.Millisecond {
				lastProg = time.Now()
				opts.Progress(0, 0)
			}
			// Stats follow wall time, as Suricata's do when reading a
			// file: a pcap spanning days must not emit thousands.
			if iv := cfg.EVE.StatsInterval; iv > 0 && time.Since(lastStats) >= iv {
				lastStats = time.Now()
				out.stats(w, w.now)
			}
		}
	}
	w.finish()
	out.stats(w, w.now)
	if opts.Progress != nil {
		opts.Progress(0, 0)
	}
	sum := &Summary{
		Packets: w.counters.packets,
		Bytes:   w.counters.bytes,
		Invalid: w.counters.invalid,
		Flows:   out.flows.Load(),
		Events:  out.events.Load(),
		Elapsed: time.Since(start),
	}
	if err := out.close(); err != nil && readErr == nil {
		readErr = err
	}
	if readErr != nil {
		var de *capture.DamageError
		if errors.As(readErr, &de) {
			return sum, fmt.Errorf("read %s: %w (processed %d packets before the damage)", path, readErr, sum.Packets)
		}
		return sum, fmt.Errorf("read %s: %w", path, readErr)
	}
	return sum, nil
}
