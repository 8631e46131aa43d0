package tls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testCert returns a DER certificate with the given subjectAltName
// entries (none: no extension).
func testCert(t testing.TB, dns []string, ips []net.IP, emails []string, uris []string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42),
		Subject:      pkix.Name{CommonName: "example.com", Organization: []string{"Polder"}},
		NotBefore:    time.Unix(1700000000, 0), NotAfter: time.Unix(1800000000, 0),
		DNSNames: dns, IPAddresses: ips, EmailAddresses: emails,
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	for _, u := range uris {
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, pu)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func sanStrings(s *Session) []string {
	var out []string
	for _, n := range s.SANs {
		out = append(out, string(n))
	}
	return out
}

func TestSubjectAltNames(t *testing.T) {
	for _, tc := range []struct {
		name   string
		dns    []string
		ips    []net.IP
		emails []string
		uris   []string
		want   []string
	}{
		{"none", nil, nil, nil, nil, nil},
		{"dns", []string{"p142-contacts.icloud.com", "*.icloud.com"}, nil, nil, nil,
			[]string{"p142-contacts.icloud.com", "*.icloud.com"}},
		// crypto/x509 writes DNS names, then e-mail, IP and URI entries.
		{"mixed", []string{"a.example"}, []net.IP{net.ParseIP("192.0.2.7"), net.ParseIP("2001:db8::1")},
			[]string{"ops@example.com"}, []string{"https://example.com/x"},
			[]string{"a.example", "192.0.2.7", "2001:db8::1"}},
		{"hostile text kept as bytes", []string{"x\"y\\z.example"}, nil, nil, nil, []string{"x\"y\\z.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s Session
			if !certFields(&s, testCert(t, tc.dns, tc.ips, tc.emails, tc.uris)) {
				t.Fatal("certFields failed")
			}
			if d := cmp.Diff(tc.want, sanStrings(&s)); d != "" {
				t.Errorf("SANs (-want +got):\n%s", d)
			}
			if !strings.Contains(string(s.Subject), "CN=example.com") {
				t.Errorf("subject %q", s.Subject)
			}
		})
	}
}

// TestSubjectAltNamesBounded: at most MaxSANs are kept.
func TestSubjectAltNamesBounded(t *testing.T) {
	var dns []string
	for i := 0; i < MaxSANs+10; i++ {
		dns = append(dns, strings.Repeat("a", i%7+1)+".example")
	}
	var s Session
	certFields(&s, testCert(t, dns, nil, nil, nil))
	if len(s.SANs) != MaxSANs {
		t.Fatalf("kept %d SANs, want %d", len(s.SANs), MaxSANs)
	}
	if d := cmp.Diff(dns[:MaxSANs], sanStrings(&s)); d != "" {
		t.Errorf("SANs (-want +got):\n%s", d)
	}
}

// TestSubjectAltNamesCut: a certificate cut at any offset, or with any
// byte flipped, never panics, and the prefix walk used for oversized
// certificates keeps what it can read.
func TestSubjectAltNamesCut(t *testing.T) {
	der := testCert(t, []string{"one.example", "two.example"}, []net.IP{net.ParseIP("10.0.0.1")}, nil, nil)
	for i := 0; i <= len(der); i++ {
		var s Session
		certFields(&s, der[:i])
		certPrefixFields(&s, der[:i])
		for _, n := range s.SANs {
			if len(n) == 0 {
				t.Fatalf("cut at %d: empty SAN", i)
			}
		}
	}
	for i := range der {
		b := append([]byte(nil), der...)
		b[i] ^= 0xff
		var s Session
		certFields(&s, b)
	}
	var s Session
	certPrefixFields(&s, der)
	if d := cmp.Diff([]string{"one.example", "two.example", "10.0.0.1"}, sanStrings(&s)); d != "" {
		t.Errorf("prefix walk SANs (-want +got):\n%s", d)
	}
}

// TestSubjectAltNamesReuse: parsing a second certificate replaces the
// first one's names without allocating once the buffers have grown.
func TestSubjectAltNamesReuse(t *testing.T) {
	a := testCert(t, []string{"first.example", "second.example"}, nil, nil, nil)
	b := testCert(t, []string{"third.example"}, nil, nil, nil)
	var s Session
	certFields(&s, a)
	certFields(&s, b)
	if d := cmp.Diff([]string{"third.example"}, sanStrings(&s)); d != "" {
		t.Errorf("SANs (-want +got):\n%s", d)
	}
	allocs := testing.AllocsPerRun(100, func() {
		sanFieldsOf(&s, a)
	})
	if allocs != 0 {
		t.Errorf("SAN parse allocates %.0f times in steady state", allocs)
	}
}

// sanFieldsOf runs the walk tbsFields does after the subject.
func sanFieldsOf(s *Session, der []byte) {
	s.SANs = s.SANs[:0]
	cert, _, _ := derNext(der, 0x30)
	tbs, _, _ := derNext(cert, 0x30)
	_, tbs, _ = derNext(tbs, 0xa0)
	for _, tag := range []byte{0x02, 0x30, 0x30, 0x30, 0x30} { // serial, sig alg, issuer, validity, subject
		_, tbs, _ = derNext(tbs, tag)
	}
	sanFields(s, tbs)
}
