package pipeline

import (
	"strings"
	"time"

	"github.com/polder-nsm/polder/sensor/applayer"
	"github.com/polder-nsm/polder/sensor/output/eve"
)

// eachCounter yields every counter of the worker, Suricata's stats names in
// registration order. Only the worker's goroutine may call it.
func (w *worker) eachCounter(fn func(name string, v uint64)) {
	c := &w.counters
	w.dec.Counters.Each(fn)
	w.eachIPSCounter(fn)
	w.frag.Counters.Each(fn)
	w.flows.Each(fn)
	w.eachBypassCounter(fn)
	w.reasm.Each(fn)
	fn("app_layer.flow.http", c.appFlow[applayer.ProtoHTTP])
	fn("app_layer.flow.tls", c.appFlow[applayer.ProtoTLS])
	fn("app_layer.flow.ssh", c.appFlow[applayer.ProtoSSH])
	fn("app_layer.flow.dns_tcp", c.appFlow[applayer.ProtoDNS])
	fn("app_layer.flow.dns_udp", c.dnsUDPFlows)
	fn("app_layer.flow.failed_tcp", c.appFlow[applayer.ProtoFailed])
	fn("app_layer.tx.http", c.txHTTP)
	// Suricata counts the transactions a parser creates after its state:
	// a TLS session is its state's one transaction, so this stays 0.
	fn("app_layer.tx.tls", 0)
	fn("app_layer.tx.ssh", 0) // likewise
	fn("app_layer.tx.dns_tcp", c.txDNSTCP)
	fn("app_layer.tx.dns_udp", c.txDNSUDP)
	fn("app_layer.error.dns_udp.parser", c.dnsParseErrors)
}

// snapshot is a copy of one worker's counters, published for the stats
// writer of a live run so that it never reads a worker's live state.
type snapshot struct {
	names []string
	vals  []uint64
}

func (w *worker) publish() {
	var s snapshot
	w.eachCounter(func(n string, v uint64) {
		s.names = append(s.names, n)
		s.vals = append(s.vals, v)
	})
	w.out.mu.Lock()
	w.snap = s
	w.out.mu.Unlock()
}

// publishEvery publishes at most once a second of wall time.
func (w *worker) publishEvery(clock func() time.Time) {
	if w.pcapCnt&1023 != 0 && !w.lastPublish.IsZero() {
		return
	}
	now := clock()
	if now.Sub(w.lastPublish) < time.Second {
		return
	}
	w.lastPublish = now
	w.publish()
}

// stats writes one stats event for a single-worker (offline) run.
func (o *output) stats(w *worker, now time.Time) {
	if !o.cfg.EVE.Stats {
		return
	}
	each := w.eachCounter
	if !o.cfg.EVE.StatsZeros {
		each = func(yield func(string, uint64)) {
			w.eachCounter(func(n string, v uint64) {
				if v != 0 {
					yield(n, v)
				}
			})
		}
	}
	w.line = eve.AppendStats(w.line[:0], o.clock(), int64(o.clock().Sub(o.started)/time.Second), each)
	o.write(w.line)
}

// statsAll writes one stats event summing every worker's last snapshot and
// the kernel's capture counters.
func (o *output) statsAll(now time.Time) {
	if !o.cfg.EVE.Stats {
		return
	}
	o.mu.Lock()
	var names []string
	sum := map[string]uint64{}
	for _, w := range o.workers {
		for i, n := range w.snap.names {
			if _, ok := sum[n]; !ok {
				names = append(names, n)
			}
			if strings.Contains(n, ".max_") {
				sum[n] = max(sum[n], w.snap.vals[i])
			} else {
				sum[n] += w.snap.vals[i]
			}
		}
	}
	o.mu.Unlock()
	if p := sum["decoder.pkts"]; p > 0 {
		sum["decoder.avg_pkt_size"] = sum["decoder.bytes"] / p
	}
	var kp, kd uint64
	if o.live != nil {
		kp, kd = o.live.kernelStats()
	}
	zeros := o.cfg.EVE.StatsZeros
	line := eve.AppendStats(nil, now, int64(now.Sub(o.started)/time.Second), func(yield func(string, uint64)) {
		y := func(n string, v uint64) {
			if v != 0 || zeros {
				yield(n, v)
			}
		}
		y("capture.kernel_packets", kp)
		y("capture.kernel_drops", kd)
		for _, n := range names {
			y(n, sum[n])
		}
		if o.cfg.EVE.StatsBypass && o.live != nil {
			o.byp.eachTableCounter(y)
		}
	})
	o.write(line)
}
