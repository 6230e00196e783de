package bus_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/bus"
)

// BenchmarkProduceConsume measures records/s through a broker with the
// stages' settings: synchronous produce of 500-record batches acknowledged
// by all in-sync replicas, then a group consumer fetching and committing
// every 500. It uses the real broker named by VIGIE_TEST_KAFKA when set,
// else the embedded one. Records are 1 KB, about a Vigie post.
func BenchmarkProduceConsume(b *testing.B) {
	brokers, where := []string(nil), "kafka"
	if addr := os.Getenv("VIGIE_TEST_KAFKA"); addr != "" {
		brokers = strings.Split(addr, ",")
	} else {
		e, err := bus.StartEmbedded(bus.EmbeddedConfig{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		defer e.Close()
		brokers, where = []string{e.Addr()}, "embedded"
	}
	const n, batch = 20000, 500
	cfg := bus.Config{Brokers: brokers}
	ctx := context.Background()
	value := []byte(strings.Repeat("x", 1000))
	for i := 0; i < b.N; i++ {
		topic := "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		if err := bus.EnsureTopics(ctx, cfg, bus.TopicSpec{Name: topic, Partitions: 1, ReplicationFactor: 1}); err != nil {
			b.Fatal(err)
		}
		p, err := bus.NewProducer(cfg)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		msgs := make([]bus.Message, batch)
		for j := 0; j < n; j += batch {
			for k := range msgs {
				msgs[k] = bus.Message{Topic: topic, Key: []byte("acct" + strconv.Itoa((j+k)%997)), Value: value}
			}
			if err := p.Produce(ctx, msgs...); err != nil {
				b.Fatal(err)
			}
		}
		produced := time.Since(t0)
		p.Close()
		c, err := bus.NewConsumer(cfg, topic+"-g", topic)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		var last bus.Message
		for j := 0; j < n; j++ {
			if last, err = c.Fetch(ctx); err != nil {
				b.Fatal(err)
			}
			if (j+1)%batch == 0 {
				if err := c.Commit(ctx, last); err != nil {
					b.Fatal(err)
				}
			}
		}
		consumed := time.Since(t1)
		c.Close()
		b.ReportMetric(float64(n)/produced.Seconds(), "produced/s")
		b.ReportMetric(float64(n)/consumed.Seconds(), "consumed/s")
		b.Logf("%s: %d records of 1 KB produced in %s, consumed and committed in %s", where, n, produced.Round(time.Millisecond), consumed.Round(time.Millisecond))
	}
}
