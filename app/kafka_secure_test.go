package app

// Integration test of TLS and SASL against a real Apache Kafka broker that
// requires them: `make test-kafka-secure` starts a private one with
// `VIGIE_KAFKA_SECURE=1 scripts/kafka.sh start` (a SASL_SSL listener with a
// throwaway CA, a SASL_PLAINTEXT one and an SSL one that requires client
// certificates; users made for PLAIN,
// SCRAM-SHA-256 and SCRAM-SHA-512) and exports what it prints. The embedded
// kfake broker already runs the same options in bus/security_test.go; this
// proves that what Vigie sends is what the Java broker accepts, going
// through the real configuration path: YAML keys → config.Parse →
// secureBus (Security.Build) → bus.Producer and bus.Consumer.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/bus"
	"github.com/vigie-osint/vigie/config"
)

// secureKafka is what scripts/kafka.sh prints for a VIGIE_KAFKA_SECURE=1
// broker.
type secureKafka struct {
	addr      string // SASL_SSL listener
	plainAddr string // SASL_PLAINTEXT listener, optional
	caFile    string
	user      string
	passFile  string
	password  string
	// SSL listener that requires a client certificate (no SASL), optional.
	mtlsAddr, certFile, keyFile string
}

// secureKafkaEnv returns the secure broker's settings, or skips (fails in
// CI).
func secureKafkaEnv(t *testing.T) secureKafka {
	t.Helper()
	if raceDetector {
		// `make test` runs every package with -race and no secure broker;
		// the kfake tests in bus/ cover the same code with -race.
		t.Skip("the secure real-Kafka test runs without -race: make test-kafka-secure")
	}
	s := secureKafka{
		addr:      os.Getenv("VIGIE_TEST_KAFKA_SECURE"),
		plainAddr: os.Getenv("VIGIE_TEST_KAFKA_SASL_PLAINTEXT"),
		caFile:    os.Getenv("VIGIE_TEST_KAFKA_SECURE_CA"),
		user:      os.Getenv("VIGIE_TEST_KAFKA_SECURE_USER"),
		passFile:  os.Getenv("VIGIE_TEST_KAFKA_SECURE_PASSWORD_FILE"),
		mtlsAddr:  os.Getenv("VIGIE_TEST_KAFKA_MTLS"),
		certFile:  os.Getenv("VIGIE_TEST_KAFKA_MTLS_CERT"),
		keyFile:   os.Getenv("VIGIE_TEST_KAFKA_MTLS_KEY"),
	}
	if s.addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but VIGIE_TEST_KAFKA_SECURE is not set: the TLS/SASL tests on a real broker must run in CI (make test-kafka-secure)")
		}
		t.Skip("VIGIE_TEST_KAFKA_SECURE not set: no secure Kafka broker (run make test-kafka-secure)")
	}
	if s.caFile == "" || s.user == "" || s.passFile == "" {
		t.Fatal("VIGIE_TEST_KAFKA_SECURE is set but VIGIE_TEST_KAFKA_SECURE_CA, _USER or _PASSWORD_FILE is not: use the lines scripts/kafka.sh start prints")
	}
	b, err := os.ReadFile(s.passFile)
	if err != nil {
		t.Fatal(err)
	}
	s.password = strings.TrimSpace(string(b))
	if len(s.password) < 8 {
		t.Fatalf("password in %s is too short to search logs for", s.passFile)
	}
	return s
}

// syncBuffer collects log output written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// secureCase is one way of reaching the secure broker.
type secureCase struct {
	name      string
	addr      string
	mechanism string // "": no SASL
	tls       bool
	mtls      bool   // send the client certificate
	caFile    string // with tls; default the broker's CA
	passFile  string // default the right password
	// wantErr, when set, says the connection must be refused with an
	// error containing it.
	wantErr string
	// retried: the refusal is not prompt and is checked with bus.Lag,
	// which does not retry. No case needs it since bus.Transient counts
	// TLS alerts ("remote error: tls: bad certificate") as permanent.
	retried bool
	// wantLog is a line the start must log (a warning).
	wantLog string
}

