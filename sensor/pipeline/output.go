package pipeline

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/polder-nsm/polder/sensor/applayer"
	"github.com/polder-nsm/polder/sensor/applayer/dns"
	"github.com/polder-nsm/polder/sensor/applayer/http"
	"github.com/polder-nsm/polder/sensor/applayer/tls"
	"github.com/polder-nsm/polder/sensor/decode"
	"github.com/polder-nsm/polder/sensor/detect"
	"github.com/polder-nsm/polder/sensor/flow"
	"github.com/polder-nsm/polder/sensor/output/eve"
	"github.com/polder-nsm/polder/sensor/output/fastlog"
	"github.com/polder-nsm/polder/sensor/rules"
)

// output turns stage results into EVE lines. The Writer is shared by every
// worker; each worker builds lines in its own buffer (w.line), so the only
// shared step is handing a finished line to the Writer.
type output struct {
	cfg     *Config
	w       *eve.Writer
	fast    *eve.Writer // fast.log; nil when off
	pktSrc  string
	started time.Time // wall time the run started, for stats uptime
	clock   func() time.Time

	workers []*worker
	live    *Live
	byp     *bypassRun // flow bypass shared by the workers (bypass.go)

	flows, events atomic.Uint64

	mu    sync.Mutex // guards stats aggregation
	errMu sync.Mutex
	err   error // first write error, reported at close
}

func newOutput(cfg *Config, opts Options, pktSrc string) (*output, error) {
	path := cfg.EVE.Filename
	if !filepath.IsAbs(path) && opts.LogDir != "" {
		path = filepath.Join(opts.LogDir, path)
	}
	w, err := eve.NewWriter(eve.WriterOptions{Kind: cfg.EVE.Kind, Path: path})
	if err != nil {
		return nil, fmt.Errorf("open eve output: %w", err)
	}
	clock := opts.clock()
	o := &output{cfg: cfg, w: w, pktSrc: pktSrc, started: clock(), clock: clock}
	o.byp = newBypassRun(&cfg.Bypass)
	if cfg.Fast.Enabled {
		if o.fast, err = openFast(cfg.Fast, opts.LogDir); err != nil {
			w.Close()
			return nil, err
		}
	}
	return o, nil
}

// openFast opens fast.log: a plain line file, appended to (or truncated
// first when Append is off), buffered and reopened like the EVE file.
func openFast(fc FastConfig, logDir string) (*eve.Writer, error) {
	path := fc.Filename
	if !filepath.IsAbs(path) && logDir != "" {
		path = filepath.Join(logDir, path)
	}
	if !fc.Append {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
		if err != nil {
			return nil, fmt.Errorf("open fast.log output: %w", err)
		}
		f.Close()
	}
	fw, err := eve.NewWriter(eve.WriterOptions{Kind: eve.SinkFile, Path: path})
	if err != nil {
		return nil, fmt.Errorf("open fast.log output: %w", err)
	}
	return fw, nil
}

func (o *output) write(line []byte) {
	o.events.Add(1)
	if err := o.w.Write(line); err != nil {
		if errors.Is(err, eve.ErrDropped) {
			return // a socket reader that is gone or slow: counted by the Writer, not fatal
		}
		o.errMu.Lock()
		if o.err == nil {
			o.err = err
		}
		o.errMu.Unlock()
	}
}

func (o *output) reopen() error {
	err := o.w.Reopen()
	if o.fast != nil {
		if ferr := o.fast.Reopen(); ferr != nil && err == nil {
			err = fmt.Errorf("reopen fast.log: %w", ferr)
		}
	}
	return err
}

func (o *output) close() error {
	err := o.w.Close()
	if o.fast != nil {
		if ferr := o.fast.Close(); ferr != nil && err == nil {
			err = fmt.Errorf("close fast.log: %w", ferr)
		}
	}
	o.errMu.Lock()
	defer o.errMu.Unlock()
	if o.err != nil {
		return fmt.Errorf("write eve: %w", o.err)
	}
	return err
}

