package bus

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// Security says how to reach brokers that require TLS and/or SASL, as
// managed Kafka services and hardened clusters do. The zero value is a
// plaintext, unauthenticated connection (the embedded broker, a test
// broker on loopback).
type Security struct {
	TLS  TLSOptions
	SASL SASLOptions
}

// TLSOptions configures TLS to the brokers.
type TLSOptions struct {
	// Enabled turns TLS on. It is implied by any of the fields below.
	Enabled bool
	// CAFile is a PEM bundle of the CAs that signed the brokers'
	// certificates. Empty uses the system roots.
	CAFile string
	// CertFile and KeyFile are the client's PEM certificate and key, for
	// brokers that authenticate clients by certificate (mTLS). Both or
	// neither.
	CertFile, KeyFile string
	// ServerName overrides the name checked in the broker's certificate
	// (default: the host of the address dialled).
	ServerName string
	// InsecureSkipVerify disables certificate verification. Off by
	// default, and logged loudly when on: it makes TLS useless against an
	// active attacker and exists only for throwaway test clusters.
	InsecureSkipVerify bool
}

// SASL mechanisms Vigie supports (the names Kafka uses).
const (
	SASLPlain       = "PLAIN"
	SASLScramSHA256 = "SCRAM-SHA-256"
	SASLScramSHA512 = "SCRAM-SHA-512"
)

// SASLOptions configures SASL authentication.
type SASLOptions struct {
	// Mechanism is "", PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (case
	// insensitive). Empty disables SASL.
	Mechanism string
	Username  string
	// Password is the secret itself. Prefer PasswordFile, which keeps it
	// out of configuration files and the process environment.
	Password Secret
	// PasswordFile is read at start; one trailing newline is dropped, as
	// files written by editors and secret mounts end with one.
	PasswordFile string
}

// Secret is a string that never shows itself in logs, errors, %v output,
// JSON or YAML: only whether it is set.
type Secret string

const redacted = "[redacted]"

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString hides the value from %#v.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// LogValue hides the value from log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText hides the value from encoding/json and YAML printers.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Reveal returns the secret itself, for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

// tlsOn reports whether any TLS setting asks for TLS.
func (o TLSOptions) tlsOn() bool {
	return o.Enabled || o.CAFile != "" || o.CertFile != "" || o.KeyFile != "" || o.ServerName != "" || o.InsecureSkipVerify
}

// Build turns the options into what kafka-go dials with: a TLS config (nil
// for plaintext) and a SASL mechanism (nil for none). Files are read here,
// once, so a missing or unreadable file fails the start with its path
// rather than every later connection.
func (s Security) Build() (*tls.Config, sasl.Mechanism, error) {
	tc, err := s.TLS.build()
	if err != nil {
		return nil, nil, err
	}
	m, err := s.SASL.build()
	if err != nil {
		return nil, nil, err
	}
	return tc, m, nil
}

func (o TLSOptions) build() (*tls.Config, error) {
	if !o.tlsOn() {
		return nil, nil
	}
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         o.ServerName,
		InsecureSkipVerify: o.InsecureSkipVerify, //nolint:gosec // opt-in, documented, warned about
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("bus: tls ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("bus: tls ca_file %s: no PEM certificate found", o.CAFile)
		}
		tc.RootCAs = pool
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, errors.New("bus: tls cert_file and key_file go together: set both or neither")
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			// The error names the files, never their content.
			return nil, fmt.Errorf("bus: tls client certificate %s / key %s: %w", o.CertFile, o.KeyFile, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

func (o SASLOptions) build() (sasl.Mechanism, error) {
	mech := strings.ToUpper(strings.TrimSpace(o.Mechanism))
	if mech == "" {
		if o.Username != "" || o.Password != "" || o.PasswordFile != "" {
			return nil, errors.New("bus: sasl username or password set without sasl mechanism (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)")
		}
		return nil, nil
	}
	if o.Username == "" {
		return nil, fmt.Errorf("bus: sasl %s needs a username", mech)
	}
	pass := o.Password.Reveal()
	if o.PasswordFile != "" {
		if pass != "" {
			return nil, errors.New("bus: sasl password and password_file are both set: keep one")
		}
		b, err := os.ReadFile(o.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("bus: sasl password_file: %w", err)
		}
		pass = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	}
	if pass == "" {
		return nil, fmt.Errorf("bus: sasl %s needs a password (password or password_file)", mech)
	}
	switch mech {
	case SASLPlain:
		return plain.Mechanism{Username: o.Username, Password: pass}, nil
	case SASLScramSHA256, SASLScramSHA512:
		algo := scram.SHA256
		if mech == SASLScramSHA512 {
			algo = scram.SHA512
		}
		m, err := scram.Mechanism(algo, o.Username, pass)
		if err != nil {
			return nil, fmt.Errorf("bus: sasl %s: %w", mech, err)
		}
		return m, nil
	default:
		return nil, fmt.Errorf("bus: sasl mechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", o.Mechanism)
	}
}
