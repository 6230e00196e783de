package graph

import (
	"cmp"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// Snapshot format. The header is decoded first so a snapshot of another
// format is refused with a clear error instead of a gob type mismatch or,
// worse, a silently partial state. Version 2 added the near-duplicate
// text and media indexes; a version 1 snapshot lacks them, and its text
// buffers hold exact-match keys, so it is refused too. Version 3 added
// dormant (retired) clusters to the registry; a version 2 snapshot is
// read as one whose registry holds active clusters only, which is what
// it held.
const (
	snapshotMagic   = "vigie/graph"
	SnapshotVersion = 3
	// oldestSnapshotVersion is the oldest version Restore reads.
	oldestSnapshotVersion = 2
)

// ErrSnapshotVersion is returned by Restore for a snapshot written in
// another format version.
var ErrSnapshotVersion = errors.New("graph: snapshot version not supported")

type snapHeader struct {
	Magic   string
	Version int
}

// snapState is the engine's whole state with account indices replaced by
// account keys and every collection sorted, so a snapshot is independent
// of map order and of index reuse: snapshotting a restored engine gives
// the same bytes.
type snapState struct {
	Config    Config
	Started   bool
	MaxTime   int64
	NextSweep int64
	Seq       uint64
	Counters  counters
	Seen      []snapSeen
	Bufs      []snapBuf
	Edges     []snapEdge
	Registry  []snapCluster
	Text      snapNear
	Media     snapNear
}

type snapSeen struct {
	Key string
	T   int64
}

type snapEntry struct {
	T       int64
	Seq     uint64
	Account string
	Post    string
}

type snapBuf struct {
	Kind    uint8
	Key     string
	Entries []snapEntry
}

type snapObj struct {
	H   uint64
	T   int64
	Key string
}

type snapEvid struct {
	Kind         uint8
	Key          string
	PostA, PostB string
	TA, TB       int64
}

type snapEdge struct {
	A, B        string
	Objs        []snapObj
	First, Last int64
	Pairs       int64
	SumDelta    int64
	Evidence    []snapEvid
}

type snapCluster struct {
	ID        string
	Members   []string
	Platform  post.Platform
	FirstSeen time.Time
	LastSeen  time.Time
	Dormant   bool      // version 3
	Retired   time.Time // version 3
}

// Snapshot writes the engine's full state: buffers, edges, the seen-set
// needed for idempotence and the registry of emitted clusters. Restoring
// it into a new engine and continuing gives exactly the results of never
// stopping.
func (e *Engine) Snapshot(w io.Writer) error {
	s := snapState{
		Config:    e.Config(),
		Started:   e.started,
		MaxTime:   e.maxTime,
		NextSweep: e.nextSweep,
		Seq:       e.seq,
		Counters:  e.stats,
	}
	s.Seen = make([]snapSeen, 0, len(e.seen))
	for k, t := range e.seen {
		s.Seen = append(s.Seen, snapSeen{k, t})
	}
	slices.SortFunc(s.Seen, func(x, y snapSeen) int { return strings.Compare(x.Key, y.Key) })

	s.Bufs = make([]snapBuf, 0, len(e.bufs))
	for _, b := range e.bufs {
		sb := snapBuf{Kind: b.kind, Key: b.key, Entries: make([]snapEntry, len(b.entries))}
		for i, en := range b.entries {
			sb.Entries[i] = snapEntry{T: en.t, Seq: en.seq, Account: e.accName[en.acc], Post: en.post}
		}
		s.Bufs = append(s.Bufs, sb)
	}
	slices.SortFunc(s.Bufs, func(x, y snapBuf) int {
		if c := cmp.Compare(x.Kind, y.Kind); c != 0 {
			return c
		}
		return strings.Compare(x.Key, y.Key)
	})

	s.Edges = make([]snapEdge, 0, len(e.edges))
	for _, ed := range e.edges {
		se := snapEdge{
			A: e.accName[ed.a], B: e.accName[ed.b],
			Objs:  make([]snapObj, len(ed.objs)),
			First: ed.first, Last: ed.last, Pairs: ed.pairs, SumDelta: ed.sumDelta,
			Evidence: make([]snapEvid, len(ed.ev)),
		}
		for i, o := range ed.objs {
			se.Objs[i] = snapObj{H: o.h, T: o.t, Key: o.key}
		}
		for i, v := range ed.ev {
			se.Evidence[i] = snapEvid{Kind: v.kind, Key: v.key, PostA: v.postA, PostB: v.postB, TA: v.tA, TB: v.tB}
		}
		s.Edges = append(s.Edges, se)
	}
	slices.SortFunc(s.Edges, func(x, y snapEdge) int {
		if c := strings.Compare(x.A, y.A); c != 0 {
			return c
		}
		return strings.Compare(x.B, y.B)
	})

	s.Registry = make([]snapCluster, 0, len(e.registry))
	for id, r := range e.registry {
		s.Registry = append(s.Registry, snapCluster{ID: id, Members: r.Members, Platform: r.Platform, FirstSeen: r.FirstSeen, LastSeen: r.LastSeen,
			Dormant: r.Dormant, Retired: r.Retired})
	}
	slices.SortFunc(s.Registry, func(x, y snapCluster) int { return strings.Compare(x.ID, y.ID) })
	nearCut := e.maxTime - e.lateness - e.window
	s.Text = e.text.snapshot(e.accName, nearCut)
	s.Media = e.media.snapshot(e.accName, nearCut)

	enc := gob.NewEncoder(w)
	if err := enc.Encode(snapHeader{Magic: snapshotMagic, Version: SnapshotVersion}); err != nil {
		return fmt.Errorf("graph: write snapshot header: %w", err)
	}
	if err := enc.Encode(&s); err != nil {
		return fmt.Errorf("graph: write snapshot: %w", err)
	}
	return nil
}

// Restore replaces the engine's state with a snapshot. The snapshot's
// configuration must equal the engine's: state built under another
// window or cap would not give the results the new one promises. On error
// the engine is left unchanged.
func (e *Engine) Restore(r io.Reader) error {
	dec := gob.NewDecoder(r)
	var h snapHeader
	if err := dec.Decode(&h); err != nil {
		return fmt.Errorf("graph: read snapshot header: %w", err)
	}
	if h.Magic != snapshotMagic {
		return fmt.Errorf("graph: not a graph snapshot (magic %q)", h.Magic)
	}
	if h.Version < oldestSnapshotVersion || h.Version > SnapshotVersion {
		return fmt.Errorf("%w: version %d, this build reads versions %d to %d", ErrSnapshotVersion, h.Version, oldestSnapshotVersion, SnapshotVersion)
	}
	var s snapState
	if err := dec.Decode(&s); err != nil {
		return fmt.Errorf("graph: read snapshot: %w", err)
	}
	if f := configDiff(s.Config.withDefaults(), e.cfg); f != "" {
		return fmt.Errorf("graph: snapshot config differs from engine config in field %s", f)
	}

	n, err := New(e.cfg)
	if err != nil {
		return err
	}
	n.started, n.maxTime, n.nextSweep, n.seq, n.stats = s.Started, s.MaxTime, s.NextSweep, s.Seq, s.Counters
	// Strings repeat across buffers, edges and evidence; interning them
	// keeps a restored engine as small as the one that wrote the snapshot.
	pool := map[string]string{}
	intern := func(x string) string {
		if y, ok := pool[x]; ok {
			return y
		}
		pool[x] = x
		return x
	}
	for _, x := range s.Seen {
		n.seen[intern(x.Key)] = x.T
	}
	for _, sb := range s.Bufs {
		if int(sb.Kind) >= len(allKinds) {
			return fmt.Errorf("graph: snapshot buffer %q: unknown kind %d", sb.Key, sb.Kind)
		}
		b := &keyBuf{kind: sb.Kind, key: intern(sb.Key), entries: make([]entry, len(sb.Entries))}
		b.hash = objectHash(b.kind, b.key)
		for i, en := range sb.Entries {
			b.entries[i] = entry{t: en.T, seq: en.Seq, acc: n.intern(en.Account), post: intern(en.Post)}
		}
		n.bufs[bufKey(allKinds[b.kind], b.key)] = b
	}
	for _, se := range s.Edges {
		if se.A >= se.B {
			return fmt.Errorf("graph: snapshot edge %q-%q: accounts out of order", se.A, se.B)
		}
		ed := &edge{
			a: n.intern(se.A), b: n.intern(se.B),
			objs:  make([]obj, len(se.Objs)),
			first: se.First, last: se.Last, pairs: se.Pairs, sumDelta: se.SumDelta,
		}
		for i, o := range se.Objs {
			k := o.H >> 56
			if int(k) >= len(allKinds) {
				return fmt.Errorf("graph: snapshot edge %q-%q: unknown kind %d", se.A, se.B, k)
			}
			ed.objs[i] = obj{h: o.H, t: o.T, key: intern(o.Key)}
		}
		if len(se.Evidence) > 0 {
			ed.ev = make([]evid, len(se.Evidence))
			for i, v := range se.Evidence {
				ed.ev[i] = evid{kind: v.Kind, key: intern(v.Key), postA: intern(v.PostA), postB: intern(v.PostB), tA: v.TA, tB: v.TB}
			}
		}
		k := pairKey(ed.a, ed.b)
		n.edges[k] = ed
		if ed.weight() >= n.cfg.MinWeight {
			n.strong[k] = ed
		}
	}
	for _, c := range s.Registry {
		n.registry[c.ID] = registered{Members: c.Members, Platform: c.Platform, FirstSeen: c.FirstSeen, LastSeen: c.LastSeen,
			Dormant: c.Dormant, Retired: c.Retired}
	}
	if err := n.text.restore(s.Text, n.intern, intern); err != nil {
		return err
	}
	if err := n.media.restore(s.Media, n.intern, intern); err != nil {
		return err
	}
	*e = *n
	return nil
}

// detectOnly are the Config fields that shape only community detection,
// not the state a snapshot holds: an operator may change them (say, switch
// to Leiden) and keep the graph built so far.
var detectOnly = map[string]bool{
	"MinClusterSize": true, "Level": true, "Rejoin": true, "Algorithm": true,
	"DiscountPopular": true, "HyperactiveAt": true, "BackboneAlpha": true, "NullModelAlpha": true,
	"IDOverlap": true,
}

// configDiff names the first state-shaping field where a and b differ, or "".
func configDiff(a, b Config) string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := range va.NumField() {
		if detectOnly[va.Type().Field(i).Name] {
			continue
		}
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			return va.Type().Field(i).Name
		}
	}
	return ""
}
