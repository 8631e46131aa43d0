// Package applayer detects the application protocol of a flow from its first
// bytes and holds what the protocol parsers share.
package applayer

// Proto is an application-layer protocol as EVE names it in app_proto.
type Proto uint8

const (
	ProtoUnknown Proto = iota // not yet detected
	ProtoHTTP
	ProtoTLS
	ProtoDNS
	ProtoSSH
	ProtoFailed // detection gave up: EVE "failed"
)

// String returns the EVE app_proto name.
func (p Proto) String() string {
	switch p {
	case ProtoHTTP:
		return "http"
	case ProtoTLS:
		return "tls"
	case ProtoDNS:
		return "dns"
	case ProtoSSH:
		return "ssh"
	case ProtoFailed:
		return "failed"
	}
	return "unknown"
}
