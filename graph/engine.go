package graph

import (
	"hash/fnv"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// entry is one action kept in a key's buffer: who, when, and the post key
// to cite as evidence. seq is the arrival number and breaks time ties, so
// a buffer's order never depends on sort stability.
type entry struct {
	t    int64 // Unix nanoseconds
	seq  uint64
	acc  uint32
	post string
}

// keyBuf holds the recent actions on one object, oldest first.
type keyBuf struct {
	kind    uint8
	key     string
	hash    uint64
	entries []entry
}

// obj is one distinct object an edge's pair shared. The key string is the
// buffer's, so a weight-1 edge costs a string header, not a copy.
type obj struct {
	h   uint64 // objectHash: kind in the top byte
	t   int64  // event time the pair first completed a co-action on it
	key string
}

// evid is one co-action sample; A and B follow the edge's A < B.
type evid struct {
	kind         uint8
	key          string
	postA, postB string
	tA, tB       int64
}

// edge aggregates the co-actions of two accounts.
type edge struct {
	a, b        uint32 // account indices, name(a) < name(b)
	objs        []obj  // sorted by h; len(objs) is the weight
	first, last int64
	pairs       int64
	sumDelta    int64 // nanoseconds
	ev          []evid
}

// edgeBlock is an edge with room for its first object and evidence
// sample, allocated at once: 99% of edges never get a second object
// (facts.md), so this makes a new edge one allocation instead of three,
// which is most of what the garbage collector has to track.
type edgeBlock struct {
	edge
	obj0 [1]obj
	ev0  [1]evid
}

func newEdge(a, b uint32, first, last int64) *edge {
	blk := &edgeBlock{edge: edge{a: a, b: b, first: first, last: last}}
	blk.objs = blk.obj0[:0:1]
	blk.ev = blk.ev0[:0:1]
	return &blk.edge
}

func (ed *edge) weight() int { return len(ed.objs) }

// MaxEdgeObjects bounds the distinct objects one edge remembers: past it,
// the object the pair first shared longest ago is forgotten, so the
// weight saturates there. A pair that keeps co-acting never expires
// (Retention counts from its last co-action), and without a bound its
// object list grew for as long as it ran: two news bots co-share every
// article, hundreds a day, which the 10-minute load test (240 days of
// stream time) showed as a steady climb of the live heap. 1,000 is far
// above any weight that decides detection (MinWeight is a handful; the
// heaviest edges of the hard scenario hold 274 objects over four days).
const MaxEdgeObjects = 1000

// dropOldestObj forgets the object with the earliest completion time
// (ties: lowest hash), keeping objs sorted by hash: deterministic, so
// the same posts give the same edges.
func (ed *edge) dropOldestObj() {
	j := 0
	for i, o := range ed.objs {
		if o.t < ed.objs[j].t || (o.t == ed.objs[j].t && o.h < ed.objs[j].h) {
			j = i
		}
	}
	ed.objs = slices.Delete(ed.objs, j, j+1)
}

// since returns when the edge reached weight w in event time: the w-th
// earliest first co-action over its objects, or 0 if it has fewer. A
// cluster's ID comes from its edge that reached MinWeight first, which
// growth cannot change: an edge joining later reached it later. (The
// earliest edge by First can change: a pair that co-acted once long ago
// may reach MinWeight only after the cluster was reported.)
func (ed *edge) since(w int) int64 {
	if w <= 0 || len(ed.objs) < w {
		return 0
	}
	// Keep the w smallest times in a small sorted array: w is MinWeight,
	// a handful, while heavy edges hold thousands of objects.
	var buf [16]int64
	small := buf[:0]
	if w > len(buf) {
		small = make([]int64, 0, w)
	}
	for _, o := range ed.objs {
		if len(small) == w && o.t >= small[w-1] {
			continue
		}
		at, _ := slices.BinarySearch(small, o.t)
		if len(small) == w {
			small = small[:w-1]
		}
		small = slices.Insert(small, at, o.t)
	}
	return small[w-1]
}

// Engine is the streaming co-action graph. It is not safe for concurrent
// use: the pipeline feeds it from one goroutine, which keeps Add free of
// locks and its results a pure function of the post sequence.
//
// Memory stays bounded on an unbounded stream by five rules, each applied
// lazily when the state is touched (so results never depend on when
// cleanup runs) and enforced by a sweep, which only frees memory, every
// max(Window+Lateness, WeakRetention/4) of stream time (amortised, a few
// edge checks per post):
//
//   - a key's buffer keeps at most KeyCap actions, none older than
//     Window+Lateness before the latest event time; so do the buckets of
//     the near-duplicate text and media indexes (media buckets hold
//     mediaBucketFactor times more), which are swept more often (see
//     sweepNear);
//   - the seen-set keeps the keys of posts no older than Lateness before
//     the latest event time; older posts are rejected as late anyway, so
//     a replay of them is ignored without remembering them;
//   - an edge below MinWeight is forgotten WeakRetention after its last
//     co-action, an edge at or above it Retention after;
//   - an edge remembers at most MaxEdgeObjects objects, forgetting the one
//     its pair first shared longest ago (applied as the edge grows);
//   - an account is forgotten when no buffer entry or edge refers to it.
type Engine struct {
	cfg       Config
	kinds     []post.Kind
	window    int64
	lateness  int64
	retention int64
	weakRet   int64
	sweepGap  int64

	started   bool
	maxTime   int64
	nextSweep int64
	seq       uint64

	seen    map[string]int64
	bufs    map[string]*keyBuf
	edges   map[uint64]*edge
	strong  map[uint64]*edge
	accIdx  map[string]uint32
	accName []string
	accFree []uint32

	registry map[string]registered
	// built holds the clusters the last Detect built, by the digest of
	// their component's edges (detect.go): a component whose edges did
	// not change is not built again. Derived state, never snapshotted.
	built map[uint64]*builtCluster

	stats       counters
	lastDet     time.Duration
	lastDetSize int
	scratchK    []actKey

	// Near-duplicate text and media (neardup.go, imagehash.go). kinds
	// above leaves text out: texts are paired through the text index.
	text      nearIndex
	media     nearIndex
	textOn    bool // KindText is a signal
	mediaNear bool // perceptual media hashes pair within mediaDist bits
	bands     int  // LSH bands of rows signature slots
	rows      int
	textNeed  int // equal signature slots for a text match
	mediaDist int
	scratchB  []uint64
	scratchM  []nearMatch
	signer    signer
	// nextNearSweep is when sweepNear next runs. It is not snapshotted:
	// sweepNear only frees memory.
	nextNearSweep int64
	// sink, when set, receives co-actions instead of the edges (a pairing
	// engine of the scaled-out graph stage, see shard.go).
	sink func(Coaction)
}

// counters are the cumulative Stats figures, kept in snapshots.
type counters struct {
	Posts, Duplicates, Late, Actions, Pairs, PrunedEdges, Sweeps int64
}

// registered is an emitted cluster: active if the previous Detect
// returned it as active, else dormant (it was retired as merged or
// expired) until Retention after Retired. Dormant entries let a network
// that falls silent and comes back take its old ID again, and keep a
// retired ID from being handed to another cluster meanwhile.
type registered struct {
	Members   []string
	Platform  post.Platform
	FirstSeen time.Time
	LastSeen  time.Time
	Dormant   bool
	Retired   time.Time
}

// New returns an engine for cfg, with defaults applied.
func New(cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	e := &Engine{
		cfg:       cfg,
		kinds:     slices.DeleteFunc(slices.Clone(cfg.Signals), func(k post.Kind) bool { return k == post.KindText }),
		window:    int64(cfg.Window),
		lateness:  int64(cfg.Lateness),
		retention: int64(cfg.Retention),
		weakRet:   int64(cfg.WeakRetention),
		textOn:    slices.Contains(cfg.Signals, post.KindText),
		mediaNear: slices.Contains(cfg.Signals, post.KindMedia) && cfg.MediaMaxDistance >= 0,
		textNeed:  needAgreement(cfg.TextThreshold),
		mediaDist: cfg.MediaMaxDistance,
	}
	e.bands, e.rows = lshParams(cfg.TextThreshold)
	e.sweepGap = max(e.window+e.lateness, min(e.weakRet, e.retention)/4)
	e.reset()
	return e, nil
}

func (e *Engine) reset() {
	e.started = false
	e.maxTime, e.nextSweep, e.seq = 0, 0, 0
	e.seen = map[string]int64{}
	e.bufs = map[string]*keyBuf{}
	e.edges = map[uint64]*edge{}
	e.strong = map[uint64]*edge{}
	e.accIdx = map[string]uint32{}
	e.accName = nil
	e.accFree = nil
	e.registry = map[string]registered{}
	e.built = nil
	e.stats = counters{}
	e.text = newNearIndex(kindText, e.cfg.KeyCap)
	e.media = newNearIndex(kindMedia, e.cfg.KeyCap*mediaBucketFactor)
}

// Config returns the engine's configuration with defaults applied.
func (e *Engine) Config() Config {
	c := e.cfg
	c.Signals = slices.Clone(c.Signals)
	return c
}

// Add ingests one validated post. It returns false, changing nothing but
// counters, when the post was already added (same Key, as when a replay
// after a crash re-delivers it) or arrives more than Lateness behind the
// latest event time.
func (e *Engine) Add(p *post.Post) bool { return e.add(p, "", false) }

// add is Add, or with routed set only the post's actions whose Route is
// route (see AddRouted). The seen-set then holds the post key with the
// route, since one post arrives once per route.
func (e *Engine) add(p *post.Post, route string, routed bool) bool {
	t := p.Time.UnixNano()
	if e.started && t < e.maxTime-e.lateness {
		e.stats.Late++
		return false
	}
	pk := p.Key()
	sk := pk
	if routed {
		sk = pk + "\x00" + route
	}
	if _, dup := e.seen[sk]; dup {
		e.stats.Duplicates++
		return false
	}
	e.seen[sk] = t
	e.stats.Posts++
	if !e.started || t > e.maxTime {
		e.maxTime = t
		if !e.started {
			e.started = true
			e.nextSweep = t + e.sweepGap
		}
	}
	e.scratchK = appendActionKeys(e.scratchK[:0], p, e.kinds, e.cfg.HashtagSeqMin)
	if routed {
		e.scratchK = slices.DeleteFunc(e.scratchK, func(ak actKey) bool { return e.route(ak) != route })
	}
	var ts textSig
	hasText := false
	if e.textOn && p.RepostOf == "" && (!routed || route == routeText) { // as in Actions
		ts, hasText = e.signer.sign(p.Text, e.cfg.TextMinWords)
	}
	if len(e.scratchK) > 0 || hasText {
		acc := e.intern(p.AuthorKey())
		for _, ak := range e.scratchK {
			if ak.kind == post.KindMedia && e.mediaNear {
				if ph, ok := parsePHash(ak.key); ok {
					e.addMedia(ph, acc, t, pk)
					continue
				}
			}
			e.addAction(ak, acc, t, pk)
		}
		if hasText {
			e.addText(ts, acc, t, pk)
		}
	}
	if e.maxTime >= e.nextSweep {
		e.sweep()
		e.nextSweep = e.maxTime + e.sweepGap
	}
	if e.maxTime >= e.nextNearSweep {
		e.sweepNear()
	}
	return true
}

// intern returns the index of an account key, reusing freed indices so the
// account table does not grow with churn.
func (e *Engine) intern(name string) uint32 {
	if i, ok := e.accIdx[name]; ok {
		return i
	}
	var i uint32
	if n := len(e.accFree); n > 0 {
		i = e.accFree[n-1]
		e.accFree = e.accFree[:n-1]
		e.accName[i] = name
	} else {
		i = uint32(len(e.accName))
		e.accName = append(e.accName, name)
	}
	e.accIdx[name] = i
	return i
}

// objectHash identifies an object within an edge's distinct-object set:
// 64-bit FNV-1a (fixed, so snapshots and runs agree) of kind and key,
// with the kind index in the top byte so per-kind counts can be rebuilt
// from the set alone.
func objectHash(kind uint8, key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(allKinds[kind]))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return h.Sum64()&(1<<56-1) | uint64(kind)<<56
}

