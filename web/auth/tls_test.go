package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteCertAndServe(t *testing.T) {
	dir := t.TempDir()
	fp, err := WriteCert(dir, CertOptions{Hosts: []string{"polder.test", "127.0.0.1", "::1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(fp) != 32*3-1 {
		t.Errorf("fingerprint %q", fp)
	}
	for p, want := range map[string]os.FileMode{KeyFile: 0o600, CertFile: 0o644, "certs": 0o700} {
		fi, err := os.Stat(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %#o, want %#o", p, fi.Mode().Perm(), want)
		}
	}
	if _, err := WriteCert(dir, CertOptions{}); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second WriteCert: %v, want ErrExist", err)
	}
	cert, err := LoadCert(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	leaf := cert.Leaf
	if pk, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || pk.Curve != elliptic.P256() {
		t.Errorf("key is %T, want ECDSA P-256", leaf.PublicKey)
	}
	if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != "polder.test" || len(leaf.IPAddresses) != 2 {
		t.Errorf("SANs: %v %v", leaf.DNSNames, leaf.IPAddresses)
	}
	if Fingerprint(cert.Certificate[0]) != fp {
		t.Error("fingerprint differs")
	}

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") }))
	srv.TLS = TLSConfig(cert)
	srv.StartTLS()
	defer srv.Close()
	pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	pool.AddCert(leaf)
	for _, tc := range []struct {
		name string
		max  uint16
		ok   bool
	}{{"TLS 1.3", tls.VersionTLS13, true}, {"TLS 1.2", tls.VersionTLS12, true}, {"TLS 1.1", tls.VersionTLS11, false}} {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: pool, MaxVersion: tc.max, MinVersion: tls.VersionTLS10, ServerName: "127.0.0.1"}}}
		res, err := c.Get(srv.URL)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v", tc.name, err)
		}
		if err == nil {
			res.Body.Close()
		}
	}
}

func TestLoadCertErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := LoadCert(filepath.Join(dir, "missing.crt"), filepath.Join(dir, "missing.key"), time.Now())
	if err == nil || !strings.Contains(err.Error(), "missing.crt") {
		t.Errorf("missing files: %v", err)
	}
	old := time.Now().Add(-1000 * 24 * time.Hour)
	if _, err := WriteCert(dir, CertOptions{Now: old, ValidFor: 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	_, err = LoadCert(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile), time.Now())
	if err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired certificate: %v", err)
	}
	// A key that does not match the certificate.
	other := t.TempDir()
	WriteCert(other, CertOptions{})
	_, err = LoadCert(filepath.Join(dir, CertFile), filepath.Join(other, KeyFile), time.Now())
	if err == nil || !strings.Contains(err.Error(), other) {
		t.Errorf("mismatched key: %v", err)
	}
}
