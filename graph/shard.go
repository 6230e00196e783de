package graph

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// Scaling out (docs/scale-out.md). One engine finds co-actions and
// aggregates them into edges. To spread the first, costly half over many
// workers, the graph stage splits in two:
//
//   - pairing engines each receive only the actions routed to them, by
//     object (Routes, AddRouted), so every co-action pair is found on
//     exactly one of them, and hand each pair to a sink
//     (SetCoactionSink) instead of building edges;
//   - one aggregating engine receives every pair (AddCoaction), builds
//     the edges and runs community detection as a single engine would.
//
// An edge's weight, first/last times and evidence are set unions and
// order statistics over its co-actions, so pairs arriving from many
// pairing engines in any interleaving give the edges one engine gives.

// Coaction is one co-action found by a pairing engine: accounts A and B
// (A < B) acted on the same object of the given kind, with posts PostA and
// PostB at TimeA and TimeB.
type Coaction struct {
	Kind  post.Kind `json:"kind"`
	Key   string    `json:"key"`
	A     string    `json:"a"`
	B     string    `json:"b"`
	PostA string    `json:"post_a"`
	PostB string    `json:"post_b"`
	TimeA time.Time `json:"time_a"`
	TimeB time.Time `json:"time_b"`
}

// Routes of actions that are not paired by exact key: near-duplicate
// texts and perceptually hashed media are found through similarity
// indexes that must see every such action, so each has a single route.
// They are the two signals that do not spread over pairing workers.
const (
	routeText  = "text"
	routeMedia = "media"
)

// route is the partitioning key of an action: the object, for exact keys.
func (e *Engine) route(ak actKey) string {
	if ak.kind == post.KindMedia && e.mediaNear {
		if _, ok := parsePHash(ak.key); ok {
			return routeMedia
		}
	}
	return string(ak.kind) + "\x00" + ak.key
}

// Routes lists the distinct routes of a post's actions under this
// engine's configuration, in a deterministic order: the keys on which the
// post must be sent to pairing engines (AddRouted) so that every action
// on one object meets every other on one engine. A post with none cannot
// co-act and need not be sent.
func (e *Engine) Routes(p *post.Post) []string {
	keys := appendActionKeys(nil, p, e.kinds, e.cfg.HashtagSeqMin)
	// A post has a handful of actions: a linear check beats a map on
	// ingest's per-post path.
	out := make([]string, 0, len(keys)+1)
	for _, ak := range keys {
		if r := e.route(ak); !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	if e.textOn && p.RepostOf == "" && len(strings.Fields(p.Text)) >= max(1, e.cfg.TextMinWords) {
		out = append(out, routeText)
	}
	return out
}

// AddRouted is Add for a pairing engine: it adds only the actions of p
// whose route is route (one of Routes(p)). The same post arrives once per
// route, so duplicates are recognised by post key and route.
func (e *Engine) AddRouted(p *post.Post, route string) bool { return e.add(p, route, true) }

// SetCoactionSink makes e a pairing engine: every co-action goes to sink
// instead of into an edge. Set it before the first Add.
func (e *Engine) SetCoactionSink(sink func(Coaction)) { e.sink = sink }

// StreamTime is the latest event time the engine has seen (zero before
// the first post).
func (e *Engine) StreamTime() time.Time {
	if !e.started {
		return time.Time{}
	}
	return time.Unix(0, e.maxTime).UTC()
}

// At is when the co-action completed: the later of its two posts.
func (c *Coaction) At() time.Time {
	if c.TimeB.After(c.TimeA) {
		return c.TimeB
	}
	return c.TimeA
}

// coactionLess is the total order an aggregator applies co-actions in:
// by completion time, then by content, so the result never depends on how
// the outputs of several pairing engines interleaved.
func coactionLess(x, y *Coaction) int {
	if c := x.At().Compare(y.At()); c != 0 {
		return c
	}
	return cmp.Or(strings.Compare(string(x.Kind), string(y.Kind)), strings.Compare(x.Key, y.Key),
		strings.Compare(x.PostA, y.PostA), strings.Compare(x.PostB, y.PostB),
		strings.Compare(x.A, y.A), strings.Compare(x.B, y.B))
}

// CoactionQueue holds co-actions until the watermark says no earlier one
// can still arrive, then releases them in time order. A pairing engine
// never emits a co-action completed more than Lateness before its own
// stream time (the later post would have been rejected as late), so once
// every pairing engine has reached w, all co-actions before w-Lateness are
// in. Applying them in one total order makes the aggregator's edges —
// including an edge that lapses after WeakRetention and starts again — a
// function of the set of co-actions, not of their arrival.
type CoactionQueue struct {
	items []Coaction // a min-heap under coactionLess
}

// Push adds a co-action.
func (q *CoactionQueue) Push(c Coaction) {
	q.items = append(q.items, c)
	i := len(q.items) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if coactionLess(&q.items[i], &q.items[parent]) >= 0 {
			break
		}
		q.items[i], q.items[parent] = q.items[parent], q.items[i]
		i = parent
	}
}

