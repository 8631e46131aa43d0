// Package tls parses the cleartext part of TLS sessions: records, the
// ClientHello and ServerHello, and certificates where visible (TLS ≤ 1.2).
//
// Parser takes each direction's TCP payload in order, in any
// segmentation, and fills a Session: SNI, ALPN, JA3/JA3S (Salesforce,
// GREASE removed, as Suricata logs them), JA4 (FoxIO), the server's first
// certificate (subject and issuer as Suricata prints them, serial,
// SHA-1 fingerprint, validity), the negotiated version (VersionString
// gives Suricata's text) and the Encrypted hook for bypass. It finds its
// way into flows picked up mid-stream or after a gap by scanning for a
// plausible record header, tolerates SSLv2-compatible hellos, and keeps
// memory bounded (one record plus MaxHandshake per direction; larger
// certificates are hashed as they stream past).
package tls

import "time"

// Session is what one TLS handshake revealed. All slices are owned by the
// Session. Field names follow Suricata's EVE tls object.
type Session struct {
	Timestamp time.Time

	// ClientHello.
	ClientVersion uint16 // legacy_version in the ClientHello
	SNI           []byte // first host_name of server_name, raw bytes
	ALPNClient    [][]byte
	// ClientSupportedVersions, Ciphers, Extensions, Groups, PointFormats
	// and SigAlgs are the ClientHello lists in wire order, GREASE
	// included (JA3/JA4 drop it); bounded by the 64 KiB handshake limit.
	ClientSupportedVersions []uint16
	Ciphers                 []uint16
	Extensions              []uint16
	Groups                  []uint16
	PointFormats            []uint8
	SigAlgs                 []uint16
	SSLv2Hello              bool   // the ClientHello was in SSLv2-compatible format (no JA3/JA4)
	JA3String               []byte // Salesforce JA3 text (GREASE removed)
	JA3Hash                 [16]byte
	JA4                     []byte // FoxIO JA4 fingerprint, e.g. t13d1516h2_8daaf6152771_02713d6af862
	HasClientHello          bool

	// ServerHello.
	Version          uint16 // negotiated version (supported_versions extension wins)
	ServerVersion    uint16 // legacy_version in the ServerHello (what JA3S uses)
	Cipher           uint16 // the cipher suite the server chose
	ServerExtensions []uint16
	ALPNServer       []byte
	JA3SString       []byte
	JA3SHash         [16]byte
	HasServerHello   bool

	// First certificate of the server chain (TLS ≤ 1.2 only).
	Subject []byte // RFC 4514-like text as Suricata prints it: "C=US, O=..., CN=..."
	Issuer  []byte
	// SANs are its subjectAltName entries as Suricata logs them: DNS
	// names as written, IP addresses as text; other name types are left
	// out. At most MaxSANs; each slice aliases sanBuf.
	SANs         [][]byte
	sanBuf       []byte
	Serial       []byte // "0A:1B:..." upper-case colon-separated hex
	Fingerprint  []byte // SHA-1 of the DER, "aa:bb:..." lower-case colon-separated hex
	NotBefore    time.Time
	NotAfter     time.Time
	CertChainLen int
	CertDER      [][]byte // raw certificates for tls.store / rules; bounded

	SessionResumed bool
	Encrypted      bool // both sides changed cipher spec / handshake finished
	// AppData is set by the first application_data record (not 0-RTT
	// early data before the ServerHello): where Suricata's
	// encryption-handling stops inspection or bypasses the flow.
	AppData bool
}
