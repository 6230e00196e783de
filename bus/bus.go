// Package bus joins Vigie's stages through Kafka. One client library,
// github.com/segmentio/kafka-go, talks to both backends: a real Kafka
// cluster at scale, and the embedded Kafka-protocol broker (franz-go's
// kfake) that the one-binary default starts in-process. Because both speak
// the same protocol, every stage runs the same code in either mode, and one
// conformance suite (package bustest) is run against each.
//
// Consumers fetch and commit explicitly (FetchMessage/CommitMessages): a
// stage commits an offset only after what it made of the message is
// durable, so a crash re-delivers instead of losing. Producers write
// synchronously with acks from all in-sync replicas for the same reason.
package bus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
)

// Message is a Kafka record as stages see it.
type Message = kafka.Message

// Header is a Kafka record header.
type Header = kafka.Header

// Dead-letter headers: a rejected record carries why and where it came
// from, so it can be found, fixed and replayed.
const (
	HeaderError     = "vigie-error"
	HeaderStage     = "vigie-stage"
	HeaderSource    = "vigie-source" // topic/partition/offset, or file:line
	HeaderSchemaVer = "vigie-schema"
)

// Config is what a client needs to reach the brokers.
type Config struct {
	// Brokers are bootstrap addresses, host:port. Required.
	Brokers []string
	// BatchSize is the most records per produce request. Default 500.
	BatchSize int
	// BatchTimeout is how long a partial produce batch waits. Default
	// 10ms: producers here are synchronous, so a long timeout would stall
	// every small write (kafka-go's 1 s default gives 1 msg/s per caller).
	BatchTimeout time.Duration
	// MaxWait bounds how long a fetch waits for data. Default 250ms.
	MaxWait time.Duration
	// TLS, when set, encrypts every connection (see Security.Build).
	TLS *tls.Config
	// SASL, when set, authenticates every connection (see Security.Build).
	SASL sasl.Mechanism
	// Observer, when set, is told about produces, fetches and errors (the
	// ops package turns this into Prometheus metrics).
	Observer Observer
	// Log receives a warning while the brokers are unreachable (see
	// Transient); nil logs nothing.
	Log *slog.Logger
}

// Waits between attempts while the brokers are unreachable: the client
// library's own retries (about ten seconds) are exhausted by then.
var (
	transientFirst = 250 * time.Millisecond
	transientMax   = 5 * time.Second
	warnEvery      = 10 * time.Second
)

// Transient reports whether err is one the brokers or the network heal by
// themselves: a refused or reset connection, a timeout, a leader or
// coordinator moving, a rebalance. Producers, fetches and commits retry
// those until their context ends, so a broker restarted, or away for
// minutes, stalls the stages instead of stopping them; every retry is
// counted by the Observer and logged. Anything else (a record too large,
// an authorization or TLS failure, a closed client) is returned at once.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	var we kafka.WriteErrors
	if errors.As(err, &we) {
		some := false
		for _, e := range we {
			if e == nil {
				continue
			}
			if !Transient(e) {
				return false
			}
			some = true
		}
		return some
	}
	var ke kafka.Error
	if errors.As(err, &ke) {
		switch ke {
		case kafka.RebalanceInProgress, kafka.IllegalGeneration, kafka.UnknownMemberId:
			// The group moved on (a broker restart ends every
			// generation); the next generation takes the request.
			return true
		}
		return ke.Temporary()
	}
	if errors.Is(err, io.ErrClosedPipe) {
		return false // the client was closed
	}
	// A TLS alert from the broker (no or a refused client certificate)
	// or a certificate the client cannot verify is a configuration
	// error: retrying cannot fix it and would hide it in retry logs.
	var alert tls.AlertError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	if errors.As(err, &alert) || errors.As(err, &unknownCA) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &verify) || strings.Contains(err.Error(), "remote error: tls:") {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, context.DeadlineExceeded)
}

// retrier paces retries of transient errors and logs them, once every
// warnEvery at most per client.
type retrier struct {
	log      *slog.Logger
	lastWarn atomic.Int64
}