func bufKey(kind post.Kind, key string) string { return string(kind) + "\x00" + key }

func (e *Engine) addAction(ak actKey, acc uint32, t int64, pk string) {
	e.stats.Actions++
	bk := bufKey(ak.kind, ak.key)
	b := e.bufs[bk]
	if b == nil {
		ki, _ := kindIndex(ak.kind)
		b = &keyBuf{kind: uint8(ki), key: ak.key}
		b.hash = objectHash(b.kind, b.key)
		e.bufs[bk] = b
	}
	b.trim(e.maxTime - e.lateness - e.window)
	lo := sort.Search(len(b.entries), func(i int) bool { return b.entries[i].t >= t-e.window })
	for _, old := range b.entries[lo:] {
		if old.t > t+e.window {
			break
		}
		if old.acc == acc {
			continue
		}
		e.coact(b, acc, t, pk, old)
	}
	e.seq++
	ne := entry{t: t, seq: e.seq, acc: acc, post: pk}
	if len(b.entries) >= e.cfg.KeyCap {
		if t < b.entries[0].t {
			return // older than every kept action: it would be evicted first
		}
		b.entries = slices.Delete(b.entries, 0, 1)
	}
	// The new entry has the highest seq, so it goes after every entry with
	// the same time.
	at := sort.Search(len(b.entries), func(i int) bool { return b.entries[i].t > t })
	b.entries = slices.Insert(b.entries, at, ne)
}

