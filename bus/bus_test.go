package bus_test

import (
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/vigie-osint/vigie/bus"
	"github.com/vigie-osint/vigie/bus/bustest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestEmbeddedConformance runs the shared suite on the in-process broker.
func TestEmbeddedConformance(t *testing.T) {
	e, err := bus.StartEmbedded(bus.EmbeddedConfig{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	bustest.Run(t, []string{e.Addr()}, "conf.")
}

// TestKafkaConformance runs the same suite on a real Kafka broker named by
// VIGIE_TEST_KAFKA (host:port); .ci/run starts one.
func TestKafkaConformance(t *testing.T) {
	addr := os.Getenv("VIGIE_TEST_KAFKA")
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but VIGIE_TEST_KAFKA is not set: the real-Kafka suite must run in CI")
		}
		t.Skip("VIGIE_TEST_KAFKA not set: no real Kafka broker to test against (start one with scripts/kafka.sh)")
	}
	bustest.Run(t, strings.Split(addr, ","), "conf-"+strings.ReplaceAll(t.Name(), "/", "-")+".")
}

// TestEmbeddedPersists checks that the embedded broker keeps records and
// committed offsets across a restart on the same directory.
func TestEmbeddedPersists(t *testing.T) {
	dir := t.TempDir()
	e, err := bus.StartEmbedded(bus.EmbeddedConfig{Dir: dir, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	cfg := bus.Config{Brokers: []string{e.Addr()}}
	if err := bus.EnsureTopics(ctx, cfg, bus.TopicSpec{Name: "p", Partitions: 1, ReplicationFactor: 1}); err != nil {
		t.Fatal(err)
	}
	p, err := bus.NewProducer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Produce(ctx, bus.Message{Topic: "p", Value: []byte("one")}, bus.Message{Topic: "p", Value: []byte("two")}); err != nil {
		t.Fatal(err)
	}
	p.Close()
	c, err := bus.NewConsumer(cfg, "g", "p")
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Commit(ctx, m); err != nil {
		t.Fatal(err)
	}
	c.Close()
	e.Close()

	e2, err := bus.StartEmbedded(bus.EmbeddedConfig{Dir: dir, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	cfg.Brokers = []string{e2.Addr()}
	c2, err := bus.NewConsumer(cfg, "g", "p")
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	m, err = c2.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Value) != "two" {
		t.Fatalf("after restart got %q, want the uncommitted record %q", m.Value, "two")
	}
}
