package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/vigie-osint/vigie/bus"
	"github.com/vigie-osint/vigie/post"
)

// batcher is the loop shared by stages that turn a batch of input records
// into durable output: fetch up to Size records (or whatever arrived
// within Wait), handle them, and commit only after handle returned. A
// record handle cannot read goes to the dead-letter topic in the same
// step, before the commit, so it is neither lost nor retried forever.
type batcher struct {
	Consumer Consumer
	Producer Producer // for dead letters
	DLQ      string
	Stage    string
	Size     int
	Wait     time.Duration
	Log      *slog.Logger
	Stats    *Stats
}

// run calls handle with each batch. handle returns the records it rejected
// (with their errors), which are dead-lettered.
func (b *batcher) run(ctx context.Context, handle func(ctx context.Context, batch []bus.Message) ([]rejected, error)) error {
	if b.Size <= 0 {
		b.Size = 500
	}
	if b.Wait <= 0 {
		b.Wait = 200 * time.Millisecond
	}
	batch := make([]bus.Message, 0, b.Size)
	// once makes one batch durable and commits it. A failure (the store
	// unreachable or full, the broker away longer than the client's own
	// retries) is retried by flush with a backoff until it succeeds or
	// the run ends: the batch stays uncommitted meanwhile, and repeating
	// it is harmless since every write is keyed by a deterministic ID.
	once := func(ctx context.Context) error {
		bad, err := handle(ctx, batch)
		if err != nil {
			return err
		}
		if len(bad) > 0 {
			dead := make([]bus.Message, 0, len(bad))
			for _, r := range bad {
				b.Log.Warn(b.Stage+" rejected a record", "err", r.err)
				dead = append(dead, bus.DeadLetter(b.DLQ, b.Stage, r.msg, r.err))
			}
			if err := b.Producer.Produce(ctx, dead...); err != nil {
				return err
			}
			b.Stats.DeadLetters.Add(int64(len(bad)))
		}
		last := map[int]bus.Message{}
		for _, m := range batch {
			last[m.Partition] = m
		}
		return b.Consumer.Commit(ctx, lastOfEach(last)...)
	}
	flush := func(ctx context.Context) error {
		if len(batch) == 0 {
			return nil
		}
		what := fmt.Sprintf("batch of %d records from %s", len(batch), bus.Source(batch[0]))
		if err := retryDurable(ctx, b.Log, b.Stats, b.Stage, what, once); err != nil {
			return err
		}
		batch = batch[:0]
		return nil
	}
	deadline := time.Time{}
	for {
		wait := b.Wait
		if !deadline.IsZero() {
			wait = time.Until(deadline)
		}
		fctx, cancel := context.WithTimeout(ctx, max(wait, time.Millisecond))
		m, err := b.Consumer.Fetch(fctx)
		cancel()
		if ctx.Err() != nil {
			// Whatever was fetched and not handled is simply not
			// committed: it is re-delivered after a restart.
			return nil
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		if err == nil {
			if len(batch) == 0 {
				deadline = time.Now().Add(b.Wait)
			}
			batch = append(batch, m)
		}
		if len(batch) >= b.Size || (len(batch) > 0 && !time.Now().Before(deadline)) || (err != nil && len(batch) > 0) {
			if err := flush(ctx); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			deadline = time.Time{}
		}
	}
}

type rejected struct {
	msg bus.Message
	err error
}

// refusals is implemented by a store error that names the records the
// store refused for good while every other record of the write is durable
// (store/elastic's BulkError, for a document its mapping rejects). The
// index stage then dead-letters just those records and commits, rather
// than failing the batch again at every retry. Kinds are "post",
// "account", "cluster" and "alert"; keys are the records' stable keys.
type refusals interface {
	Refused(kind, key string) (reason string, ok bool)
}

// refused sorts out a failed write: when err names refused records, it
// returns one rejection for each written record that was refused (by
// refusedKeys), and a nil error. Any other error is returned as it is.
func refused(err error, msgs []bus.Message, refusedReason func(i int, r refusals) (string, bool)) ([]rejected, error) {
	var r refusals
	if !errors.As(err, &r) {
		return nil, err
	}
	var bad []rejected
	for i, m := range msgs {
		if reason, ok := refusedReason(i, r); ok {
			bad = append(bad, rejected{m, errors.New(reason)})
		}
	}
	if len(bad) == 0 {
		// The store named records this batch does not hold: do not
		// guess, fail the batch so it is retried.
		return nil, err
	}
	return bad, nil
}

// Index writes posts, clusters and alerts from their topics into the store
// (the embedded store or Elasticsearch). One Index runs a loop per topic,
// each a member of the index consumer group.
type Index struct {
	Posts, Clusters, Alerts Consumer
	Producer                Producer
	Topics                  Topics
	Store                   Writer
	BatchSize               int
	BatchWait               time.Duration
	Log                     *slog.Logger
	Stats                   *Stats
	// Expired, when set, gives the time before which posts are past
	// retention (Retention.Cutoff; zero = none). Such posts are not
	// written: a replay of the posts topic must not bring back what
	// retention deleted.
	Expired func() time.Time
}

func (s *Index) loop(c Consumer) *batcher {
	return &batcher{Consumer: c, Producer: s.Producer, DLQ: s.Topics.DeadLetter, Stage: "index",
		Size: s.BatchSize, Wait: s.BatchWait, Log: s.Log, Stats: s.Stats}
}

// RunPosts indexes the posts topic.
func (s *Index) RunPosts(ctx context.Context) error {
	return s.loop(s.Posts).run(ctx, func(ctx context.Context, batch []bus.Message) ([]rejected, error) {
		posts := make([]post.Post, 0, len(batch))
		msgs := make([]bus.Message, 0, len(batch))
		var bad []rejected
		var cut time.Time
		if s.Expired != nil {
			cut = s.Expired()
		}
		for _, m := range batch {
			p, err := post.DecodePost(bus.Source(m), m.Value)
			if err != nil {
				bad = append(bad, rejected{m, err})
				continue
			}
			if !cut.IsZero() && p.Time.Before(cut) {
				s.Stats.RetentionSkipped.Add(1)
				continue
			}
			posts = append(posts, p)
			msgs = append(msgs, m)
		}
		if err := s.Store.PutPosts(ctx, posts); err != nil {
			// A post is refused with its own document or its account's.
			more, err := refused(err, msgs, func(i int, r refusals) (string, bool) {
				if why, ok := r.Refused("post", posts[i].Key()); ok {
					return why, true
				}
				return r.Refused("account", posts[i].AuthorKey())
			})
			if err != nil {
				return nil, fmt.Errorf("index: put %d posts: %w", len(posts), err)
			}
			bad = append(bad, more...)
		}
		s.Stats.Indexed.Add(int64(len(posts)))
		return bad, nil
	})
}

// RunClusters indexes the clusters topic.
func (s *Index) RunClusters(ctx context.Context) error {
	return s.loop(s.Clusters).run(ctx, func(ctx context.Context, batch []bus.Message) ([]rejected, error) {
		// The latest update of each cluster in the batch is enough: the
		// store keeps the newest version anyway.
		byID := map[string]int{}
		var cs []post.Cluster
		var msgs []bus.Message // the message of each cluster's written version
		var bad []rejected
		for _, m := range batch {
			c, err := post.DecodeCluster(bus.Source(m), m.Value)
			if err != nil {
				bad = append(bad, rejected{m, err})
				continue
			}
			if i, ok := byID[c.ID]; ok {
				cs[i], msgs[i] = c, m
				continue
			}
			byID[c.ID] = len(cs)
			cs = append(cs, c)
			msgs = append(msgs, m)
		}
		if err := s.Store.PutClusters(ctx, cs); err != nil {
			more, err := refused(err, msgs, func(i int, r refusals) (string, bool) {
				return r.Refused("cluster", cs[i].ID)
			})
			if err != nil {
				return nil, fmt.Errorf("index: put %d clusters: %w", len(cs), err)
			}
			bad = append(bad, more...)
		}
		s.Stats.Indexed.Add(int64(len(cs)))
		return bad, nil
	})
}

// RunAlerts indexes the alerts topic.
func (s *Index) RunAlerts(ctx context.Context) error {
	return s.loop(s.Alerts).run(ctx, func(ctx context.Context, batch []bus.Message) ([]rejected, error) {
		var as []post.Alert
		var msgs []bus.Message
		var bad []rejected
		for _, m := range batch {
			a, err := post.DecodeAlert(bus.Source(m), m.Value)
			if err != nil {
				bad = append(bad, rejected{m, err})
				continue
			}
			as = append(as, a)
			msgs = append(msgs, m)
		}
		if err := s.Store.PutAlerts(ctx, as); err != nil {
			more, err := refused(err, msgs, func(i int, r refusals) (string, bool) {
				return r.Refused("alert", as[i].ID)
			})
			if err != nil {
				return nil, fmt.Errorf("index: put %d alerts: %w", len(as), err)
			}
			bad = append(bad, more...)
		}
		s.Stats.Indexed.Add(int64(len(as)))
		return bad, nil
	})
}