// trim drops entries older than cutoff.
func (b *keyBuf) trim(cutoff int64) {
	n := 0
	for n < len(b.entries) && b.entries[n].t < cutoff {
		n++
	}
	if n > 0 {
		b.entries = slices.Delete(b.entries, 0, n)
	}
}

func pairKey(a, b uint32) uint64 { return uint64(a)<<32 | uint64(b) }

// expired tells whether an edge has outlived its retention at the current
// stream time. Edges are checked lazily with it, so whether the sweep has
// already freed an edge never changes a result.
func (e *Engine) expired(ed *edge) bool { return e.expiredAt(ed, e.maxTime) }

func (e *Engine) expiredAt(ed *edge, now int64) bool {
	if ed.weight() >= e.cfg.MinWeight {
		return ed.last < now-e.retention
	}
	return ed.last < now-e.weakRet
}

// coact records that account acc (post pk at t) and old acted alike on b.
func (e *Engine) coact(b *keyBuf, acc uint32, t int64, pk string, old entry) {
	e.coactOn(b.kind, b.hash, b.key, acc, t, pk, old)
}

// coactOn records that account acc (post pk at t) and old acted alike on
// the object of the given kind, hash and key.
func (e *Engine) coactOn(kind uint8, hash uint64, key string, acc uint32, t int64, pk string, old entry) {
	e.stats.Pairs++
	a, bb := acc, old.acc
	ta, tb := t, old.t
	pa, pb := pk, old.post
	if e.accName[a] > e.accName[bb] {
		a, bb, ta, tb, pa, pb = bb, a, tb, ta, pb, pa
	}
	if e.sink != nil {
		e.sink(Coaction{Kind: allKinds[kind], Key: key, A: e.accName[a], B: e.accName[bb], PostA: pa, PostB: pb,
			TimeA: time.Unix(0, ta).UTC(), TimeB: time.Unix(0, tb).UTC()})
		return
	}
	e.aggregate(kind, hash, key, a, bb, ta, tb, pa, pb, e.maxTime)
}