// TestKafkaSecure produces and consumes through a broker that requires
// SASL over TLS (and SASL without TLS), with every mechanism Vigie
// supports, and client certificates (mTLS); it checks that a wrong
// password, an unknown CA and a missing client certificate are refused
// with an error that says so, and that no password ever reaches the logs.
func TestKafkaSecure(t *testing.T) {
	s := secureKafkaEnv(t)
	dir := t.TempDir()
	wrongPass := filepath.Join(dir, "wrong.password")
	const wrongSecret = "not-the-password-7f3e9a"
	if err := os.WriteFile(wrongPass, []byte(wrongSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	otherCA := writeOtherCA(t, dir)

	cases := []secureCase{
		{name: "SASL_SSL/PLAIN", addr: s.addr, mechanism: bus.SASLPlain, tls: true},
		{name: "SASL_SSL/SCRAM-SHA-256", addr: s.addr, mechanism: bus.SASLScramSHA256, tls: true},
		{name: "SASL_SSL/SCRAM-SHA-512", addr: s.addr, mechanism: bus.SASLScramSHA512, tls: true},
		{name: "SASL_SSL/PLAIN wrong password", addr: s.addr, mechanism: bus.SASLPlain, tls: true, passFile: wrongPass, wantErr: "Authentication failed"},
		{name: "SASL_SSL/SCRAM-SHA-256 wrong password", addr: s.addr, mechanism: bus.SASLScramSHA256, tls: true, passFile: wrongPass, wantErr: "Authentication failed"},
		{name: "SASL_SSL/SCRAM-SHA-512 wrong password", addr: s.addr, mechanism: bus.SASLScramSHA512, tls: true, passFile: wrongPass, wantErr: "Authentication failed"},
		{name: "SASL_SSL/SCRAM-SHA-512 unknown CA", addr: s.addr, mechanism: bus.SASLScramSHA512, tls: true, caFile: otherCA, wantErr: "certificate signed by unknown authority"},
	}
	if s.plainAddr != "" {
		cases = append(cases,
			secureCase{name: "SASL_PLAINTEXT/SCRAM-SHA-256", addr: s.plainAddr, mechanism: bus.SASLScramSHA256},
			secureCase{name: "SASL_PLAINTEXT/PLAIN", addr: s.plainAddr, mechanism: bus.SASLPlain, wantLog: "sends the password in clear text"},
		)
	} else {
		t.Log("VIGIE_TEST_KAFKA_SASL_PLAINTEXT not set: SASL without TLS not tested")
	}
	if s.mtlsAddr != "" {
		cases = append(cases,
			secureCase{name: "SSL/client certificate", addr: s.mtlsAddr, tls: true, mtls: true},
			secureCase{name: "SSL/no client certificate", addr: s.mtlsAddr, tls: true, wantErr: "bad certificate"},
		)
	} else {
		t.Log("VIGIE_TEST_KAFKA_MTLS not set: client certificates (mTLS) not tested on the real broker")
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncBuffer
			log := slog.New(slog.NewTextHandler(io.MultiWriter(&logs, testWriter{t}), &slog.HandlerOptions{Level: slog.LevelDebug}))
			err := secureRoundTrip(t, s, tc, log)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("the broker accepted the connection; want a refusal containing %q", tc.wantErr)
				}
				if errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v; want a prompt refusal containing %q", err, tc.wantErr)
				}
				t.Logf("refused as expected: %v", err)
				for _, secret := range []string{s.password, wrongSecret} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("the error shows a password: %v", err)
					}
				}
			} else if err != nil {
				t.Fatal(err)
			}
			out := logs.String()
			// The capture must have seen the connection line, or the leak
			// check below would pass on an empty log.
			if !strings.Contains(out, "connecting to Kafka") || (tc.mechanism != "" && !strings.Contains(out, "user="+s.user)) {
				t.Errorf("log lacks the connection line with the user; got:\n%s", out)
			}
			if tc.wantLog != "" && !strings.Contains(out, tc.wantLog) {
				t.Errorf("log lacks %q; got:\n%s", tc.wantLog, out)
			}
			for _, secret := range []string{s.password, wrongSecret} {
				if strings.Contains(out, secret) {
					t.Errorf("a password appears in the logs")
				}
			}
		})
	}
}

