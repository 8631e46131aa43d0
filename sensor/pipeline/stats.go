package pipeline

import (
	"strings"
	"time"

	"github.com/polder-nsm/polder/sensor/applayer"
	"github.com/polder-nsm/polder/sensor/output/eve"
)

// appProtoNames are the app_layer.flow.* counter names, built once so that
// yielding them does not concatenate strings.
var appFlowNames, appTxNames [applayer.ProtoFailed + 1]string

func init() {
	for p := applayer.ProtoUnknown; p <= applayer.ProtoFailed; p++ {
		appFlowNames[p] = "app_layer.flow." + p.String()
		appTxNames[p] = "app_layer.tx." + p.String()
	}
}

// eachCounter yields every counter of the worker, Suricata's stats names in
// registration order. Only the worker's goroutine may call it.
func (w *worker) eachCounter(fn func(name string, v uint64)) {
	w.dec.Counters.Each(fn)
	w.frag.Counters.Each(fn)
	w.flows.Each(fn)
	w.reasm.Each(fn)
	for p := applayer.ProtoHTTP; p <= applayer.ProtoFailed; p++ {
		if p == applayer.ProtoSSH {
			continue
		}
		fn(appFlowNames[p], w.counters.appDetect[p])
	}
	fn(appTxNames[applayer.ProtoHTTP], w.counters.txHTTP)
	fn(appTxNames[applayer.ProtoTLS], w.counters.txTLS)
	fn(appTxNames[applayer.ProtoDNS], w.counters.txDNS)
	fn("app_layer.error.dns.parser", w.counters.dnsParseErrors)
	fn("flow.table_full_drop", w.counters.flowTableFull)
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
	w.line = eve.AppendStats(w.line[:0], o.clock(), int64(o.clock().Sub(o.started)/time.Second), w.eachCounter)
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
	line := eve.AppendStats(nil, now, int64(now.Sub(o.started)/time.Second), func(yield func(string, uint64)) {
		yield("capture.kernel_packets", kp)
		yield("capture.kernel_drops", kd)
		for _, n := range names {
			yield(n, sum[n])
		}
	})
	o.write(line)
}