// header fills w.hdr for an event about fl, oriented client → server.
func (o *output) header(w *worker, fl *flow.Flow, ts time.Time) *eve.Header {
	h := &w.hdr
	*h = eve.Header{
		Timestamp: ts,
		FlowID:    fl.ID,
		InIface:   w.iface,
		Proto:     fl.Key.Proto,
		SrcPort:   fl.Key.SrcPort,
		DstPort:   fl.Key.DstPort,
		PktSrc:    o.pktSrc,
	}
	if o.pktSrc == "wire/pcap" && w.iface == "" {
		h.PcapCnt = w.pcapCnt
	}
	h.SrcIP, h.DstIP = flowAddrs(&fl.Key)
	for i, v := range fl.Key.VLAN {
		if v == 0 {
			break
		}
		h.VLAN[i] = v
		h.VLANCount = uint8(i + 1)
	}
	if p := applayer.Proto(fl.AppProto); p != applayer.ProtoUnknown {
		h.AppProto = p.String()
	}
	if fl.Key.Proto == ipProtoESP {
		h.SPI, h.HasSPI = fl.Key.SPI(), true
	}
	if fl.Key.Proto == decode.IPProtoICMP || fl.Key.Proto == decode.IPProtoICMPv6 {
		h.SrcPort, h.DstPort = 0, 0
		h.ICMPType, h.ICMPCode = fl.ICMPType[flow.ToServer], fl.ICMPCode[flow.ToServer]
		if fl.Pkts[flow.ToClient] > 0 {
			h.HasRespICMP = true
			h.RespICMPType, h.RespICMPCode = fl.ICMPType[flow.ToClient], fl.ICMPCode[flow.ToClient]
		}
	}
	return h
}

func (o *output) http(w *worker, fl *flow.Flow, tx *http.Transaction) {
	w.countTx(fl)
	if tx.LogDisabled {
		return // a rule's config keyword: neither the http event nor its files
	}
	if o.cfg.EVE.Files {
		o.fileinfo(w, fl, tx, tx.RequestFile, flow.ToServer)
		o.fileinfo(w, fl, tx, tx.ResponseFile, flow.ToClient)
	}
	if !o.cfg.EVE.HTTP {
		return
	}
	h := o.header(w, fl, tx.Timestamp)
	h.TxID, h.HasTxID = tx.ID, true
	w.line = eve.AppendHTTPWith(w.line[:0], h, tx, o.cfg.EVE.HTTPOptions)
	o.write(w.line)
}

// fileinfo writes the fileinfo event of a body of tx that was tracked as a
// file (f not nil), in the direction it travelled, as Suricata logs a file
// when it closes; the pipeline logs it when the transaction is emitted,
// just before the http event.
func (o *output) fileinfo(w *worker, fl *flow.Flow, tx *http.Transaction, f *http.File, dir flow.Direction) {
	if f == nil {
		return
	}
	h := o.header(w, fl, w.now)
	if dir == flow.ToClient {
		h.SrcIP, h.DstIP = h.DstIP, h.SrcIP
		h.SrcPort, h.DstPort = h.DstPort, h.SrcPort
	}
	w.line = eve.AppendFileInfo(w.line[:0], h, tx, f)
	o.write(w.line)
}

func (o *output) dns(w *worker, fl *flow.Flow, m *dns.Message) {
	w.countTx(fl)
	e := &o.cfg.EVE
	if !e.DNS || (m.Response() && !e.DNSResponses) || (!m.Response() && !e.DNSRequests) {
		return
	}
	h := o.header(w, fl, m.Timestamp)
	if m.Response() {
		// Suricata 8 logs a DNS response in the direction it travelled:
		// from the server.
		h.SrcIP, h.DstIP = h.DstIP, h.SrcIP
		h.SrcPort, h.DstPort = h.DstPort, h.SrcPort
	}
	h.TxID, h.HasTxID = m.TxID, true
	w.line = eve.AppendDNS(w.line[:0], h, m)
	o.write(w.line)
}

func (o *output) tls(w *worker, fl *flow.Flow, s *tls.Session) {
	if !o.cfg.EVE.TLS {
		return
	}
	ts := s.Timestamp
	if ts.IsZero() {
		ts = w.now
	}
	h := o.header(w, fl, ts)
	w.line = eve.AppendTLS(w.line[:0], h, s)
	o.write(w.line)
}

