package pipeline

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/bus"
	"github.com/vigie-osint/vigie/graph"
	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/scoring"
)

// Graph consumes posts, builds the co-action graph and emits scored
// clusters. It is stateful, so it checkpoints: the engine's snapshot is
// saved to the store first, then the input offsets are committed. After a
// crash the worker restores the snapshot and re-reads from the committed
// offsets; records it had already folded into the snapshot are recognised
// by post key and change nothing, so the restarted worker reaches the
// clusters an uninterrupted one would.
//
// Detection runs whenever stream (event) time crosses a DetectEvery
// boundary — deterministic for a given input order — and when the input
// goes idle, so the last clusters of a finished replay are not held back.
type Graph struct {
	Consumer Consumer
	// Coactions, when set, makes this the aggregating stage of the
	// scaled-out graph (scaleout.go): edges are built from the co-actions
	// the Pair workers found, and Consumer (the posts topic) feeds only
	// the scorer. Run exactly one such worker per deployment.
	Coactions Consumer
	// Sources is the number of partitions of the actions topic: the
	// aggregating stage folds nothing in until each has reported its
	// stream time, or until MissingSourceGrace has passed since the first
	// co-action record (a partition without any record never reports).
	Sources int
	// MissingSourceGrace: default 30s of wall time.
	MissingSourceGrace time.Duration
	// IdleGrace: an actions partition reported idle is left out of the
	// watermark only after this much wall time. Default 5s.
	IdleGrace   time.Duration
	Producer    Producer
	Topics      Topics
	Checkpoints Checkpoints
	Engine      *graph.Engine
	Scoring     scoring.Config
	// Name keys the checkpoint; one per consumer group. Default "graph".
	Name string
	// DetectEvery in stream time. Default 30m.
	DetectEvery time.Duration
	// CheckpointEvery in wall time. Default 5s.
	CheckpointEvery time.Duration
	// IdleAfter: no record for this long counts as idle. Default 1s.
	IdleAfter time.Duration
	Log       *slog.Logger
	Stats     *Stats
}

// graphCheckpoint is what the graph stage saves: the engine's state and
// where the stage stands in stream time.
type graphCheckpoint struct {
	Version    int
	NextDetect time.Time
	Dirty      bool // posts were added since the last detection
	Engine     []byte
	// Scoring is the scorer's state (per-account features, hashtag
	// stance, cluster sizes): without it a restarted stage would score
	// bot-likeness and stance from the restart on only.
	Scoring []byte
	// Emitted maps each cluster ID to a hash of the content last emitted
	// for it, so an unchanged cluster is not sent again at every detection.
	Emitted map[string]uint64
	// The aggregating stage's input state: co-actions waiting for the
	// watermark, and each actions partition's stream time and idleness.
	Queue   []graph.Coaction
	SrcWM   map[int]time.Time
	SrcIdle map[int]bool
	SrcNext map[int]int64
	// Frontier: every co-action completed before it has been folded in;
	// one arriving now is a re-delivery (a Pair worker re-reading after a
	// crash or a rebalance) and is dropped. Last is the co-action folded
	// in last, so a duplicate still in the queue is recognised too.
	Frontier time.Time
	Last     graph.Coaction
}

// Bounds on one cluster record (see post.Cluster.EdgeCount).
const (
	MaxWireEdges         = 1000 // edges carried, strongest first
	MaxWireEvidenceEdges = 200  // of those, how many keep their evidence
)

func (s *Graph) checkpointName() string {
	if s.Name == "" {
		return "graph"
	}
	return "graph:" + s.Name
}

