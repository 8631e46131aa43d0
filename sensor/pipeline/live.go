package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/polder-nsm/polder/sensor/capture"
	"github.com/polder-nsm/polder/sensor/detect"
	"github.com/polder-nsm/polder/sensor/rules"
)

// Live is a running sensor on one or more interfaces: one worker goroutine
// per AF_PACKET fanout socket, each owning its flows without locks.
type Live struct {
	opts    Options
	cfg     *Config
	out     *output
	srcs    []*capture.LiveSource
	workers []*worker
	rules   ruleSwitch
	reload  sync.Mutex // one reload at a time
}

// OpenLive opens every configured interface. Nothing is captured until Run.
func OpenLive(opts Options) (*Live, error) {
	cfg := opts.config()
	if len(cfg.Live) == 0 {
		return nil, errors.New("open live capture: no interfaces configured (set capture.interfaces or pass -i)")
	}
	out, err := newOutput(cfg, opts, "wire/pcap")
	if err != nil {
		return nil, err
	}
	opts.Logger = out.engineLog(opts.logger())
	l := &Live{opts: opts, cfg: cfg, out: out}
	eng, loadErrs, err := opts.engine(cfg, opts.logger())
	if err != nil {
		out.close()
		return nil, err
	}
	var rs *ruleset
	if eng != nil {
		sh, err := eng.NewShared(nil)
		if err != nil {
			opts.logger().Warn("rules", "error", err.Error())
		}
		rs = &ruleset{eng: eng, sh: sh, errs: loadErrs}
		l.rules.cur.Store(rs)
	}
	for i, lo := range cfg.Live {
		if lo.FanoutGroup == 0 {
			lo.FanoutGroup = fanoutGroup(opts.LogDir, lo.Interface)
		}
		srcs, err := capture.OpenLive(lo, i)
		if err != nil {
			l.closeSources()
			out.close()
			return nil, err
		}
		for _, s := range srcs {
			l.srcs = append(l.srcs, s)
			w := newWorker(cfg, out)
			w.iface = lo.Interface
			if rs != nil {
				w.det = detect.NewThread(rs.eng, rs.sh)
				w.rules = &l.rules
			}
			l.workers = append(l.workers, w)
		}
	}
	if err := out.byp.live(&cfg.Bypass, opts.Bypass, opts.clock(), opts.logger(), l.srcs); err != nil {
		l.closeSources()
		out.close()
		return nil, err
	}
	out.workers = l.workers
	out.live = l
	return l, nil
}

// ReloadRules loads and compiles the ruleset of the config again (Suricata's
// rule reload, on SIGHUP or an API call) beside the running one and
// publishes it; each worker switches before its next packet, so no packet
// is inspected twice or skipped. When loading fails, or the sensor was
// started without rules, the running ruleset stays and the error says why.
// Refused rules do not fail a reload: they are reported in the result and
// logged (RuleLoad.Log), as at startup.
func (l *Live) ReloadRules() (*RuleLoad, error) {
	l.reload.Lock()
	defer l.reload.Unlock()
	old := l.rules.cur.Load()
	if old == nil {
		return nil, errors.New("reload rules: the sensor was started without rules")
	}
	res, err := LoadRules(l.cfg.Rules)
	if err != nil {
		return nil, fmt.Errorf("reload rules (keeping the running ruleset): %w", err)
	}
	sh, err := res.Engine.NewShared(old.sh)
	if err != nil {
		res.Errors = append(res.Errors, &rules.Error{Msg: err.Error()})
	}
	l.rules.cur.Store(&ruleset{eng: res.Engine, sh: sh, errs: res.Errors})
	res.Log(l.opts.logger())
	return res, nil
}

// Reopen reopens the EVE file (after logrotate moved it); safe to call from
// a signal handler goroutine while Run is active.
func (l *Live) Reopen() error { return l.out.reopen() }

// Run captures until ctx is cancelled, then flushes every flow and writes a
// final stats event.
func (l *Live) Run(ctx context.Context) error {
	clock := l.opts.clock()
	var wg sync.WaitGroup
	errs := make([]error, len(l.workers))
	for i, w := range l.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.runLive(ctx, l.srcs[i], clock)
		}()
	}
	statsDone := make(chan struct{})
	go func() {
		defer close(statsDone)
		iv := l.cfg.EVE.StatsInterval
		if iv <= 0 {
			return
		}
		t := time.NewTicker(iv)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				l.out.statsAll(clock())
			}
		}
	}()
	wg.Wait()
	<-statsDone
	l.out.statsAll(clock())
	l.closeSources()
	if err := l.out.close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (l *Live) closeSources() {
	for _, s := range l.srcs {
		s.Close()
	}
}

// kernelStats sums PACKET_STATISTICS over every socket.
func (l *Live) kernelStats() (packets, drops uint64) {
	for _, s := range l.srcs {
		p, d, err := s.Stats()
		if err == nil {
			packets += p
			drops += d
		}
	}
	return packets, drops
}

// runLive is one worker's capture loop. Wall time drives timeouts when the
// wire is quiet; packet time otherwise.
func (w *worker) runLive(ctx context.Context, src *capture.LiveSource, clock func() time.Time) error {
	var f capture.Frame
	for ctx.Err() == nil {
		err := src.ReadFrame(&f)
		switch {
		case err == nil:
			w.handleFrame(&f)
			w.publishEvery(clock)
		case errors.Is(err, capture.ErrTimeout):
			now := clock()
			w.now = now
			w.tick(now) // wall time drives timeouts while the wire is quiet
			w.publishEvery(clock)
		default:
			if ctx.Err() != nil {
				break
			}
			return fmt.Errorf("capture on %s: %w", w.iface, err)
		}
	}
	w.finish()
	w.publish()
	return nil
}