// anomalyDecode logs a frame that failed to decode. The packet has only
// what was decoded before the fault, so addresses may be absent.
func (o *output) anomalyDecode(w *worker, p *decode.Packet, r decode.Reason) {
	if !o.cfg.EVE.Anomaly {
		return
	}
	h := &w.hdr
	*h = eve.Header{Timestamp: p.Timestamp, InIface: w.iface, PktSrc: o.pktSrc}
	if w.iface == "" {
		h.PcapCnt = w.pcapCnt
	}
	if p.IPVersion != 0 {
		h.SrcIP, h.DstIP = p.SrcAddr(), p.DstAddr()
		h.Proto = p.IPProto
	}
	w.line = eve.AppendAnomaly(w.line[:0], h, "decode", r.String(), r.Layer())
	o.write(w.line)
}

// flow writes the flow record and the netflow records of an ended flow.
func (o *output) flow(w *worker, fl *flow.Flow, st *flowState, why flow.EndReason) {
	o.flows.Add(1)
	if o.cfg.EVE.Flow {
		o.flowRecord(w, fl, st, why)
	}
	if o.cfg.EVE.Netflow {
		o.netflow(w, fl, st)
	}
}

// flowRecord writes the flow event of an ended flow.
func (o *output) flowRecord(w *worker, fl *flow.Flow, st *flowState, why flow.EndReason) {
	h := o.header(w, fl, fl.StartTime())
	h.PcapCnt = 0
	h.PktSrc = ""
	r := &w.rec
	*r = eve.FlowRecord{
		Start:         fl.StartTime(),
		End:           fl.LastTime(),
		PktsToServer:  fl.Pkts[flow.ToServer],
		PktsToClient:  fl.Pkts[flow.ToClient],
		BytesToServer: fl.Bytes[flow.ToServer],
		BytesToClient: fl.Bytes[flow.ToClient],
		State:         fl.State.String(),
		Reason:        why.String(),
		Alerted:       fl.Alerted,
	}
	if st != nil {
		r.TxCnt = st.txCnt
		if st.ips.dropped {
			r.Action = "drop"
		}
	}
	if fl.Bypass != flow.BypassNone {
		// Suricata's flow states local_bypassed and capture_bypassed. The
		// totals above include what the kernel counted; "bypassed" has
		// its share.
		r.State, r.Bypass = "bypassed", fl.Bypass.String()
		if e := &w.byp.ended; fl.Bypass == flow.BypassCapture && e.fl == fl {
			k := &e.kernel
			r.BypassedPktsToServer, r.BypassedPktsToClient = k.Pkts[flow.ToServer], k.Pkts[flow.ToClient]
			r.BypassedBytesToServer, r.BypassedBytesToClient = k.Bytes[flow.ToServer], k.Bytes[flow.ToClient]
		}
	}
	if fl.Key.Proto == decode.IPProtoTCP {
		r.IsTCP = true
		r.TCPFlagsTS, r.TCPFlagsTC = fl.TCPFlags[flow.ToServer], fl.TCPFlags[flow.ToClient]
		r.TCPState = fl.TCPState.String()
		if st != nil {
			r.TSGap = st.gaps[flow.ToServer]
			r.TCGap = st.gaps[flow.ToClient]
		}
	}
	w.line = eve.AppendFlow(w.line[:0], h, r)
	o.write(w.line)
}

// flowAddrs returns the key's addresses, unmapped for IPv4.
func flowAddrs(k *flow.Key) (src, dst netip.Addr) {
	src, dst = netip.AddrFrom16(k.Src), netip.AddrFrom16(k.Dst)
	if k.IPVersion == 4 {
		src, dst = src.Unmap(), dst.Unmap()
	}
	return src, dst
}

const ipProtoESP = 50