// Run consumes until ctx is done, then saves a final checkpoint.
func (s *Graph) Run(ctx context.Context) error {
	if s.DetectEvery <= 0 {
		s.DetectEvery = 30 * time.Minute
	}
	if s.CheckpointEvery <= 0 {
		s.CheckpointEvery = 5 * time.Second
	}
	if s.IdleAfter <= 0 {
		s.IdleAfter = time.Second
	}
	if s.MissingSourceGrace <= 0 {
		s.MissingSourceGrace = 30 * time.Second
	}
	if s.IdleGrace <= 0 {
		s.IdleGrace = 5 * time.Second
	}
	scorer, err := scoring.New(s.Scoring)
	if err != nil {
		return fmt.Errorf("graph: scoring: %w", err)
	}
	var st graphCheckpoint
	data, err := s.Checkpoints.LoadCheckpoint(ctx, s.checkpointName())
	switch {
	case err == nil:
		if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&st); err != nil {
			return fmt.Errorf("graph: decode checkpoint: %w", err)
		}
		if err := s.Engine.Restore(bytes.NewReader(st.Engine)); err != nil {
			return fmt.Errorf("graph: restore checkpoint: %w", err)
		}
		if len(st.Scoring) > 0 {
			if err := scorer.Restore(bytes.NewReader(st.Scoring)); err != nil {
				return fmt.Errorf("graph: restore checkpoint: %w", err)
			}
		}
		st.Engine, st.Scoring = nil, nil // restored; st.Queue is read below
		s.Log.Info("graph restored its checkpoint", "posts", s.Engine.Stats().Posts, "next_detect", st.NextDetect)
		s.Stats.EnginePosts.Store(s.Engine.Stats().Posts)
	case isNotFound(err):
	default:
		return fmt.Errorf("graph: load checkpoint: %w", err)
	}

	in := s.Consumer
	var queue graph.CoactionQueue
	if s.Coactions != nil {
		in = mergeConsumers(ctx, map[string]Consumer{s.Topics.Posts: s.Consumer, s.Topics.Coactions: s.Coactions})
		queue.Restore(st.Queue)
		st.Queue = nil
		if st.SrcWM == nil {
			st.SrcWM, st.SrcIdle = map[int]time.Time{}, map[int]bool{}
		}
		if st.SrcNext == nil {
			st.SrcNext = map[int]int64{}
		}
	}
	lateness := s.Engine.Config().Lateness
	// pending holds the last fetched, uncommitted record of each topic
	// partition: committing it commits everything before it there.
	pending := map[string]bus.Message{}
	var dead []bus.Message
	lastCheckpoint := time.Now()
	// checkpointGap is CheckpointEvery, or ten times what the last
	// checkpoint took if that is longer: the state is written whole, and
	// at millions of posts it takes seconds, which at a fixed 5 s cadence
	// left the stage writing checkpoints most of the time (measured by
	// the load test: 2,600 posts/s fell to 900). Committing less often
	// only means re-reading more after a crash.
	checkpointGap := s.CheckpointEvery

	emit := func(ctx context.Context) error {
		clusters := s.Engine.Detect()
		scorer.Detect()
		s.Stats.LastDetectNS.Store(int64(s.Engine.Stats().LastDetect))
		if len(clusters) == 0 {
			st.Dirty = false
			return nil
		}
		if st.Emitted == nil {
			st.Emitted = map[string]uint64{}
		}
		msgs := make([]bus.Message, 0, len(clusters))
		hashes := map[string]uint64{}
		for i := range clusters {
			c := &clusters[i]
			if c.Status == post.StatusActive {
				scorer.ScoreCluster(c)
			} else {
				scorer.Forget(c.ID)
			}
			trimForWire(c)
			h, err := contentHash(c)
			if err != nil {
				return err
			}
			if st.Emitted[c.ID] == h {
				continue // unchanged since it was last sent
			}
			hashes[c.ID] = h
			v, err := post.Marshal(c)
			if err != nil {
				return fmt.Errorf("graph: encode cluster %s: %w", c.ID, err)
			}
			msgs = append(msgs, bus.Message{Topic: s.Topics.Clusters, Key: []byte(c.ID), Value: v})
		}
		if err := retryDurable(ctx, s.Log, s.Stats, "graph", "produce clusters", func(ctx context.Context) error {
			return s.Producer.Produce(ctx, msgs...)
		}); err != nil {
			return err
		}
		// Only now is the detection done: if the produce failed, Dirty
		// stays set and the next detection (after a restart, too) emits.
		st.Dirty = false
		for id, h := range hashes {
			st.Emitted[id] = h
		}
		s.Stats.Clusters.Add(int64(len(msgs)))
		s.Stats.Active.Store(int64(s.Engine.Stats().Clusters))
		return nil
	}
	// checkpoint makes everything fetched so far durable, in order: dead
	// letters produced, engine state saved, then offsets committed.
	checkpoint := func(ctx context.Context) error {
		lastCheckpoint = time.Now()
		s.Stats.Window.set(s.Engine.Stats())
		if len(pending) == 0 {
			return nil
		}
		if len(dead) > 0 {
			if err := retryDurable(ctx, s.Log, s.Stats, "graph", "produce dead letters", func(ctx context.Context) error {
				return s.Producer.Produce(ctx, dead...)
			}); err != nil {
				return err
			}
			s.Stats.DeadLetters.Add(int64(len(dead)))
			dead = dead[:0]
		}
		var eng bytes.Buffer
		if err := s.Engine.Snapshot(&eng); err != nil {
			return fmt.Errorf("graph: snapshot: %w", err)
		}
		st.Version = 1
		st.Engine = eng.Bytes()
		st.Queue = queue.Items()
		sc, err := scorer.SnapshotBytes()
		if err != nil {
			return fmt.Errorf("graph: %w", err)
		}
		st.Scoring = sc
		var buf bytes.Buffer
		err = gob.NewEncoder(&buf).Encode(&st)
		// The snapshots live on in buf only: st outlives the checkpoint,
		// and holding them there kept a copy of the whole state alive
		// between checkpoints (71 MB of the load test's live heap).
		st.Engine, st.Scoring, st.Queue = nil, nil, nil
		if err != nil {
			return fmt.Errorf("graph: encode checkpoint: %w", err)
		}
		if err := retryDurable(ctx, s.Log, s.Stats, "graph", "save checkpoint", func(ctx context.Context) error {
			return s.Checkpoints.SaveCheckpoint(ctx, s.checkpointName(), buf.Bytes())
		}); err != nil {
			return fmt.Errorf("graph: save checkpoint: %w", err)
		}
		if err := in.Commit(ctx, lastOfEachTP(pending)...); err != nil {
			return err
		}
		clear(pending)
		checkpointGap = max(s.CheckpointEvery, 10*time.Since(lastCheckpoint))
		s.Stats.CheckpointNS.Store(int64(time.Since(lastCheckpoint)))
		return nil
	}
	final := func() error {
		fctx, cancel := durableCtx()
		defer cancel()
		if err := checkpoint(fctx); err != nil {
			return fmt.Errorf("graph: final checkpoint: %w", err)
		}
		es := s.Engine.Stats()
		s.Log.Info("graph stopped", "posts", es.Posts, "duplicates", es.Duplicates, "late", es.Late,
			"edges", es.Edges, "strong_edges", es.StrongEdges, "stream_time", es.StreamTime)
		if s.Coactions != nil {
			s.Log.Info("graph aggregated co-actions", "folded", s.Stats.Aggregated.Load(), "duplicates", s.Stats.DuplicateCoactions.Load(),
				"queued", queue.Len(), "sources", len(st.SrcWM), "frontier", st.Frontier)
		}
		return nil
	}

	// at runs a detection first if t crosses the next DetectEvery
	// boundary, so a detection covers exactly what came before it.
	at := func(ctx context.Context, t time.Time) error {
		if st.NextDetect.IsZero() {
			st.NextDetect = t.Truncate(s.DetectEvery).Add(s.DetectEvery)
		}
		if !t.Before(st.NextDetect) {
			if st.Dirty {
				if err := emit(ctx); err != nil {
					return err
				}
			}
			st.NextDetect = t.Truncate(s.DetectEvery).Add(s.DetectEvery)
		}
		return nil
	}
	// release folds the co-actions the watermark has passed into the
	// edges, in time order; all of them once every partition is idle.
	var firstSource time.Time
	// idleSince: wall time each idle partition first said so (restored
	// idle partitions start their grace now).
	idleSince := map[int]time.Time{}
	for src, idle := range st.SrcIdle {
		if idle {
			idleSince[src] = time.Now()
		}
	}
	release := func(ctx context.Context) error {
		if firstSource.IsZero() {
			firstSource = time.Now()
		}
		if len(st.SrcWM) < s.Sources && time.Since(firstSource) < s.MissingSourceGrace {
			return nil
		}
		// A partition counts as idle only once it has said so for
		// IdleGrace: just after a rebalance its old owner may still
		// report it idle while the new owner is re-reading it.
		wm, idle := watermark(st.SrcWM, func(src int) bool {
			return st.SrcIdle[src] && time.Since(idleSince[src]) >= s.IdleGrace
		})
		if wm.IsZero() {
			return nil
		}
		before := wm.Add(-lateness)
		if idle {
			before = wm.Add(time.Nanosecond)
		}
		if before.After(st.Frontier) {
			st.Frontier = before
		}
		for {
			c, ok := queue.PopIfBefore(before)
			if !ok {
				break
			}
			if c == st.Last {
				s.Stats.DuplicateCoactions.Add(1)
				continue
			}
			st.Last = c
			if err := at(ctx, c.At()); err != nil {
				return err
			}
			if s.Engine.AddCoaction(c) {
				st.Dirty = true
				s.Stats.Aggregated.Add(1)
			}
		}
		if idle && queue.Len() == 0 {
			s.Engine.AdvanceTo(wm)
		}
		return nil
	}

	for {
		fctx, cancel := context.WithTimeout(ctx, s.IdleAfter)
		m, err := in.Fetch(fctx)
		cancel()
		if ctx.Err() != nil {
			return final()
		}
		if errors.Is(err, context.DeadlineExceeded) {
			if s.Coactions != nil {
				if err := release(ctx); err != nil {
					return stopOr(ctx, err, final)
				}
			}
			if st.Dirty {
				if err := emit(ctx); err != nil {
					return stopOr(ctx, err, final)
				}
			}
			if err := checkpoint(ctx); err != nil {
				return stopOr(ctx, err, final)
			}
			continue
		}
		if err != nil {
			return err
		}
		switch {
		case s.Coactions != nil && m.Topic == s.Topics.Coactions:
			r, derr := decodeCoaction(m)
			if derr != nil {
				s.Log.Warn("graph rejected a record", "err", derr)
				dead = append(dead, bus.DeadLetter(s.Topics.DeadLetter, "graph", m, derr))
				break
			}
			if r.Next >= st.SrcNext[r.Src] {
				st.SrcNext[r.Src] = r.Next
				if r.WM.After(st.SrcWM[r.Src]) {
					st.SrcWM[r.Src] = r.WM
				}
				if r.Idle && !st.SrcIdle[r.Src] {
					idleSince[r.Src] = time.Now()
				}
				st.SrcIdle[r.Src] = r.Idle
			}
			switch c := r.Coaction; {
			case c == nil:
			case c.At().Before(st.Frontier):
				s.Stats.DuplicateCoactions.Add(1)
			default:
				queue.Push(*c)
			}
			if err := release(ctx); err != nil {
				return stopOr(ctx, err, final)
			}
		default:
			p, derr := post.DecodePost(bus.Source(m), m.Value)
			if derr != nil {
				s.Log.Warn("graph rejected a record", "err", derr)
				dead = append(dead, bus.DeadLetter(s.Topics.DeadLetter, "graph", m, derr))
				break
			}
			if s.Coactions != nil {
				// Aggregating stage: posts only feed the scorer.
				scorer.Observe(&p)
				s.Stats.EnginePosts.Add(1)
			} else {
				// Detect before adding the first post past the boundary,
				// so a detection covers exactly the posts before it.
				if err := at(ctx, p.Time); err != nil {
					return stopOr(ctx, err, final)
				}
				if s.Engine.Add(&p) {
					scorer.Observe(&p)
					st.Dirty = true
					s.Stats.EnginePosts.Add(1)
				}
			}
			s.Stats.Graphed.Add(1)
		}
		// Only now is m part of the state a checkpoint saves: marking it
		// earlier would let a stop during the detection above commit a
		// post the engine never saw.
		pending[m.Topic+"/"+strconv.Itoa(m.Partition)] = m
		if time.Since(lastCheckpoint) >= checkpointGap {
			if err := checkpoint(ctx); err != nil {
				return stopOr(ctx, err, final)
			}
		}
	}
}