// aggregate folds one co-action, with a < b by name, into the pair's edge.
// now is the stream time at which an existing edge is checked for expiry.
func (e *Engine) aggregate(kind uint8, hash uint64, key string, a, bb uint32, ta, tb int64, pa, pb string, now int64) {
	k := pairKey(a, bb)
	ed := e.edges[k]
	if ed != nil && e.expiredAt(ed, now) {
		e.dropEdge(k, ed)
		ed = nil
	}
	if ed == nil {
		ed = newEdge(a, bb, min(ta, tb), max(ta, tb))
		e.edges[k] = ed
	}
	ed.first = min(ed.first, ta, tb)
	ed.last = max(ed.last, ta, tb)
	ed.pairs++
	dt := ta - tb
	if dt < 0 {
		dt = -dt
	}
	ed.sumDelta += dt
	i, found := slices.BinarySearchFunc(ed.objs, hash, func(o obj, h uint64) int {
		switch {
		case o.h < h:
			return -1
		case o.h > h:
			return 1
		}
		return 0
	})
	done := max(ta, tb)
	if found {
		ed.objs[i].t = min(ed.objs[i].t, done)
	} else {
		ed.objs = slices.Insert(ed.objs, i, obj{h: hash, t: done, key: key})
		if ed.weight() == e.cfg.MinWeight {
			e.strong[k] = ed
		}
		if len(ed.objs) > MaxEdgeObjects {
			ed.dropOldestObj()
		}
	}
	e.addEvidence(ed, evid{kind: kind, key: key, postA: pa, postB: pb, tA: ta, tB: tb})
}