// wait logs err and sleeps before attempt n+1; false when ctx ended.
func (r *retrier) wait(ctx context.Context, n int, what string, err error) bool {
	if now := time.Now().UnixNano(); r.log != nil && now-r.lastWarn.Load() >= int64(warnEvery) {
		r.lastWarn.Store(now)
		r.log.Warn("Kafka unreachable or moving; retrying", "what", what, "attempt", n, "err", err)
	}
	d := transientFirst
	for i := 1; i < n && d < transientMax; i++ {
		d *= 2
	}
	t := time.NewTimer(min(d, transientMax))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// transport returns a kafka-go transport with the connection security of
// c. Each client gets its own: kafka-go's shared default caches topic
// metadata process-wide, so a topic created after another writer's first
// request would stay "unknown" to every writer for the cache's life.
func (c Config) transport() *kafka.Transport {
	return &kafka.Transport{DialTimeout: 5 * time.Second, MetadataTTL: 5 * time.Second, TLS: c.TLS, SASL: c.SASL}
}

// Validate fills defaults and checks required fields.
func (c *Config) Validate() error {
	if len(c.Brokers) == 0 {
		return errors.New("bus: Brokers: at least one broker address is required")
	}
	for i, b := range c.Brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			return fmt.Errorf("bus: Brokers[%d] %q: %w", i, b, err)
		}
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	if c.BatchTimeout <= 0 {
		c.BatchTimeout = 10 * time.Millisecond
	}
	if c.MaxWait <= 0 {
		c.MaxWait = 250 * time.Millisecond
	}
	return nil
}

// Producer writes records synchronously: Produce returns only when every
// record is acknowledged by all in-sync replicas, or with an error.
type Producer struct {
	w   *kafka.Writer
	tr  *kafka.Transport
	obs Observer
	rt  retrier
}

// NewProducer returns a producer. Records are partitioned by key hash (the
// same hash as the Java client's default), so all posts of one account, or
// all updates of one cluster, stay in order on one partition.
func NewProducer(cfg Config) (*Producer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tr := cfg.transport()
	return &Producer{tr: tr, obs: observerOr(cfg.Observer), rt: retrier{log: cfg.Log}, w: &kafka.Writer{
		Transport:              tr,
		Addr:                   kafka.TCP(cfg.Brokers...),
		Balancer:               &kafka.Hash{},
		BatchSize:              cfg.BatchSize,
		BatchTimeout:           cfg.BatchTimeout,
		RequiredAcks:           kafka.RequireAll,
		MaxAttempts:            10,
		WriteBackoffMin:        50 * time.Millisecond,
		WriteBackoffMax:        2 * time.Second,
		AllowAutoTopicCreation: false,
		Compression:            kafka.Lz4,
	}}, nil
}

// Produce writes msgs, each with its Topic set, and waits for their acks.
// Transient failures are retried until ctx ends (a retry may write some
// records twice, which deterministic IDs downstream make harmless).
func (p *Producer) Produce(ctx context.Context, msgs ...Message) error {
	if len(msgs) == 0 {
		return nil
	}
	for i := range msgs {
		if msgs[i].Topic == "" {
			return fmt.Errorf("bus: produce: message %d has no topic", i)
		}
	}
	start := time.Now()
	for n := 1; ; n++ {
		err := p.w.WriteMessages(ctx, msgs...)
		if err == nil {
			break
		}
		if ctx.Err() == nil {
			p.obs.ProduceError(msgs[0].Topic)
		}
		err = fmt.Errorf("bus: produce %d records to %s: %w", len(msgs), msgs[0].Topic, err)
		if ctx.Err() != nil || !Transient(err) || !p.rt.wait(ctx, n, "produce to "+msgs[0].Topic, err) {
			return err
		}
	}
	p.obs.Produced(msgs, time.Since(start))
	return nil
}

// WriterStats are kafka-go's producer counters (writes, messages, bytes,
// errors, retries, batch sizes and times).
type WriterStats = kafka.WriterStats

// Stats returns the producer's counters. kafka-go resets the counters on
// every call, so each call returns what happened since the previous one:
// exactly one reader (the ingest stage) should call it and accumulate.
func (p *Producer) Stats() WriterStats { return p.w.Stats() }