// lastOfEach lists the pending records in partition order.
func lastOfEach(pending map[int]bus.Message) []bus.Message {
	out := make([]bus.Message, 0, len(pending))
	for _, m := range pending {
		out = append(out, m)
	}
	return lastPerPartition(out)
}

// lastOfEachTP lists the pending records in topic and partition order.
func lastOfEachTP(pending map[string]bus.Message) []bus.Message {
	out := make([]bus.Message, 0, len(pending))
	for _, m := range pending {
		out = append(out, m)
	}
	return lastPerPartition(out)
}

// watermark is the stream time every active actions partition has
// reached: the least over those not idle, or, when all are idle, the
// greatest (idle reports whether all are).
func watermark(wm map[int]time.Time, idleOf func(src int) bool) (time.Time, bool) {
	var low, high time.Time
	idle := true
	for src, t := range wm {
		if t.After(high) {
			high = t
		}
		if idleOf(src) {
			continue
		}
		idle = false
		if low.IsZero() || t.Before(low) {
			low = t
		}
	}
	if idle {
		return high, true
	}
	return low, false
}

// trimForWire bounds a cluster record: the strongest MaxWireEdges edges
// (weight, then pair, so the choice is deterministic), evidence on the
// first MaxWireEvidenceEdges of them. Scores are computed before, on all
// edges; EdgeCount keeps the true number.
func trimForWire(c *post.Cluster) {
	c.EdgeCount = len(c.Edges)
	if len(c.Edges) <= MaxWireEvidenceEdges {
		return
	}
	edges := slices.Clone(c.Edges)
	slices.SortStableFunc(edges, func(a, b post.Edge) int {
		if a.Weight != b.Weight {
			return b.Weight - a.Weight
		}
		if a.A != b.A {
			return strings.Compare(a.A, b.A)
		}
		return strings.Compare(a.B, b.B)
	})
	if len(edges) > MaxWireEdges {
		edges = edges[:MaxWireEdges]
	}
	for i := MaxWireEvidenceEdges; i < len(edges); i++ {
		edges[i].Evidence = nil
	}
	c.Edges = edges
}