// Len is the number of co-actions held.
func (q *CoactionQueue) Len() int { return len(q.items) }

// PopBefore hands every co-action completed before t to f, oldest first.
func (q *CoactionQueue) PopBefore(t time.Time, f func(Coaction)) {
	for len(q.items) > 0 && q.items[0].At().Before(t) {
		f(q.pop())
	}
}

// PopIfBefore removes and returns the oldest co-action if it completed
// before t.
func (q *CoactionQueue) PopIfBefore(t time.Time) (Coaction, bool) {
	if len(q.items) == 0 || !q.items[0].At().Before(t) {
		return Coaction{}, false
	}
	return q.pop(), true
}

// PopAll hands every co-action to f, oldest first (the input ended).
func (q *CoactionQueue) PopAll(f func(Coaction)) {
	for len(q.items) > 0 {
		f(q.pop())
	}
}

func (q *CoactionQueue) pop() Coaction {
	top := q.items[0]
	n := len(q.items) - 1
	q.items[0] = q.items[n]
	q.items = q.items[:n]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && coactionLess(&q.items[l], &q.items[m]) < 0 {
			m = l
		}
		if r < n && coactionLess(&q.items[r], &q.items[m]) < 0 {
			m = r
		}
		if m == i {
			return top
		}
		q.items[i], q.items[m] = q.items[m], q.items[i]
		i = m
	}
}

// Items returns the held co-actions (for a checkpoint); Restore puts
// them back.
func (q *CoactionQueue) Items() []Coaction { return slices.Clone(q.items) }

// Restore replaces the queue's content with items.
func (q *CoactionQueue) Restore(items []Coaction) {
	q.items = nil
	for _, c := range items {
		q.Push(c)
	}
}

// AddCoaction folds a co-action found by a pairing engine into the edges
// of this aggregating engine, whose stream time becomes the co-action's
// completion time if later. Give it co-actions in time order (see
// CoactionQueue). It returns false for a malformed co-action (unknown
// kind, an account paired with itself).
func (e *Engine) AddCoaction(c Coaction) bool {
	ki, ok := kindIndex(c.Kind)
	if !ok || c.A == "" || c.B == "" || c.A == c.B {
		return false
	}
	e.AdvanceTo(c.At())
	a, b := e.intern(c.A), e.intern(c.B)
	ta, tb := c.TimeA.UnixNano(), c.TimeB.UnixNano()
	pa, pb := c.PostA, c.PostB
	if c.A > c.B {
		a, b, ta, tb, pa, pb = b, a, tb, ta, pb, pa
	}
	e.stats.Pairs++
	e.aggregate(uint8(ki), objectHash(uint8(ki), c.Key), c.Key, a, b, ta, tb, pa, pb, e.maxTime)
	if e.maxTime >= e.nextSweep {
		e.sweep()
		e.nextSweep = e.maxTime + e.sweepGap
	}
	return true
}

// AdvanceTo moves an aggregating engine's stream time forward to t (never
// back), as the watermark passes t without co-actions.
func (e *Engine) AdvanceTo(t time.Time) {
	if t.IsZero() {
		return
	}
	n := t.UnixNano()
	if !e.started || n > e.maxTime {
		e.maxTime = n
		if !e.started {
			e.started = true
			e.nextSweep = n + e.sweepGap
		}
	}
}
