package pipeline

// The scaled-out graph stage (docs/scale-out.md). Posts are keyed by
// author, but a co-action joins two authors, so the work is split by
// object instead:
//
//	ingest ─┬─► posts (key: author) ──────────────────────────┐ (scorer)
//	        └─► actions (key: route = kind\0object) ──► Pair × N   │
//	                                                      │       ▼
//	      clusters ◄── Graph (aggregate + detect, 1 active) ◄── coactions
//
// Ingest writes a post's actions in the same produce call as the post, in
// source order (Ingest.Router). Pair scales out in a consumer group; every
// action on one object
// lands on one actions partition, which one Pair worker owns at a time, so
// each co-action pair is found exactly once. Graph, given a Coactions
// consumer, folds the pairs into edges in a total order (graph.CoactionQueue)
// and detects communities as the single-worker stage does.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/vigie-osint/vigie/bus"
	"github.com/vigie-osint/vigie/graph"
	"github.com/vigie-osint/vigie/post"
)

func durableFlush(flush func(context.Context) error) error {
	fctx, cancel := durableCtx()
	defer cancel()
	return flush(fctx)
}

// lastPerPartition lists the last record of each topic partition in msgs:
// committing it commits the ones before it.
func lastPerPartition(msgs []bus.Message) []bus.Message {
	last := map[[2]string]bus.Message{}
	for _, m := range msgs {
		last[[2]string{m.Topic, strconv.Itoa(m.Partition)}] = m
	}
	out := make([]bus.Message, 0, len(last))
	for _, m := range last {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b bus.Message) int {
		if a.Topic != b.Topic {
			if a.Topic < b.Topic {
				return -1
			}
			return 1
		}
		return a.Partition - b.Partition
	})
	return out
}

// CoactionRecord is a record of the coactions topic: a co-action found by
// the pairing engine of one actions partition (Src), with that engine's
// stream time after it (WM). A record without Coaction is a heartbeat:
// Pair sends one per owned partition at every flush, so the aggregator's
// watermark advances, and marks a partition Idle when nothing arrived on
// it since the last, so a finished or silent partition stops holding the
// watermark back.
//
// Next is the offset after the last actions record the sender processed.
// The aggregator takes a partition's stream time and idleness only from
// records whose Next is at least the highest it has seen: after a
// rebalance the old owner may still report a partition for a while, and
// the new one re-reads it from the commit point, behind the old one's
// position, without finding anything new until it passes that position.
type CoactionRecord struct {
	Src      int             `json:"src"`
	Next     int64           `json:"next"`
	WM       time.Time       `json:"wm"`
	Idle     bool            `json:"idle,omitempty"`
	Coaction *graph.Coaction `json:"c,omitempty"`
}

// pairPart is a Pair worker's state for one actions partition.
type pairPart struct {
	eng  *graph.Engine
	next int64 // offset expected next; another means the partition moved
	// emitted: the co-actions found on records before this offset were
	// produced (saved in a checkpoint so a new owner does not send them
	// again).
	emitted  int64
	saved    int64 // emitted as last saved
	queue    []offsetTime
	commited int64 // offset last committed (next to read)
	active   bool  // records arrived since the last heartbeat
	hwm      int64 // the partition's high watermark at the last fetch
}

type offsetTime struct {
	off int64
	t   int64
}

// Pair finds the co-actions of the actions partitions it owns, one
// pairing engine per partition: a partition holds every action on its
// objects in ingest order, so its engine sees what a single engine would
// see of those objects, with its own stream time (partitions that drift
// apart during a replay do not make each other's records late).
//
// It keeps no engine state: it commits, per partition, the offset of the
// oldest record still inside a window buffer (stream time minus Window and
// Lateness), so a restarted or new owner re-reads just enough to rebuild
// the buffers, and a checkpoint per partition records up to which offset
// the co-actions were already produced, so the re-read sends none twice.
type Pair struct {
	Consumer    Consumer // the actions topic
	Producer    Producer
	Topics      Topics
	Checkpoints Checkpoints
	// Graph configures the pairing engines.
	Graph graph.Config
	// Name keys the per-partition checkpoints. Default "pair".
	Name string
	// FlushEvery in wall time: co-actions are produced and offsets
	// committed at least this often. Default 1s.
	FlushEvery time.Duration
	// MaxPending co-actions trigger a flush. Default 5000.
	MaxPending int
	Log        *slog.Logger
	Stats      *Stats
}