// Close flushes and closes the producer.
func (p *Producer) Close() error {
	err := p.w.Close()
	p.tr.CloseIdleConnections()
	return err
}

// Consumer is one member of a consumer group reading one topic.
type Consumer struct {
	r     *kafka.Reader
	group string
	topic string
	obs   Observer
	rt    retrier
}

// NewConsumer joins group on topic. A new group starts at the earliest
// offset, so a stage started after its input was written still reads all.
func NewConsumer(cfg Config, group, topic string) (*Consumer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if group == "" || topic == "" {
		return nil, errors.New("bus: consumer needs a group and a topic")
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:           cfg.Brokers,
		GroupID:           group,
		Topic:             topic,
		MinBytes:          1,
		MaxBytes:          16 << 20,
		MaxWait:           cfg.MaxWait,
		ReadBatchTimeout:  cfg.MaxWait * 4,
		CommitInterval:    0, // synchronous commits: CommitMessages returns when the broker has them
		StartOffset:       kafka.FirstOffset,
		HeartbeatInterval: time.Second,
		SessionTimeout:    10 * time.Second,
		RebalanceTimeout:  10 * time.Second,
		JoinGroupBackoff:  500 * time.Millisecond,
		ReadBackoffMin:    10 * time.Millisecond,
		ReadBackoffMax:    200 * time.Millisecond,
		MaxAttempts:       10,
		Logger:            nil,
		ErrorLogger:       nil,
		Dialer: &kafka.Dialer{
			Timeout:       5 * time.Second,
			DualStack:     true,
			TLS:           cfg.TLS,
			SASLMechanism: cfg.SASL,
		},
	})
	return &Consumer{r: r, group: group, topic: topic, obs: observerOr(cfg.Observer), rt: retrier{log: cfg.Log}}, nil
}

// Fetch returns the next record without committing it. It returns ctx's
// error when ctx ends first; the consumer stays usable after a deadline,
// which stages use to notice that their input went idle. While the
// brokers are unreachable it waits (the reader reconnects and rejoins
// its group by itself), counting and logging the errors.
func (c *Consumer) Fetch(ctx context.Context) (Message, error) {
	for n := 1; ; n++ {
		m, err := c.r.FetchMessage(ctx)
		if err == nil {
			c.obs.Fetched(c.group, m)
			return m, nil
		}
		if ctx.Err() != nil {
			return Message{}, ctx.Err()
		}
		c.obs.FetchError(c.group, c.topic)
		err = fmt.Errorf("bus: fetch %s for %s: %w", c.topic, c.group, err)
		// io.EOF alone means the reader was closed.
		if errors.Is(err, io.EOF) || !Transient(err) {
			return Message{}, err
		}
		if !c.rt.wait(ctx, n, "fetch "+c.topic+" for "+c.group, err) {
			return Message{}, ctx.Err()
		}
	}
}

// Commit marks msgs (and everything before them on their partitions) done.
func (c *Consumer) Commit(ctx context.Context, msgs ...Message) error {
	if len(msgs) == 0 {
		return nil
	}
	for n := 1; ; n++ {
		err := c.r.CommitMessages(ctx, msgs...)
		if err == nil {
			break
		}
		if ctx.Err() == nil {
			c.obs.CommitError(c.group, c.topic)
		}
		err = fmt.Errorf("bus: commit %s for %s: %w", c.topic, c.group, err)
		// Committing again is safe: the offsets are those of records
		// already made durable, in this generation or the next.
		if ctx.Err() != nil || !Transient(err) || !c.rt.wait(ctx, n, "commit "+c.topic+" for "+c.group, err) {
			return err
		}
	}
	c.obs.Committed(c.group, msgs)
	return nil
}

// Close leaves the group.
func (c *Consumer) Close() error { return c.r.Close() }

// Topic is the topic this consumer reads.
func (c *Consumer) Topic() string { return c.topic }

// Group is this consumer's group.
func (c *Consumer) Group() string { return c.group }

// TopicSpec describes a topic to create.
type TopicSpec struct {
	Name              string
	Partitions        int
	ReplicationFactor int
	// Configs are topic-level settings such as retention.ms.
	Configs map[string]string
}