// secureRoundTrip builds the bus client from YAML configuration as `vigie`
// does, then creates a topic, produces records and reads them back in a
// consumer group, committing them. It returns the first error.
func secureRoundTrip(t *testing.T, s secureKafka, tc secureCase, log *slog.Logger) error {
	t.Helper()
	prefix := uniquePrefix(t, "secure")
	passFile := tc.passFile
	if passFile == "" {
		passFile = s.passFile
	}
	yml := fmt.Sprintf("bus:\n  brokers: [%q]\n  topic_prefix: %q\n  group_prefix: %q\n", tc.addr, prefix, prefix)
	if tc.mechanism != "" {
		yml += fmt.Sprintf("  sasl:\n    mechanism: %q\n    username: %q\n    password_file: %q\n", tc.mechanism, s.user, passFile)
	}
	if tc.tls {
		ca := tc.caFile
		if ca == "" {
			ca = s.caFile
		}
		yml += fmt.Sprintf("  tls:\n    ca_file: %q\n", ca)
		if tc.mtls {
			yml += fmt.Sprintf("    cert_file: %q\n    key_file: %q\n", s.certFile, s.keyFile)
		}
	}
	cfg, err := config.Parse(strings.NewReader(yml), []string{"VIGIE_DATA_DIR=" + t.TempDir()})
	if err != nil {
		t.Fatalf("config:\n%s\n%v", yml, err)
	}
	busCfg := bus.Config{Brokers: cfg.Bus.Brokers, BatchSize: cfg.Bus.BatchSize, Log: log.With("component", "bus")}
	if err := secureBus(&busCfg, cfg, log); err != nil {
		t.Fatalf("secureBus: %v", err)
	}
	mech := ""
	if busCfg.SASL != nil {
		mech = busCfg.SASL.Name()
	}
	if (busCfg.TLS != nil) != tc.tls || mech != tc.mechanism || (busCfg.TLS != nil && (len(busCfg.TLS.Certificates) == 1) != tc.mtls) {
		t.Fatalf("bus config: tls %v, sasl %q; want tls %v (client certificate %v), sasl %q", busCfg.TLS != nil, mech, tc.tls, tc.mtls, tc.mechanism)
	}

	// Refusals are not transient: they must come back well before this.
	timeout := 45 * time.Second
	if tc.retried {
		timeout = 8 * time.Second
	}
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	topic := cfg.Bus.TopicPrefix + "events"
	if tc.retried {
		_, err := bus.Lag(ctx, busCfg, cfg.Bus.GroupPrefix+"reader", topic)
		if err == nil {
			return errors.New("bus.Lag answered")
		}
		return err
	}
	// A refusal is checked on the producer, the client every stage has.
	// EnsureTopics (kafka-go's Client) reports a refused handshake as
	// "[8] Broker Not Available" after its timeout, not as the cause.
	if tc.wantErr == "" {
		if err := bus.EnsureTopics(ctx, busCfg, bus.TopicSpec{Name: topic, Partitions: 2, ReplicationFactor: 1}); err != nil {
			return err
		}
	}
	p, err := bus.NewProducer(busCfg)
	if err != nil {
		return err
	}
	defer p.Close()
	const n = 20
	want := map[string]string{}
	var msgs []bus.Message
	for i := range n {
		k, v := fmt.Sprintf("account-%d", i%5), fmt.Sprintf("%s record %d", tc.name, i)
		want[v] = k
		msgs = append(msgs, bus.Message{Topic: topic, Key: []byte(k), Value: []byte(v)})
	}
	if err := p.Produce(ctx, msgs...); err != nil {
		if tc.wantErr != "" && !tc.retried && ctx.Err() != nil {
			return fmt.Errorf("refused only when the context ended: %w", err)
		}
		if tc.wantErr != "" && !tc.retried {
			// The consumer (a group join, then fetches) must be refused
			// too, not wait for the brokers to come back.
			c, cerr := bus.NewConsumer(busCfg, cfg.Bus.GroupPrefix+"reader", topic)
			if cerr != nil {
				return cerr
			}
			defer c.Close()
			cctx, ccancel := context.WithTimeout(ctx, 20*time.Second)
			defer ccancel()
			_, ferr := c.Fetch(cctx)
			if ferr == nil || !strings.Contains(ferr.Error(), tc.wantErr) {
				return fmt.Errorf("producer refused (%w), but consumer fetch returned %v", err, ferr)
			}
			t.Logf("consumer refused too: %v", ferr)
		}
		return err
	}
	group := cfg.Bus.GroupPrefix + "reader"
	c, err := bus.NewConsumer(busCfg, group, topic)
	if err != nil {
		return err
	}
	defer c.Close()
	for range n {
		m, err := c.Fetch(ctx)
		if err != nil {
			return err
		}
		k, ok := want[string(m.Value)]
		if !ok {
			return fmt.Errorf("fetched a record not produced, or twice: %q", m.Value)
		}
		if k != string(m.Key) {
			return fmt.Errorf("record %q has key %q, want %q", m.Value, m.Key, k)
		}
		delete(want, string(m.Value))
		if err := c.Commit(ctx, m); err != nil {
			return err
		}
	}
	lag, err := bus.Lag(ctx, busCfg, group, topic)
	if err != nil {
		return err
	}
	if lag != 0 {
		return fmt.Errorf("lag %d after committing every record, want 0", lag)
	}
	return nil
}

// writeOtherCA writes a CA certificate that signed nothing the broker has.
func writeOtherCA(t *testing.T, dir string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "unrelated CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "other-ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
