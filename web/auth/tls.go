package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Where setup writes the generated certificate and key, relative to the
// instance directory.
const (
	CertFile = "certs/web.crt"
	KeyFile  = "certs/web.key"
)

// CertOptions describe a self-signed certificate.
type CertOptions struct {
	// Hosts are the DNS names and IP addresses the certificate is valid
	// for (subject alternative names). Empty means "localhost", 127.0.0.1
	// and ::1.
	Hosts []string
	// ValidFor is the validity period. Zero means 825 days (the longest
	// that Apple's platforms accept for a TLS server certificate).
	ValidFor time.Duration
	// Now is the start of validity (backdated one hour for clock skew);
	// zero means time.Now().
	Now time.Time
}

// GenerateCert returns a new self-signed ECDSA P-256 server certificate
// and its PKCS#8 private key, both PEM-encoded.
func GenerateCert(o CertOptions) (certPEM, keyPEM []byte, err error) {
	if len(o.Hosts) == 0 {
		o.Hosts = []string{"localhost", "127.0.0.1", "::1"}
	}
	if o.ValidFor == 0 {
		o.ValidFor = 825 * 24 * time.Hour
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate certificate: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("generate certificate: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: o.Hosts[0], Organization: []string{"polder self-signed"}},
		NotBefore:             o.Now.Add(-time.Hour),
		NotAfter:              o.Now.Add(o.ValidFor),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range o.Hosts {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if a, err := netip.ParseAddr(h); err == nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, a.AsSlice())
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("generate certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("generate certificate: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), nil
}

// WriteCert generates a self-signed certificate into the instance
// directory dir (CertFile 0644, KeyFile 0600, certs/ 0700) and returns
// the certificate's SHA-256 fingerprint for setup to print. It refuses to
// overwrite an existing key or certificate.
func WriteCert(dir string, o CertOptions) (fingerprint string, err error) {
	certPath, keyPath := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	for _, p := range []string{certPath, keyPath} {
		if _, err := os.Stat(p); err == nil {
			return "", fmt.Errorf("write certificate %s: %w (remove it to generate a new one)", p, fs.ErrExist)
		}
	}
	certPEM, keyPEM, err := GenerateCert(o)
	if err != nil {
		return "", err
	}
	if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return "", fmt.Errorf("write key %s: %w", keyPath, err)
	}
	if err := writeFileAtomic(certPath, certPEM, 0o644); err != nil {
		return "", fmt.Errorf("write certificate %s: %w", certPath, err)
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return "", fmt.Errorf("write certificate %s: %w", certPath, err)
	}
	return Fingerprint(c.Certificate[0]), nil
}

// Fingerprint returns the SHA-256 fingerprint of a DER certificate as
// colon-separated upper-case hex, as browsers show it.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// LoadCert loads a certificate chain and key (the generated pair, or one
// the user supplies), checking that they match and that the leaf is
// currently valid. Errors name the files.
func LoadCert(certPath, keyPath string, now time.Time) (tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return c, fmt.Errorf("load certificate %s with key %s: %w", certPath, keyPath, err)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		return c, fmt.Errorf("load certificate %s: %w", certPath, err)
	}
	if now.After(leaf.NotAfter) {
		return c, fmt.Errorf("load certificate %s: expired on %s (replace it, or remove it and key %s and run setup to generate one)",
			certPath, leaf.NotAfter.Format(time.DateOnly), keyPath)
	}
	if now.Before(leaf.NotBefore) {
		return c, fmt.Errorf("load certificate %s: %w before %s (is the clock right?)", certPath, errNotYetValid, leaf.NotBefore.Format(time.RFC3339))
	}
	c.Leaf = leaf
	return c, nil
}

var errNotYetValid = errors.New("not valid")

// TLSConfig returns the server configuration: TLS 1.2 and 1.3 only, TLS
// 1.2 limited to ECDHE key exchange with AEAD ciphers (forward secrecy, no
// CBC), X25519 and P-256 curves, HTTP/2 and HTTP/1.1 by ALPN.
func TLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
		CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256},
		NextProtos:       []string{"h2", "http/1.1"},
	}
}