// EnsureTopics creates the topics that do not exist yet. Existing topics
// are left as they are (their partition count is not changed).
func EnsureTopics(ctx context.Context, cfg Config, topics ...TopicSpec) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	client, done := newClient(cfg, 30*time.Second)
	defer done()
	req := &kafka.CreateTopicsRequest{}
	for _, t := range topics {
		tc := kafka.TopicConfig{Topic: t.Name, NumPartitions: t.Partitions, ReplicationFactor: t.ReplicationFactor}
		for k, v := range t.Configs {
			tc.ConfigEntries = append(tc.ConfigEntries, kafka.ConfigEntry{ConfigName: k, ConfigValue: v})
		}
		req.Topics = append(req.Topics, tc)
	}
	var res *kafka.CreateTopicsResponse
	var err error
	// A broker that has just started may not have elected a controller
	// yet; retry briefly rather than fail a fresh start.
	for attempt := 0; attempt < 30; attempt++ {
		res, err = client.CreateTopics(ctx, req)
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bus: create topics: %w", ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
	if err != nil {
		return fmt.Errorf("bus: create topics: %w", err)
	}
	var errs []error
	for name, e := range res.Errors {
		if e != nil && !errors.Is(e, kafka.TopicAlreadyExists) {
			errs = append(errs, fmt.Errorf("bus: create topic %s: %w", name, e))
		}
	}
	return errors.Join(errs...)
}

// Lag returns how many records of topic the group has not committed yet,
// summed over partitions: the figure operators watch to see a stage keep up.
func Lag(ctx context.Context, cfg Config, group, topic string) (int64, error) {
	if err := cfg.Validate(); err != nil {
		return 0, err
	}
	client, done := newClient(cfg, 5*time.Second)
	defer done()
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return 0, fmt.Errorf("bus: lag metadata: %w", err)
	}
	var parts []int
	for _, t := range meta.Topics {
		if t.Name == topic {
			for _, p := range t.Partitions {
				parts = append(parts, p.ID)
			}
		}
	}
	if len(parts) == 0 {
		return 0, nil
	}
	var reqs []kafka.OffsetRequest
	for _, p := range parts {
		reqs = append(reqs, kafka.FirstOffsetOf(p), kafka.LastOffsetOf(p))
	}
	lo, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return 0, fmt.Errorf("bus: lag list offsets: %w", err)
	}
	of, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	if err != nil {
		return 0, fmt.Errorf("bus: lag offset fetch: %w", err)
	}
	committed := map[int]int64{}
	for _, p := range of.Topics[topic] {
		committed[p.Partition] = p.CommittedOffset
	}
	var lag int64
	for _, p := range lo.Topics[topic] {
		c := committed[p.Partition]
		if c < 0 {
			c = p.FirstOffset
		}
		if d := p.LastOffset - c; d > 0 {
			lag += d
		}
	}
	return lag, nil
}

// newClient returns an admin client with a transport of its own, closed by
// done: kafka-go's shared default transport keeps connection goroutines
// alive for the life of the process, which hides real leaks in tests.
func newClient(cfg Config, timeout time.Duration) (*kafka.Client, func()) {
	tr := &kafka.Transport{DialTimeout: 5 * time.Second, IdleTimeout: time.Second, TLS: cfg.TLS, SASL: cfg.SASL}
	return &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Timeout: timeout, Transport: tr}, tr.CloseIdleConnections
}

// Source formats a record's origin for the HeaderSource header.
func Source(m Message) string {
	return m.Topic + "/" + strconv.Itoa(m.Partition) + "/" + strconv.FormatInt(m.Offset, 10)
}

// HeaderValue returns the value of the named header, or "".
func HeaderValue(m Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// DeadLetter builds the dead-letter record for m: the original bytes and
// key, with why and where in headers.
func DeadLetter(topic, stage string, m Message, cause error) Message {
	return Message{
		Topic: topic,
		Key:   m.Key,
		Value: m.Value,
		Headers: []Header{
			{Key: HeaderError, Value: []byte(cause.Error())},
			{Key: HeaderStage, Value: []byte(stage)},
			{Key: HeaderSource, Value: []byte(Source(m))},
		},
	}
}
