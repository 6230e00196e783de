// Package bustest is the conformance suite every Kafka backend Vigie runs
// on must pass: the embedded broker in unit tests, a real Apache Kafka
// broker in integration tests. It checks the guarantees the stages rely
// on — per-key order, resume at committed offsets, nothing lost across a
// consumer restart, usable consumers after an idle deadline — rather than
// trusting that a Kafka-protocol server behaves like Kafka.
package bustest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/bus"
)

// Run runs the suite against brokers. prefix keeps topic and group names
// apart from other runs on a shared broker.
func Run(t *testing.T, brokers []string, prefix string) {
	RunConfig(t, bus.Config{Brokers: brokers}, prefix)
}

// RunConfig runs the suite with a full client configuration, such as one
// with TLS and SASL set.
func RunConfig(t *testing.T, cfg bus.Config, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)

	t.Run("EnsureTopicsIdempotent", func(t *testing.T) {
		spec := bus.TopicSpec{Name: prefix + "ensure", Partitions: 3, ReplicationFactor: 1}
		for i := 0; i < 2; i++ {
			if err := bus.EnsureTopics(ctx, cfg, spec); err != nil {
				t.Fatalf("EnsureTopics call %d: %v", i+1, err)
			}
		}
	})

	t.Run("ResumeAtCommittedOffsets", func(t *testing.T) {
		topic := prefix + "resume"
		if err := bus.EnsureTopics(ctx, cfg, bus.TopicSpec{Name: topic, Partitions: 3, ReplicationFactor: 1}); err != nil {
			t.Fatal(err)
		}
		p, err := bus.NewProducer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		const n, keys = 300, 7
		var msgs []bus.Message
		for i := 0; i < n; i++ {
			msgs = append(msgs, bus.Message{Topic: topic, Key: []byte("k" + strconv.Itoa(i%keys)), Value: []byte(strconv.Itoa(i))})
		}
		if err := p.Produce(ctx, msgs...); err != nil {
			t.Fatal(err)
		}
		group := prefix + "resume-group"
		seen := map[int]int{}
		lastPerKey := map[string]int{}
		read := func(c *bus.Consumer, want int, commit bool) {
			t.Helper()
			for got := 0; got < want; got++ {
				m, err := c.Fetch(ctx)
				if err != nil {
					t.Fatalf("fetch after %d: %v", got, err)
				}
				v, _ := strconv.Atoi(string(m.Value))
				seen[v]++
				k := string(m.Key)
				if last, ok := lastPerKey[k]; ok && v <= last && seen[v] == 1 {
					t.Fatalf("key %s: value %d after %d: per-key order broken", k, v, last)
				}
				lastPerKey[k] = v
				if commit {
					if err := c.Commit(ctx, m); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		c1, err := bus.NewConsumer(cfg, group, topic)
		if err != nil {
			t.Fatal(err)
		}
		read(c1, 100, true)
		// Ten more fetched but never committed: they must come again.
		read(c1, 10, false)
		if err := c1.Close(); err != nil {
			t.Fatal(err)
		}
		lag, err := bus.Lag(ctx, cfg, group, topic)
		if err != nil {
			t.Fatal(err)
		}
		if lag != n-100 {
			t.Errorf("Lag = %d after committing 100 of %d, want %d", lag, n, n-100)
		}
		c2, err := bus.NewConsumer(cfg, group, topic)
		if err != nil {
			t.Fatal(err)
		}
		defer c2.Close()
		read(c2, n-100, true)
		for i := 0; i < n; i++ {
			if seen[i] == 0 {
				t.Fatalf("value %d never delivered", i)
			}
		}
		redelivered := 0
		for _, c := range seen {
			redelivered += c - 1
		}
		if redelivered > 10 {
			t.Errorf("%d records delivered twice; only the 10 uncommitted ones may be", redelivered)
		}
	})

	t.Run("IdleDeadlineKeepsConsumerUsable", func(t *testing.T) {
		topic := prefix + "idle"
		if err := bus.EnsureTopics(ctx, cfg, bus.TopicSpec{Name: topic, Partitions: 1, ReplicationFactor: 1}); err != nil {
			t.Fatal(err)
		}
		c, err := bus.NewConsumer(cfg, prefix+"idle-group", topic)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
		_, err = c.Fetch(short)
		cancelShort()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Fetch on an empty topic = %v, want DeadlineExceeded", err)
		}
		p, err := bus.NewProducer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if err := p.Produce(ctx, bus.Message{Topic: topic, Key: []byte("a"), Value: []byte("after-idle")}); err != nil {
			t.Fatal(err)
		}
		m, err := c.Fetch(ctx)
		if err != nil || string(m.Value) != "after-idle" {
			t.Fatalf("Fetch after idle = %q, %v", m.Value, err)
		}
	})

	t.Run("GroupsAreIndependent", func(t *testing.T) {
		topic := prefix + "groups"
		if err := bus.EnsureTopics(ctx, cfg, bus.TopicSpec{Name: topic, Partitions: 2, ReplicationFactor: 1}); err != nil {
			t.Fatal(err)
		}
		p, err := bus.NewProducer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		for i := 0; i < 20; i++ {
			if err := p.Produce(ctx, bus.Message{Topic: topic, Key: []byte{byte(i)}, Value: []byte{byte(i)}}); err != nil {
				t.Fatal(err)
			}
		}
		for g := 0; g < 2; g++ {
			c, err := bus.NewConsumer(cfg, fmt.Sprintf("%sgroups-%d", prefix, g), topic)
			if err != nil {
				t.Fatal(err)
			}
			got := map[byte]bool{}
			for len(got) < 20 {
				m, err := c.Fetch(ctx)
				if err != nil {
					t.Fatalf("group %d: %v", g, err)
				}
				got[m.Value[0]] = true
				if err := c.Commit(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
			c.Close()
		}
	})

	t.Run("DeadLetterCarriesOrigin", func(t *testing.T) {
		topic := prefix + "dlq"
		if err := bus.EnsureTopics(ctx, cfg, bus.TopicSpec{Name: topic, Partitions: 1, ReplicationFactor: 1}); err != nil {
			t.Fatal(err)
		}
		p, err := bus.NewProducer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		orig := bus.Message{Topic: "posts", Partition: 2, Offset: 41, Key: []byte("acct"), Value: []byte("{bad")}
		if err := p.Produce(ctx, bus.DeadLetter(topic, "graph", orig, errors.New("record posts/2/41: invalid JSON"))); err != nil {
			t.Fatal(err)
		}
		c, err := bus.NewConsumer(cfg, prefix+"dlq-group", topic)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		m, err := c.Fetch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Value) != "{bad" || bus.HeaderValue(m, bus.HeaderSource) != "posts/2/41" ||
			bus.HeaderValue(m, bus.HeaderStage) != "graph" || bus.HeaderValue(m, bus.HeaderError) == "" {
			t.Fatalf("dead letter lost its origin: value %q headers %v", m.Value, m.Headers)
		}
	})
}