// contentHash identifies what a cluster record says, leaving out the
// detection time, which changes at every detection. For a cluster that
// Detect digested (GraphDigest), the digest stands for the parts built
// from the edges (trimForWire is a function of them), and only the rest
// (ID, status, scores, stance) is encoded: encoding every edge of every
// cluster at each detection was a third of the graph stage's time.
func contentHash(c *post.Cluster) (uint64, error) {
	cp := *c
	cp.Detected = time.Time{}
	if cp.GraphDigest != 0 {
		cp.Members, cp.Edges, cp.Signals, cp.TopObjects, cp.Posts = nil, nil, nil, nil, nil
		cp.Extra = maps.Clone(cp.Extra)
		delete(cp.Extra, "binding")
	}
	b, err := json.Marshal(&cp)
	if err != nil {
		return 0, fmt.Errorf("graph: hash cluster %s: %w", c.ID, err)
	}
	h := fnv.New64a()
	if cp.GraphDigest != 0 {
		var d [8]byte
		binary.LittleEndian.PutUint64(d[:], cp.GraphDigest)
		h.Write(d[:])
	}
	h.Write(b)
	return h.Sum64(), nil
}

// stopOr tells a failure from a stop: when ctx ended, err is only the
// interrupted write, and the stage makes its final checkpoint instead.
func stopOr(ctx context.Context, err error, final func() error) error {
	if ctx.Err() != nil {
		return final()
	}
	return err
}