// alert writes one alert event. The header is the packet's (or, for
// stream and transaction matches, the matched data's) direction; the flow
// object comes from the flow.
func (o *output) alert(w *worker, fl *flow.Flow, a *detect.Alert) {
	if o.fast != nil {
		o.fastAlert(w, fl, a)
	}
	if !o.cfg.EVE.Alert {
		return
	}
	h := &w.hdr
	*h = eve.Header{
		Timestamp: a.Time, InIface: w.iface, PktSrc: o.pktSrc,
		SrcIP: a.Src, DstIP: a.Dst, SrcPort: a.SrcPort, DstPort: a.DstPort,
	}
	if o.pktSrc == "wire/pcap" && w.iface == "" {
		h.PcapCnt = w.pcapCnt
	}
	p := &w.pkt
	var f *eve.AlertFlow
	if fl != nil {
		h.FlowID = fl.ID
		h.Proto = fl.Key.Proto
		for i, v := range fl.Key.VLAN {
			if v == 0 {
				break
			}
			h.VLAN[i] = v
			h.VLANCount = uint8(i + 1)
		}
		if ap := applayer.Proto(fl.AppProto); ap != applayer.ProtoUnknown {
			h.AppProto = ap.String()
		}
		f = &w.alertFlow
		*f = eve.AlertFlow{
			Start:        fl.StartTime(),
			PktsToServer: fl.Pkts[flow.ToServer], PktsToClient: fl.Pkts[flow.ToClient],
			BytesToServer: fl.Bytes[flow.ToServer], BytesToClient: fl.Bytes[flow.ToClient],
		}
	} else {
		h.Proto = p.IPProto
	}
	if h.Proto == decode.IPProtoICMP || h.Proto == decode.IPProtoICMPv6 {
		h.SrcPort, h.DstPort = 0, 0
		h.ICMPType, h.ICMPCode = p.ICMPType, p.ICMPCode
	}
	if a.HasTx {
		h.TxID, h.HasTxID = a.TxID, true
	}
	s := a.Sig
	r := s.Rule
	al := &w.alert
	*al = eve.Alert{
		Action: eve.ActionAllowed, GID: r.GID, SID: r.SID, Rev: r.Rev,
		Signature: r.Msg, Category: s.Category, Severity: s.Severity,
		Direction: eve.ToServer, Metadata: w.alertMeta[:0], Flowbits: w.alertBits[:0],
	}
	if a.Blocked {
		al.Action = eve.ActionBlocked
	}
	if a.Dir == flow.ToClient {
		al.Direction = eve.ToClient
	}
	switch r.Target {
	case "dest_ip":
		al.Target = eve.TargetDest
	case "src_ip":
		al.Target = eve.TargetSrc
	}
	if o.cfg.EVE.AlertMetadata {
		for _, m := range r.Metadata {
			al.Metadata = append(al.Metadata, eve.MetaKV{Key: m.Key, Value: m.Value})
		}
		w.alertMeta = al.Metadata
		if st := w.stateOf(fl); st != nil {
			al.Flowbits = st.det.FlowbitNames(al.Flowbits)
			w.alertBits = al.Flowbits
		}
	}
	app := eve.AlertApp{HTTP: a.HTTP, DNS: a.DNS, TLS: a.TLS, Payload: a.Payload, Stream: a.Stream,
		Options: o.cfg.EVE.AlertOptions}
	if o.cfg.EVE.AlertOptions.Packet && a.Payload != nil && !a.Stream {
		app.Packet, app.LinkType = p.Data, uint32(p.LinkType)
	}
	w.line = eve.AppendAlert(w.line[:0], h, al, f, app)
	o.write(w.line)
}

// fastAlert writes an alert's fast.log line: the packet's addresses (as
// the alert reports them), ICMP type and code for ports.
func (o *output) fastAlert(w *worker, fl *flow.Flow, a *detect.Alert) {
	p := &w.pkt
	r := a.Sig.Rule
	fa := fastlog.Alert{
		Time: a.Time, Blocked: a.Blocked, GID: r.GID, SID: r.SID, Rev: r.Rev,
		Msg: r.Msg, Class: a.Sig.Category, Priority: a.Sig.Severity,
		Proto: p.IPProto, Src: a.Src, Dst: a.Dst, SrcPort: a.SrcPort, DstPort: a.DstPort,
	}
	if fl != nil {
		fa.Proto = fl.Key.Proto
	}
	switch r.Action {
	case rules.ActionDrop, rules.ActionReject, rules.ActionRejectSrc, rules.ActionRejectDst, rules.ActionRejectBoth:
		fa.WouldDrop = !a.Blocked
	}
	if fa.Proto == decode.IPProtoICMP || fa.Proto == decode.IPProtoICMPv6 {
		fa.SrcPort, fa.DstPort = uint16(p.ICMPType), uint16(p.ICMPCode)
	}
	if !fa.Src.IsValid() {
		fa.Raw = p.Data
		if w.iface == "" {
			fa.PcapCnt = w.pcapCnt
		}
	}
	w.line = fastlog.Append(w.line[:0], &fa)
	if err := o.fast.Write(w.line); err != nil && !errors.Is(err, eve.ErrDropped) {
		o.errMu.Lock()
		if o.err == nil {
			o.err = fmt.Errorf("fast.log: %w", err)
		}
		o.errMu.Unlock()
	}
}
