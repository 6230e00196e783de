package bus

import (
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Embedded is the in-process Kafka-protocol broker of the one-binary
// default. It persists its log and group offsets under a directory with
// per-batch fsync, so a restarted `vigie run` resumes where it stopped,
// exactly as it would against a real cluster.
type Embedded struct {
	c    *kfake.Cluster
	addr string
}

// EmbeddedConfig configures the embedded broker.
type EmbeddedConfig struct {
	// Dir keeps the broker's state. Empty keeps it in memory only (tests).
	Dir string
	// Addr is host:port to listen on; port 0 picks a free one. Default
	// 127.0.0.1:0. Only loopback makes sense: the broker has no auth.
	Addr string
	// Partitions is the default partition count of auto-created topics.
	Partitions int
}

// StartEmbedded starts the broker; Close stops it.
func StartEmbedded(cfg EmbeddedConfig) (*Embedded, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	host, portStr, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("bus: embedded broker address %q: %w", cfg.Addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("bus: embedded broker port %q: %w", portStr, err)
	}
	if cfg.Partitions <= 0 {
		cfg.Partitions = 1
	}
	opts := []kfake.Opt{
		kfake.Ports(port),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
		}),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(cfg.Partitions),
		kfake.ClusterID("vigie-embedded"),
		kfake.BrokerConfigs(map[string]string{
			// Vigie's embedded log is the replay buffer of one machine:
			// keep a week, as at scale.
			"log.retention.ms": strconv.FormatInt(7*24*3600*1000, 10),
		}),
	}
	if cfg.Dir != "" {
		if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("bus: embedded broker dir: %w", err)
		}
		opts = append(opts, kfake.DataDir(cfg.Dir), kfake.SyncWrites())
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("bus: start embedded broker: %w", err)
	}
	addrs := c.ListenAddrs()
	if len(addrs) == 0 {
		c.Close()
		return nil, fmt.Errorf("bus: embedded broker has no listener")
	}
	return &Embedded{c: c, addr: addrs[0]}, nil
}

// Addr is the broker's bootstrap address.
func (e *Embedded) Addr() string { return e.addr }

// Close stops the broker and flushes its state to disk.
func (e *Embedded) Close() { e.c.Close() }