func (s *Pair) checkpointName(partition int) string {
	n := s.Name
	if n == "" {
		n = "pair"
	}
	return fmt.Sprintf("%s:%s:%d", n, s.Topics.Actions, partition)
}

// Run pairs until ctx is done.
func (s *Pair) Run(ctx context.Context) error {
	if s.FlushEvery <= 0 {
		s.FlushEvery = time.Second
	}
	if s.MaxPending <= 0 {
		s.MaxPending = 5000
	}
	cfg, err := graph.New(s.Graph)
	if err != nil {
		return fmt.Errorf("pair: %w", err)
	}
	horizon := int64(cfg.Config().Window + cfg.Config().Lateness)
	parts := map[int]*pairPart{}
	var out []bus.Message
	var found []graph.Coaction
	lastFlush := time.Now()

	open := func(ctx context.Context, partition int, at int64) (*pairPart, error) {
		eng, err := graph.New(s.Graph)
		if err != nil {
			return nil, err
		}
		eng.SetCoactionSink(func(c graph.Coaction) { found = append(found, c) })
		pp := &pairPart{eng: eng, next: at, commited: at}
		data, err := s.Checkpoints.LoadCheckpoint(ctx, s.checkpointName(partition))
		switch {
		case err == nil:
			if pp.emitted, err = strconv.ParseInt(string(data), 10, 64); err != nil {
				return nil, fmt.Errorf("pair: checkpoint %s: %w", s.checkpointName(partition), err)
			}
			pp.saved = pp.emitted
		case isNotFound(err):
		default:
			return nil, fmt.Errorf("pair: load checkpoint: %w", err)
		}
		s.Log.Info("pair took a partition", "partition", partition, "offset", at, "emitted_before", pp.emitted)
		return pp, nil
	}

	flush := func(ctx context.Context) error {
		lastFlush = time.Now()
		ids := slices.Sorted(maps.Keys(parts))
		for _, p := range ids {
			pp := parts[p]
			// Idle: caught up with the partition's end and nothing new
			// since the last heartbeat. A partition merely slower to fetch
			// than the others is not idle: it holds the watermark back.
			idle := !pp.active && pp.next >= pp.hwm
			v, err := json.Marshal(CoactionRecord{Src: p, Next: pp.next, WM: pp.eng.StreamTime(), Idle: idle})
			if err != nil {
				return err
			}
			out = append(out, bus.Message{Topic: s.Topics.Coactions, Key: []byte("wm:" + strconv.Itoa(p)), Value: v})
			pp.active = false
		}
		if err := retryDurable(ctx, s.Log, s.Stats, "pair", "produce co-actions", func(ctx context.Context) error {
			return s.Producer.Produce(ctx, out...)
		}); err != nil {
			return err
		}
		s.Stats.Coactions.Add(int64(len(out) - len(ids)))
		out = out[:0]
		var commits []bus.Message
		for _, p := range ids {
			pp := parts[p]
			if pp.emitted > pp.saved {
				data := []byte(strconv.FormatInt(pp.emitted, 10))
				if err := retryDurable(ctx, s.Log, s.Stats, "pair", "save checkpoint", func(ctx context.Context) error {
					return s.Checkpoints.SaveCheckpoint(ctx, s.checkpointName(p), data)
				}); err != nil {
					return fmt.Errorf("pair: save checkpoint: %w", err)
				}
				pp.saved = pp.emitted
			}
			// Records older than the buffers' horizon can pair with nothing
			// to come: the commit point is the oldest record after them.
			cut := pp.eng.StreamTime().UnixNano() - horizon
			n := 0
			for n < len(pp.queue) && pp.queue[n].t < cut {
				n++
			}
			pp.queue = slices.Delete(pp.queue, 0, n)
			safe := pp.next
			if len(pp.queue) > 0 {
				safe = pp.queue[0].off
			}
			if safe > pp.commited && safe > 0 {
				commits = append(commits, bus.Message{Topic: s.Topics.Actions, Partition: p, Offset: safe - 1})
				pp.commited = safe
			}
		}
		if len(commits) > 0 {
			if err := s.Consumer.Commit(ctx, commits...); err != nil {
				return err
			}
		}
		return nil
	}

	for {
		fctx, cancel := context.WithTimeout(ctx, s.FlushEvery)
		m, err := s.Consumer.Fetch(fctx)
		cancel()
		if ctx.Err() != nil {
			return durableFlush(flush)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			if err := flush(ctx); err != nil {
				return stopOr(ctx, err, func() error { return nil })
			}
			continue
		}
		if err != nil {
			return err
		}
		pp := parts[m.Partition]
		if pp == nil || m.Offset != pp.next {
			// New to this worker, or back after another owned it, or
			// re-delivered from the commit point after a rebalance:
			// rebuild the buffers from here.
			if pp, err = open(ctx, m.Partition, m.Offset); err != nil {
				return err
			}
			parts[m.Partition] = pp
		}
		pp.active = true
		pp.hwm = m.HighWaterMark
		p, derr := post.DecodePost(bus.Source(m), m.Value)
		if derr != nil {
			s.Log.Warn("pair rejected a record", "err", derr)
			out = append(out, bus.DeadLetter(s.Topics.DeadLetter, "pair", m, derr))
			s.Stats.DeadLetters.Add(1)
		} else {
			found = found[:0]
			if pp.eng.AddRouted(&p, string(m.Key)) {
				pp.queue = append(pp.queue, offsetTime{off: m.Offset, t: p.Time.UnixNano()})
			}
			if m.Offset >= pp.emitted && len(found) > 0 {
				wm := pp.eng.StreamTime()
				for i := range found {
					c := found[i]
					v, err := json.Marshal(CoactionRecord{Src: m.Partition, Next: m.Offset + 1, WM: wm, Coaction: &c})
					if err != nil {
						return err
					}
					out = append(out, bus.Message{Topic: s.Topics.Coactions, Key: []byte(c.A + "\x00" + c.B), Value: v})
				}
			}
			s.Stats.Paired.Add(1)
		}
		pp.next = m.Offset + 1
		pp.emitted = max(pp.emitted, pp.next)
		if len(out) >= s.MaxPending || time.Since(lastFlush) >= s.FlushEvery {
			if err := flush(ctx); err != nil {
				return stopOr(ctx, err, func() error { return nil })
			}
		}
	}
}

