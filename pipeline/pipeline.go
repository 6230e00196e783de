// Package pipeline holds Vigie's stages: ingest, graph, index and alert.
// Each is a Kafka consumer-group member (ingest reads a source instead)
// that commits its input offsets only after its output is durable — a
// produce acknowledged by all in-sync replicas, or a committed store
// transaction. A crash therefore re-delivers records instead of losing
// them, and deterministic IDs downstream make the re-deliveries harmless.
//
// Stages take their collaborators through the small interfaces below, so
// the same code runs against the embedded broker and store or against
// Kafka and Elasticsearch clusters, together in `vigie run` or apart.
package pipeline

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/vigie-osint/vigie/bus"
	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store"
)

// Topics names the topics that join the stages.
type Topics struct {
	Posts      string // normalised posts, keyed by author
	Clusters   string // cluster updates, keyed by cluster ID
	Alerts     string // alerts, keyed by alert ID
	DeadLetter string // records any stage rejected, with why and where
	// The scaled-out graph stage's topics (scaleout.go), created only
	// when graph.scale_out is on.
	Actions   string // posts re-keyed by the objects of their actions
	Coactions string // co-action pairs, keyed by account pair
}

// TopicsWithPrefix returns the standard topic names under prefix.
func TopicsWithPrefix(prefix string) Topics {
	return Topics{
		Posts:      prefix + "posts",
		Clusters:   prefix + "clusters",
		Alerts:     prefix + "alerts",
		DeadLetter: prefix + "deadletter",
		Actions:    prefix + "actions",
		Coactions:  prefix + "coactions",
	}
}

// All lists the topics.
func (t Topics) All() []string { return []string{t.Posts, t.Clusters, t.Alerts, t.DeadLetter} }

// Producer writes records synchronously (see bus.Producer).
type Producer interface {
	Produce(ctx context.Context, msgs ...bus.Message) error
}

// Consumer fetches records and commits them explicitly (see bus.Consumer).
type Consumer interface {
	Fetch(ctx context.Context) (bus.Message, error)
	Commit(ctx context.Context, msgs ...bus.Message) error
}

// Checkpoints keep stage state durably (see store.Checkpoints).
type Checkpoints interface {
	SaveCheckpoint(ctx context.Context, name string, data []byte) error
	LoadCheckpoint(ctx context.Context, name string) ([]byte, error)
}

// Writer is what the index stage writes to (see store.Writer).
type Writer interface {
	PutPosts(ctx context.Context, posts []post.Post) error
	PutClusters(ctx context.Context, cs []post.Cluster) error
	PutAlerts(ctx context.Context, as []post.Alert) error
}

// Stats are live counters the stages update and the progress line reads.
type Stats struct {
	Ingested     atomic.Int64 // posts produced to the posts topic
	Graphed      atomic.Int64 // posts the graph stage consumed in this process
	EnginePosts  atomic.Int64 // distinct posts in the graph engine, restored state included
	Clusters     atomic.Int64 // cluster updates emitted
	Active       atomic.Int64 // active clusters at the last detection
	Alerts       atomic.Int64 // alerts emitted
	Indexed      atomic.Int64 // records written to the store
	DeadLetters  atomic.Int64 // records rejected by any stage
	IngestDone   atomic.Bool  // the source has been read to its end
	Duplicates   atomic.Int64 // posts dropped by ingest as already seen
	SourceBytes  atomic.Int64 // size of a file source, for progress
	SourceOffset atomic.Int64 // bytes of it read and acknowledged
	LastDetectNS atomic.Int64 // duration of the last community detection
	CheckpointNS atomic.Int64 // duration of the graph stage's last checkpoint (save and commit)
	Paired       atomic.Int64 // action records the pairing engines consumed
	Coactions    atomic.Int64 // co-action pairs produced by the pairing engines
	Aggregated   atomic.Int64 // co-action pairs folded into edges by the aggregating graph stage
	// DuplicateCoactions are co-actions the aggregating graph stage
	// dropped as already folded in (re-sent after a Pair worker restarted).
	DuplicateCoactions atomic.Int64
	// WriteFailures counts failed attempts to make a stage's output
	// durable (store unreachable or full, broker away, checkpoint not
	// saved); the stage retries them (see retryDurable). Retrying is how
	// many stage loops are retrying right now: above 0, a stage is stalled
	// and its input lag grows until the cause is fixed.
	WriteFailures atomic.Int64
	Retrying      atomic.Int64
	// Post retention (privacy.post_retention): posts deleted from the
	// store, successful deletion runs, and posts the index stage did not
	// write because they were already past retention.
	RetentionDeleted atomic.Int64
	RetentionRuns    atomic.Int64
	RetentionSkipped atomic.Int64

	// Ingest producer metrics, updated after every acknowledged batch.
	// Counters only grow; "Last" and "Max" fields are gauges. A metrics
	// endpoint can export them as they are (rates are its derivatives).
	Read            atomic.Int64 // records read from the source: posts, duplicates and rejects
	ProduceBatches  atomic.Int64 // produce calls acknowledged (one per ingest batch)
	ProducedRecords atomic.Int64 // records acknowledged, posts and dead letters
	ProducedBytes   atomic.Int64 // key and value bytes acknowledged
	ProduceErrors   atomic.Int64 // produce calls that failed after the client's retries
	ProduceRetries  atomic.Int64 // retried produce requests, from kafka-go's Writer.Stats
	TimeoutFlushes  atomic.Int64 // batches sent partial because ingest.flush_timeout passed
	LastBatchSize   atomic.Int64 // records in the last batch
	MaxBatchSize    atomic.Int64 // most records in one batch
	ProduceNS       atomic.Int64 // total time spent waiting for acks, in ns (mean = ProduceNS/ProduceBatches)
	LastProduceNS   atomic.Int64 // ack wait of the last batch
	// DeliveryLagNS is, for the last batch, the time from reading its
	// oldest record to the broker's acknowledgement: how stale a post is
	// when the graph can first see it. MaxDeliveryLagNS is the worst seen.
	DeliveryLagNS    atomic.Int64
	MaxDeliveryLagNS atomic.Int64

	// Window is the graph engine's state size, refreshed at each graph
	// checkpoint (see WindowStats).
	Window WindowStats
}

// storeMax raises a to v if v is larger.
func storeMax(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

// isNotFound reports whether err says a checkpoint does not exist yet.
func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// durableCtx returns a context for the last flush on shutdown: the run's
// context is already cancelled then, yet the flush must still reach the
// broker and the store, within a bound.
func durableCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 15*time.Second)
}
