package bus_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/vigie-osint/vigie/bus"
	"github.com/vigie-osint/vigie/bus/bustest"
)

// testPKI is a throwaway CA with a server certificate for 127.0.0.1 and a
// client certificate, written as PEM files.
type testPKI struct {
	caFile, certFile, keyFile string // client side
	otherCAFile               string // a CA that signed nothing here
	serverCert                tls.Certificate
	caPool                    *x509.CertPool
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	p := &testPKI{}
	caKey, caCert, caDER := selfSigned(t, "vigie test CA")
	p.caPool = x509.NewCertPool()
	p.caPool.AddCert(caCert)
	p.caFile = writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER)
	_, _, otherDER := selfSigned(t, "unrelated CA")
	p.otherCAFile = writePEM(t, dir, "other-ca.pem", "CERTIFICATE", otherDER)

	serverKey, serverDER := leaf(t, caKey, caCert, "127.0.0.1", x509.ExtKeyUsageServerAuth)
	p.serverCert = tls.Certificate{Certificate: [][]byte{serverDER}, PrivateKey: serverKey}

	clientKey, clientDER := leaf(t, caKey, caCert, "vigie-client", x509.ExtKeyUsageClientAuth)
	p.certFile = writePEM(t, dir, "client.pem", "CERTIFICATE", clientDER)
	kb, err := x509.MarshalECPrivateKey(clientKey)
	if err != nil {
		t.Fatal(err)
	}
	p.keyFile = writePEM(t, dir, "client-key.pem", "EC PRIVATE KEY", kb)
	return p
}

var serial int64

func selfSigned(t *testing.T, cn string) (*ecdsa.PrivateKey, *x509.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert, der
}

func leaf(t *testing.T, caKey *ecdsa.PrivateKey, ca *x509.Certificate, name string, usage x509.ExtKeyUsage) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	if ip := net.ParseIP(name); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{name}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return key, der
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSecurityBuild maps configuration onto the TLS config and SASL
// mechanism kafka-go dials with, and rejects incomplete settings by name.
func TestSecurityBuild(t *testing.T) {
	pki := newTestPKI(t)
	passFile := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(passFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		sec      bus.Security
		wantTLS  bool
		wantCA   bool
		wantCert bool
		wantSkip bool
		wantMech string
		wantErr  string
	}{
		{name: "plaintext", sec: bus.Security{}},
		{name: "tls system roots", sec: bus.Security{TLS: bus.TLSOptions{Enabled: true}}, wantTLS: true},
		{name: "tls implied by ca", sec: bus.Security{TLS: bus.TLSOptions{CAFile: pki.caFile}}, wantTLS: true, wantCA: true},
		{name: "mtls", sec: bus.Security{TLS: bus.TLSOptions{CAFile: pki.caFile, CertFile: pki.certFile, KeyFile: pki.keyFile}}, wantTLS: true, wantCA: true, wantCert: true},
		{name: "insecure skip is explicit", sec: bus.Security{TLS: bus.TLSOptions{InsecureSkipVerify: true}}, wantTLS: true, wantSkip: true},
		{name: "cert without key", sec: bus.Security{TLS: bus.TLSOptions{CertFile: pki.certFile}}, wantErr: "cert_file and key_file go together"},
		{name: "missing ca", sec: bus.Security{TLS: bus.TLSOptions{CAFile: "/nonexistent/ca.pem"}}, wantErr: "ca_file"},
		{name: "ca not pem", sec: bus.Security{TLS: bus.TLSOptions{CAFile: passFile}}, wantErr: "no PEM certificate"},
		{name: "plain", sec: bus.Security{SASL: bus.SASLOptions{Mechanism: "plain", Username: "u", Password: "p"}}, wantMech: "PLAIN"},
		{name: "scram-256 from file", sec: bus.Security{SASL: bus.SASLOptions{Mechanism: "SCRAM-SHA-256", Username: "u", PasswordFile: passFile}}, wantMech: "SCRAM-SHA-256"},
		{name: "scram-512", sec: bus.Security{SASL: bus.SASLOptions{Mechanism: "SCRAM-SHA-512", Username: "u", Password: "p"}}, wantMech: "SCRAM-SHA-512"},
		{name: "unknown mechanism", sec: bus.Security{SASL: bus.SASLOptions{Mechanism: "GSSAPI", Username: "u", Password: "p"}}, wantErr: "GSSAPI"},
		{name: "no username", sec: bus.Security{SASL: bus.SASLOptions{Mechanism: "PLAIN", Password: "p"}}, wantErr: "username"},
		{name: "no password", sec: bus.Security{SASL: bus.SASLOptions{Mechanism: "PLAIN", Username: "u"}}, wantErr: "password"},
		{name: "both password and file", sec: bus.Security{SASL: bus.SASLOptions{Mechanism: "PLAIN", Username: "u", Password: "p", PasswordFile: passFile}}, wantErr: "both set"},
		{name: "missing password file", sec: bus.Security{SASL: bus.SASLOptions{Mechanism: "PLAIN", Username: "u", PasswordFile: "/nonexistent/pass"}}, wantErr: "password_file"},
		{name: "credentials without mechanism", sec: bus.Security{SASL: bus.SASLOptions{Username: "u", Password: "p"}}, wantErr: "without sasl mechanism"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tlsCfg, mech, err := tc.sec.Build()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), `"p"`) {
					t.Errorf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (tlsCfg != nil) != tc.wantTLS {
				t.Fatalf("tls config %v, want TLS %v", tlsCfg, tc.wantTLS)
			}
			if tlsCfg != nil {
				if (tlsCfg.RootCAs != nil) != tc.wantCA {
					t.Errorf("RootCAs set %v, want %v", tlsCfg.RootCAs != nil, tc.wantCA)
				}
				if (len(tlsCfg.Certificates) == 1) != tc.wantCert {
					t.Errorf("client certificates %d, want cert %v", len(tlsCfg.Certificates), tc.wantCert)
				}
				if tlsCfg.InsecureSkipVerify != tc.wantSkip {
					t.Errorf("InsecureSkipVerify %v, want %v", tlsCfg.InsecureSkipVerify, tc.wantSkip)
				}
				if tlsCfg.MinVersion < tls.VersionTLS12 {
					t.Errorf("MinVersion %x below TLS 1.2", tlsCfg.MinVersion)
				}
			}
			got := ""
			if mech != nil {
				got = mech.Name()
			}
			if got != tc.wantMech {
				t.Errorf("mechanism %q, want %q", got, tc.wantMech)
			}
			if pm, ok := mech.(plain.Mechanism); ok && pm.Password != "p" {
				t.Errorf("PLAIN password not passed through")
			}
		})
	}
}