// evidLess orders evidence by when the co-action began, then by object
// and posts: a total order, so keeping the first MaxEvidence gives the
// same samples whatever order the posts arrived in.
func evidLess(x, y *evid) bool {
	if tx, ty := min(x.tA, x.tB), min(y.tA, y.tB); tx != ty {
		return tx < ty
	}
	if x.kind != y.kind {
		return x.kind < y.kind
	}
	if x.key != y.key {
		return x.key < y.key
	}
	if x.postA != y.postA {
		return x.postA < y.postA
	}
	return x.postB < y.postB
}

func (e *Engine) addEvidence(ed *edge, v evid) {
	n := e.cfg.MaxEvidence
	i := sort.Search(len(ed.ev), func(i int) bool { return !evidLess(&ed.ev[i], &v) })
	if i >= n {
		return
	}
	if i < len(ed.ev) && ed.ev[i] == v {
		return
	}
	ed.ev = slices.Insert(ed.ev, i, v)
	if len(ed.ev) > n {
		ed.ev = ed.ev[:n]
	}
}

func (e *Engine) dropEdge(k uint64, ed *edge) {
	delete(e.edges, k)
	delete(e.strong, k)
	e.stats.PrunedEdges++
}

// sweep frees what can no longer change a result: stale buffer entries,
// seen-set entries of posts that would now be rejected as late, expired
// edges and accounts nothing refers to.
func (e *Engine) sweep() {
	e.stats.Sweeps++
	bufCut := e.maxTime - e.lateness - e.window
	used := make([]bool, len(e.accName))
	for k, b := range e.bufs {
		b.trim(bufCut)
		if len(b.entries) == 0 {
			delete(e.bufs, k)
			continue
		}
		if cap(b.entries) > 2*len(b.entries)+8 {
			b.entries = slices.Clip(slices.Clone(b.entries))
		}
		for _, en := range b.entries {
			used[en.acc] = true
		}
	}
	e.text.sweep(bufCut, used)
	e.media.sweep(bufCut, used)
	seenCut := e.maxTime - e.lateness
	for k, t := range e.seen {
		if t < seenCut {
			delete(e.seen, k)
		}
	}
	for k, ed := range e.edges {
		if e.expired(ed) {
			e.dropEdge(k, ed)
			continue
		}
		used[ed.a] = true
		used[ed.b] = true
	}
	for i, u := range used {
		if !u && e.accName[i] != "" {
			delete(e.accIdx, e.accName[i])
			e.accName[i] = ""
			e.accFree = append(e.accFree, uint32(i))
		}
	}
	// Hand out low indices first; the order is deterministic either way.
	slices.SortFunc(e.accFree, func(x, y uint32) int { return int(y) - int(x) })
}

