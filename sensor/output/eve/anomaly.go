package eve

// Anomaly types (EVE anomaly.type).
const (
	AnomalyDecode   = "decode"   // a decoder event on a packet
	AnomalyStream   = "stream"   // a TCP stream engine event
	AnomalyApplayer = "applayer" // an app-layer detection or parser event
)

// AppendAnomaly appends a complete "anomaly" event line (with '\n') to buf.
// typ is AnomalyDecode, AnomalyStream or AnomalyApplayer; event is the
// Suricata event name (e.g. "decoder.ipv4.trunc_pkt" or
// "UNABLE_TO_MATCH_RESPONSE_TO_REQUEST"); layer is "proto_detect",
// "proto_parser" or "proto_unknown" for applayer events and "" (omitted)
// otherwise.
//
// As in Suricata, h.AppProto is written inside the anomaly object (for
// applayer anomalies), not in the event header. It allocates only when buf
// must grow.
func AppendAnomaly(buf []byte, h *Header, typ, event, layer string) []byte {
	b := Builder{B: buf}
	b.header(h, "anomaly", false)
	b.Key("anomaly")
	b.BeginObject()
	if h.AppProto != "" {
		b.KeyString("app_proto", h.AppProto)
	}
	b.KeyString("type", typ)
	b.KeyString("event", event)
	if layer != "" {
		b.KeyString("layer", layer)
	}
	b.EndObject()
	return b.end()
}