// TestSecretRedacted checks that a password never shows in fmt, slog or
// JSON output.
func TestSecretRedacted(t *testing.T) {
	opts := bus.SASLOptions{Mechanism: "PLAIN", Username: "u", Password: "hunter2"}
	var sb strings.Builder
	slog.New(slog.NewTextHandler(&sb, nil)).Info("x", "sasl", opts.Password, "opts", opts)
	j, _ := json.Marshal(opts)
	for _, s := range []string{fmt.Sprint(opts), fmt.Sprintf("%+v", opts), fmt.Sprintf("%#v", opts), sb.String(), string(j)} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("password leaked in %q", s)
		}
	}
	if opts.Password.Reveal() != "hunter2" {
		t.Error("Reveal lost the secret")
	}
	if bus.Secret("").String() != "" {
		t.Error("an empty secret should print empty, so that 'not set' is visible")
	}
}

// TestSecureConformance runs the conformance suite over TLS with client
// certificates and each SASL mechanism, on a Kafka-protocol broker that
// requires them (the embedded kfake broker with TLS and SASL on), and
// checks that wrong credentials, an unknown CA and plaintext are refused.
func TestSecureConformance(t *testing.T) {
	pki := newTestPKI(t)
	for _, mech := range []string{bus.SASLPlain, bus.SASLScramSHA256, bus.SASLScramSHA512} {
		t.Run(mech, func(t *testing.T) {
			c, err := kfake.NewCluster(
				kfake.NumBrokers(1),
				kfake.AllowAutoTopicCreation(),
				kfake.EnableSASL(),
				kfake.Superuser(mech, "vigie", "right-password"),
				kfake.TLS(&tls.Config{
					Certificates: []tls.Certificate{pki.serverCert},
					ClientAuth:   tls.RequireAndVerifyClientCert,
					ClientCAs:    pki.caPool,
					MinVersion:   tls.VersionTLS12,
				}),
			)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			addr := c.ListenAddrs()[0]
			build := func(sec bus.Security) bus.Config {
				t.Helper()
				tc, m, err := sec.Build()
				if err != nil {
					t.Fatal(err)
				}
				return bus.Config{Brokers: []string{addr}, TLS: tc, SASL: m}
			}
			good := bus.Security{
				TLS:  bus.TLSOptions{CAFile: pki.caFile, CertFile: pki.certFile, KeyFile: pki.keyFile},
				SASL: bus.SASLOptions{Mechanism: mech, Username: "vigie", Password: "right-password"},
			}
			bustest.RunConfig(t, build(good), "sec.")

			refused := func(name string, sec bus.Security) {
				t.Run("refused/"+name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
					defer cancel()
					if _, err := bus.Lag(ctx, build(sec), "g", "sec.topic"); err == nil {
						t.Errorf("%s: the broker answered; want a refusal", name)
					}
				})
			}
			bad := good
			bad.SASL.Password = "wrong-password"
			refused("wrong password", bad)
			bad = good
			bad.TLS.CAFile = pki.otherCAFile
			refused("unknown CA", bad)
			bad = good
			bad.TLS = bus.TLSOptions{}
			refused("plaintext", bad)
			bad = good
			bad.TLS.CertFile, bad.TLS.KeyFile = "", ""
			refused("no client certificate", bad)
		})
	}
}
