package bus

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// TestTransient: what the producer, fetch and commit retry (the broker or
// the network heals) and what they return at once.
func TestTransient(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "x"}}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"connection refused", fmt.Errorf("produce: %w", syscall.ECONNREFUSED), true},
		{"net.OpError", fmt.Errorf("dial: %w", refused), true},
		{"reset", syscall.ECONNRESET, true},
		{"unexpected EOF", io.ErrUnexpectedEOF, true},
		{"leader moving", kafka.NotLeaderForPartition, true},
		{"rebalance", fmt.Errorf("commit: %w", kafka.RebalanceInProgress), true},
		{"generation gone", kafka.IllegalGeneration, true},
		{"request timed out", kafka.RequestTimedOut, true},
		{"internal timeout", context.DeadlineExceeded, true},
		{"write errors, all transient", kafka.WriteErrors{nil, kafka.LeaderNotAvailable, syscall.ECONNREFUSED}, true},
		{"write errors, one final", kafka.WriteErrors{kafka.LeaderNotAvailable, kafka.MessageSizeTooLarge}, false},
		{"write errors, none", kafka.WriteErrors{nil, nil}, false},
		{"record too large", kafka.MessageSizeTooLarge, false},
		{"not authorized", kafka.TopicAuthorizationFailed, false},
		{"closed client", io.ErrClosedPipe, false},
		{"other", errors.New("bad config"), false},
		{"broker refused our certificate", &net.OpError{Op: "remote error", Err: errors.New("tls: bad certificate")}, false},
		{"unknown CA", fmt.Errorf("dial: %w", x509.UnknownAuthorityError{}), false},
		{"wrong host name", &net.OpError{Op: "dial", Net: "tcp", Err: x509.HostnameError{Host: "kafka"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Transient(tc.err); got != tc.want {
				t.Errorf("Transient(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

type errCounter struct {
	NopObserver
	produce, fetch atomic.Int64
}

func (c *errCounter) ProduceError(string)       { c.produce.Add(1) }
func (c *errCounter) FetchError(string, string) { c.fetch.Add(1) }

// TestSurvivesBrokerRestart: the broker goes away for longer than the
// client library's own retries; a produce and a fetch wait (counting
// errors) instead of failing, and go through once the broker is back on
// its data.
func TestSurvivesBrokerRestart(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	emb, err := StartEmbedded(EmbeddedConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	addr := emb.Addr()
	obs := &errCounter{}
	cfg := Config{Brokers: []string{addr}, Observer: obs}
	if err := EnsureTopics(ctx, cfg, TopicSpec{Name: "t", Partitions: 1, ReplicationFactor: 1}); err != nil {
		t.Fatal(err)
	}
	p, err := NewProducer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Produce(ctx, Message{Topic: "t", Value: []byte("before")}); err != nil {
		t.Fatal(err)
	}
	c, err := NewConsumer(cfg, "g", "t")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m, err := c.Fetch(ctx)
	if err != nil || string(m.Value) != "before" {
		t.Fatalf("fetch = %q, %v", m.Value, err)
	}
	if err := c.Commit(ctx, m); err != nil {
		t.Fatal(err)
	}

	emb.Close()
	produced := make(chan error, 1)
	go func() { produced <- p.Produce(ctx, Message{Topic: "t", Value: []byte("after")}) }()
	deadline := time.Now().Add(time.Minute)
	for obs.produce.Load() == 0 { // kafka-go's own retries are over
		if time.Now().After(deadline) {
			t.Fatal("no produce error counted while the broker was down")
		}
		select {
		case err := <-produced:
			t.Fatalf("Produce returned while the broker was down: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	emb, err = StartEmbedded(EmbeddedConfig{Dir: dir, Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	select {
	case err := <-produced:
		if err != nil {
			t.Fatalf("Produce after the broker came back: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Produce did not go through within a minute of the broker's return")
	}
	fctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	m, err = c.Fetch(fctx)
	if err != nil || string(m.Value) != "after" {
		t.Fatalf("fetch after the restart = %q, %v", m.Value, err)
	}
	if err := c.Commit(ctx, m); err != nil {
		t.Fatalf("commit after the restart: %v", err)
	}
	t.Logf("produce errors counted %d, fetch errors %d", obs.produce.Load(), obs.fetch.Load())
}
