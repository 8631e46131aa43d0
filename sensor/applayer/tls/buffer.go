package tls

// Buffer returns the named sticky buffer a rule inspects, using Suricata's
// keyword names, or nil when the session has no such value yet:
//
//	tls.sni               SNI host name, raw bytes
//	tls.cert_subject      first server certificate's subject ("C=US, ..., CN=...")
//	tls.cert_issuer       its issuer
//	tls.cert_serial       its serial, "0A:1B:..."
//	tls.cert_fingerprint  SHA-1 of its DER, "aa:bb:..."
//	tls.alpn              first ALPN protocol the client offered (Suricata 8)
//	ja3.hash              JA3 MD5 as 32 lower-case hex characters
//	ja3.string            JA3 text
//	ja3s.hash, ja3s.string  the same for JA3S
//	ja4.hash              JA4 text (Suricata's name for the full fingerprint)
//
// Legacy underscore spellings (tls_sni, ja3_hash, ...) are accepted too.
// ja3.hash and ja3s.hash are rendered on each call (32 bytes); every other
// slice is owned by the Session and must not be modified.
func (s *Session) Buffer(name string) []byte {
	switch name {
	case "tls.sni", "tls_sni":
		if len(s.SNI) > 0 {
			return s.SNI
		}
	case "tls.cert_subject", "tls_cert_subject":
		if len(s.Subject) > 0 {
			return s.Subject
		}
	case "tls.cert_issuer", "tls_cert_issuer":
		if len(s.Issuer) > 0 {
			return s.Issuer
		}
	case "tls.cert_serial", "tls_cert_serial":
		if len(s.Serial) > 0 {
			return s.Serial
		}
	case "tls.cert_fingerprint", "tls_cert_fingerprint":
		if len(s.Fingerprint) > 0 {
			return s.Fingerprint
		}
	case "tls.alpn":
		if len(s.ALPNClient) > 0 {
			return s.ALPNClient[0]
		}
	case "ja3.hash", "ja3_hash":
		if s.HasClientHello && len(s.JA3String) > 0 {
			return appendHex(make([]byte, 0, 32), s.JA3Hash[:])
		}
	case "ja3.string", "ja3_string":
		if len(s.JA3String) > 0 {
			return s.JA3String
		}
	case "ja3s.hash", "ja3s_hash":
		if s.HasServerHello && len(s.JA3SString) > 0 {
			return appendHex(make([]byte, 0, 32), s.JA3SHash[:])
		}
	case "ja3s.string", "ja3s_string":
		if len(s.JA3SString) > 0 {
			return s.JA3SString
		}
	case "ja4.hash":
		if len(s.JA4) > 0 {
			return s.JA4
		}
	}
	return nil
}

// JA3HashHex returns the JA3 MD5 as 32 lower-case hex characters, or ""
// without a ClientHello.
func (s *Session) JA3HashHex() string {
	if !s.HasClientHello || len(s.JA3String) == 0 {
		return ""
	}
	return string(appendHex(make([]byte, 0, 32), s.JA3Hash[:]))
}

// JA3SHashHex returns the JA3S MD5 as hex, or "" without a ServerHello.
func (s *Session) JA3SHashHex() string {
	if !s.HasServerHello || len(s.JA3SString) == 0 {
		return ""
	}
	return string(appendHex(make([]byte, 0, 32), s.JA3SHash[:]))
}