// decodeCoaction reads a coactions record.
func decodeCoaction(m bus.Message) (CoactionRecord, error) {
	var r CoactionRecord
	dec := json.NewDecoder(bytes.NewReader(m.Value))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("coaction record %s: %w", bus.Source(m), err)
	}
	if r.Src < 0 || r.WM.IsZero() && !r.Idle {
		return r, fmt.Errorf("coaction record %s: field src/wm: missing or negative", bus.Source(m))
	}
	if c := r.Coaction; c != nil && (c.A == "" || c.B == "" || c.A == c.B || c.TimeA.IsZero() || c.TimeB.IsZero()) {
		return r, fmt.Errorf("coaction record %s: field c: accounts a and b must be two and times set", bus.Source(m))
	}
	return r, nil
}

// merged reads several consumers as one: a goroutine per consumer feeds a
// channel, and Commit sends each record back to the consumer of its topic.
type merged struct {
	ch      chan fetched
	byTopic map[string]Consumer
}

type fetched struct {
	m   bus.Message
	err error
}

// mergeConsumers starts reading cs (keyed by topic) until ctx ends.
func mergeConsumers(ctx context.Context, cs map[string]Consumer) *merged {
	mc := &merged{ch: make(chan fetched), byTopic: cs}
	for _, c := range cs {
		go func() {
			for {
				m, err := c.Fetch(ctx)
				if ctx.Err() != nil {
					return
				}
				select {
				case mc.ch <- fetched{m, err}:
				case <-ctx.Done():
					return
				}
				if err != nil {
					return
				}
			}
		}()
	}
	return mc
}

func (mc *merged) Fetch(ctx context.Context) (bus.Message, error) {
	select {
	case f := <-mc.ch:
		return f.m, f.err
	case <-ctx.Done():
		return bus.Message{}, ctx.Err()
	}
}

func (mc *merged) Commit(ctx context.Context, msgs ...bus.Message) error {
	by := map[string][]bus.Message{}
	for _, m := range msgs {
		by[m.Topic] = append(by[m.Topic], m)
	}
	for _, t := range slices.Sorted(maps.Keys(by)) {
		c := mc.byTopic[t]
		if c == nil {
			return fmt.Errorf("pipeline: commit to %s: no consumer reads it", t)
		}
		if err := c.Commit(ctx, by[t]...); err != nil {
			return err
		}
	}
	return nil
}