// toEdge converts an internal edge to the model's, evidence included.
func (e *Engine) toEdge(ed *edge) post.Edge {
	out := post.Edge{
		A:       e.accName[ed.a],
		B:       e.accName[ed.b],
		Weight:  ed.weight(),
		Signals: map[post.Kind]int{},
		First:   time.Unix(0, ed.first).UTC(),
		Last:    time.Unix(0, ed.last).UTC(),
		Extra:   map[string]any{"co_actions": ed.pairs},
	}
	if ed.weight() >= e.cfg.MinWeight {
		out.Extra["since"] = time.Unix(0, ed.since(e.cfg.MinWeight)).UTC()
	}
	for _, o := range ed.objs { // per-kind counts come from the hashes' top byte
		out.Signals[allKinds[o.h>>56]]++
	}
	if ed.pairs > 0 {
		out.MeanDelta = float64(ed.sumDelta) / float64(ed.pairs) / 1e9
	}
	if len(ed.ev) > 0 {
		out.Evidence = make([]post.Evidence, len(ed.ev))
		for i, v := range ed.ev {
			out.Evidence[i] = post.Evidence{
				Kind:  allKinds[v.kind],
				Key:   v.key,
				PostA: v.postA,
				PostB: v.postB,
				TimeA: time.Unix(0, v.tA).UTC(),
				TimeB: time.Unix(0, v.tB).UTC(),
			}
		}
	}
	return out
}

// Edges returns the live edges of weight >= minWeight, sorted by A then B.
// Extra["co_actions"] holds the number of co-action pairs behind the edge
// (the Coordination Network Toolkit's weight), which unlike Weight counts
// an object shared twice twice; Extra["since"], on edges of weight >=
// MinWeight, the event time the edge reached MinWeight.
func (e *Engine) Edges(minWeight int) []post.Edge {
	src := e.edges
	if minWeight >= e.cfg.MinWeight {
		src = e.strong
	}
	var list []*edge
	for _, ed := range src {
		if ed.weight() >= minWeight && !e.expired(ed) {
			list = append(list, ed)
		}
	}
	slices.SortFunc(list, func(x, y *edge) int {
		if c := strings.Compare(e.accName[x.a], e.accName[y.a]); c != 0 {
			return c
		}
		return strings.Compare(e.accName[x.b], e.accName[y.b])
	})
	out := make([]post.Edge, len(list))
	for i, ed := range list {
		out[i] = e.toEdge(ed)
	}
	return out
}

// Stats describes the engine's state and work so far.
type Stats struct {
	Posts          int64         // posts accepted
	Duplicates     int64         // posts ignored as already added
	Late           int64         // posts ignored as later than Lateness
	Actions        int64         // actions derived from accepted posts
	Pairs          int64         // co-action pairs recorded
	PrunedEdges    int64         // edges forgotten after their retention
	Sweeps         int64         // cleanup sweeps run
	Edges          int           // edges held
	StrongEdges    int           // edges held with weight >= MinWeight
	Accounts       int           // accounts held
	WindowKeys     int           // objects with a buffer of recent actions
	WindowActions  int           // actions held in those buffers
	NearBuckets    int           // buckets of the near-duplicate text and media indexes
	NearActions    int           // text and media actions held in them
	SeenPosts      int           // post keys held for duplicate detection
	StreamTime     time.Time     // latest event time seen
	LastDetect     time.Duration // wall-clock duration of the last Detect
	LastDetectSize int           // edges given to the last community detection
	Clusters       int           // clusters active after the last Detect
}

// Stats returns current figures. It walks the buffers, so call it at
// reporting intervals, not per post.
func (e *Engine) Stats() Stats {
	s := Stats{
		Posts:       e.stats.Posts,
		Duplicates:  e.stats.Duplicates,
		Late:        e.stats.Late,
		Actions:     e.stats.Actions,
		Pairs:       e.stats.Pairs,
		PrunedEdges: e.stats.PrunedEdges,
		Sweeps:      e.stats.Sweeps,
		Edges:       len(e.edges),
		StrongEdges: len(e.strong),
		Accounts:    len(e.accIdx),
		WindowKeys:  len(e.bufs),
		SeenPosts:   len(e.seen),
		LastDetect:  e.lastDet,
	}
	for _, r := range e.registry {
		if !r.Dormant {
			s.Clusters++
		}
	}
	s.LastDetectSize = e.lastDetSize
	for _, b := range e.bufs {
		s.WindowActions += len(b.entries)
	}
	s.NearBuckets = len(e.text.buckets) + len(e.media.buckets)
	nearCut := e.maxTime - e.lateness - e.window
	s.NearActions = len(e.text.live(nearCut)) + len(e.media.live(nearCut))
	if e.started {
		s.StreamTime = time.Unix(0, e.maxTime).UTC()
	}
	return s
}
