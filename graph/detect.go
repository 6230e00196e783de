package graph

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// Bounds on what one cluster record carries, so a huge cluster still makes
// a Kafka message of reasonable size.
const (
	maxTopObjects  = 10
	maxClusterPost = 50
)

// Detect runs community detection on the live edges of weight >=
// MinWeight and returns the clusters of at least MinClusterSize accounts,
// status active, sorted by ID; then, once each, a record for every
// cluster the previous Detect returned as active that no longer exists:
// merged (MergedInto names the active cluster now holding more than half
// of its members) or expired. Detected is the latest event time seen, so
// the output is a function of the posts added, not of the wall clock.
//
// Edges may first be reweighted and filtered by the significance
// measures Config enables (significance.go); what they found is shown in
// each cluster edge's Extra. Communities are then found by
// Config.Algorithm: by default Louvain's (Config.Level), with pieces of
// one group rejoined (Config.Rejoin); or Leiden's; or plain connected
// components. They are then split into connected components: local moves
// can leave a community disconnected, and accounts with no path between
// them are not one network. A part whose members do not act together,
// judged by its cohesion (Config.MinCohesion, cohesion.go), is dropped:
// it is a chain of routine pairs, not a group. Each cluster says in
// Extra["binding"], in words, what binds it (see binding).
//
// A cluster keeps its ID across detections by member overlap with the
// clusters emitted before (see track and Config.IDOverlap): it grows,
// shrinks, merges and splits under a name an analyst can follow. A new
// network's ID is StableID("c-", A, B) of its edge that reached MinWeight
// first (ties: lowest A, B), not of its edge with the earliest First: a
// pair that co-acted once long ago and reaches MinWeight after the
// cluster was reported would otherwise rename a growing cluster.
//
// Detect changes nothing but the registry of emitted clusters, so calling
// it more or less often never changes which active clusters are found
// (their members, edges and evidence); their IDs depend on the clusters
// emitted before, which the registry keeps, snapshots included, so a
// restarted engine names them as one that never stopped.
func (e *Engine) Detect() []post.Cluster {
	start := time.Now()
	live := make([]*edge, 0, len(e.strong))
	for _, ed := range e.strong {
		if !e.expired(ed) {
			live = append(live, ed)
		}
	}
	// Detection weights and significance filters (significance.go): by
	// default raw weights, every edge kept.
	sigs := e.significance(live)
	kept := 0
	for i, ed := range live {
		if sigs[i].keep {
			live[kept], sigs[kept] = ed, sigs[i]
			kept++
		}
	}
	live, sigs = live[:kept], sigs[:kept]
	// Nodes in account-key order: Louvain visits them in index order, so
	// this order is what makes the partition reproducible.
	node := make([]int32, len(e.accName))
	for i := range node {
		node[i] = -1
	}
	var accs []uint32
	for _, ed := range live {
		for _, a := range [2]uint32{ed.a, ed.b} {
			if node[a] < 0 {
				node[a] = 0
				accs = append(accs, a)
			}
		}
	}
	slices.SortFunc(accs, func(x, y uint32) int { return strings.Compare(e.accName[x], e.accName[y]) })
	for i, a := range accs {
		node[a] = int32(i)
	}
	// name(a) < name(b) for every edge, so node(a) < node(b).
	type nodeEdge struct {
		u, v int32
		ed   *edge
		sig  edgeSig
	}
	ne := make([]nodeEdge, len(live))
	for i, ed := range live {
		ne[i] = nodeEdge{node[ed.a], node[ed.b], ed, sigs[i]}
	}
	slices.SortFunc(ne, func(x, y nodeEdge) int {
		if c := cmp.Compare(x.u, y.u); c != 0 {
			return c
		}
		return cmp.Compare(x.v, y.v)
	})
	wedges := make([]wedge, len(ne))
	var raw, adjusted float64
	for i, x := range ne {
		live[i], sigs[i] = x.ed, x.sig
		wedges[i] = wedge{u: x.u, v: x.v, w: x.sig.weight}
		raw += float64(x.ed.weight())
		adjusted += x.sig.weight
	}
	// Rejoin is in raw weight per pair of members: with adjusted weights,
	// scale it by how much the adjustment shrank the graph's weight.
	gamma := e.cfg.Rejoin
	if e.cfg.adjusts() && raw > 0 {
		gamma *= adjusted / raw
	}
	g := buildCSR(len(accs), wedges)
	var comm []int32
	switch e.cfg.Algorithm {
	case AlgorithmComponents:
		comm = make([]int32, len(accs)) // one community: components split it
	case AlgorithmLeiden:
		if gamma > 0 {
			comm = leidenCPM(g, gamma)
		} else {
			comm = leidenModularity(g, 1)
		}
	default:
		comm = louvain(g, e.cfg.Level)
		if gamma > 0 {
			comm = rejoin(g, comm, gamma)
		}
	}
	comp := components(len(accs), wedges, comm)

	groups := map[int32][]int{} // component -> edge indices into live
	for i, w := range wedges {
		if comp[w.u] == comp[w.v] {
			groups[comp[w.u]] = append(groups[comp[w.u]], i)
		}
	}
	size := map[int32]int{}
	for _, c := range comp {
		size[c]++
	}
	now := time.Time{}
	if e.started {
		now = time.Unix(0, e.maxTime).UTC()
	}
	var active []post.Cluster
	built := make(map[uint64]*builtCluster, len(e.built))
	for c, idx := range groups {
		if size[c] < e.cfg.MinClusterSize {
			continue
		}
		// A component whose edges are all as they were at the last
		// detection gives the same cluster: reuse it. On a live graph
		// most components are quiet between two detections, and
		// building (and then encoding) every one of them again was most
		// of the graph stage's time once the graph had grown.
		d := e.componentDigest(idx, live, sigs)
		b := e.built[d]
		if b == nil || !b.same(idx, live) {
			b = &builtCluster{n: len(idx), firstEdge: live[idx[0]], lastEdge: live[idx[len(idx)-1]]}
			edges := make([]*edge, len(idx))
			for i, j := range idx {
				edges[i] = live[j]
			}
			// A chain of routine pairs is not a group acting together
			// (Config.MinCohesion).
			if e.cfg.MinCohesion <= 0 || cohesion(edges, size[c]) >= e.cfg.MinCohesion {
				cl := e.buildCluster(edges, now)
				for i, j := range idx {
					e.annotateEdge(&cl.Edges[i], sigs[j])
				}
				if cl.Extra == nil {
					cl.Extra = map[string]any{}
				}
				cl.Extra["binding"] = e.binding(&cl, edges)
				b.cl, b.keep = cl, true
			}
		}
		built[d] = b
		if b.keep {
			active = append(active, b.copyAt(now, d))
		}
	}
	e.built = built
	slices.SortFunc(active, func(x, y post.Cluster) int { return strings.Compare(x.ID, y.ID) })

	gone := e.track(active, now)
	slices.SortFunc(active, func(x, y post.Cluster) int { return strings.Compare(x.ID, y.ID) })
	out := append(active, gone...)
	e.lastDet = time.Since(start)
	e.lastDetSize = len(live)
	return out
}

// builtCluster is a cluster as buildCluster made it (before track gives
// it its ID), or a component the cohesion filter dropped (keep false).
type builtCluster struct {
	cl   post.Cluster
	keep bool
	// The component's edge count and its first and last edges: checked
	// on reuse, so that even a 64-bit digest collision (odds about 10⁻¹²
	// per detection) cannot hand one component another's cluster.
	n                   int
	firstEdge, lastEdge *edge
}

// same tells whether b was built from a component with the same edges at
// both ends and the same number of them as idx.
func (b *builtCluster) same(idx []int, live []*edge) bool {
	return b.n == len(idx) && b.firstEdge == live[idx[0]] && b.lastEdge == live[idx[len(idx)-1]]
}

// copyAt returns the cached cluster as detected at now, with its own
// slices and maps at the top level, so that what callers do to the
// returned value (track renames it, the pipeline trims its edges) never
// reaches the cache. Edges' own maps are shared: nothing writes to them
// after toEdge and annotateEdge.
func (b *builtCluster) copyAt(now time.Time, digest uint64) post.Cluster {
	c := b.cl
	c.Detected = now
	c.GraphDigest = digest
	c.Members = slices.Clone(c.Members)
	c.Edges = slices.Clone(c.Edges)
	c.Signals = maps.Clone(c.Signals)
	c.TopObjects = slices.Clone(c.TopObjects)
	c.Posts = slices.Clone(c.Posts)
	c.Extra = maps.Clone(c.Extra)
	return c
}

// componentDigest digests what buildCluster, cohesion, annotateEdge and
// binding read of a component: for each of its edges in order, the pair,
// the time of its first co-action and how many co-actions it holds
// (every change to an edge adds a co-action; an edge dropped and made
// again starts a new count at a new first time), and its detection
// weight and significance figures. Edges are in (node u, node v) order,
// which follows account names, so equal components give equal digests.
//
// Accounts enter by name, not by index, so that the digest survives a
// snapshot and restore (indices are reassigned): the graph stage keeps
// the content hashes it derives from it in its checkpoint.
func (e *Engine) componentDigest(idx []int, live []*edge, sigs []edgeSig) uint64 {
	h := uint64(len(idx)) ^ 0x9e3779b97f4a7c15
	mix := func(v uint64) {
		// splitmix64's finaliser over the running state: cheap, and
		// every input bit reaches every output bit.
		h ^= v + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2)
		h ^= h >> 30
		h *= 0xbf58476d1ce4e5b9
		h ^= h >> 27
		h *= 0x94d049bb133111eb
		h ^= h >> 31
	}
	for _, j := range idx {
		ed, sg := live[j], sigs[j]
		mix(fnv64(e.accName[ed.a]))
		mix(fnv64(e.accName[ed.b]))
		mix(uint64(ed.first))
		mix(uint64(ed.pairs))
		mix(math.Float64bits(sg.weight))
		mix(math.Float64bits(sg.alpha))
		mix(math.Float64bits(sg.pvalue))
	}
	return h
}

// fnv64 is FNV-1a of s, inline: no allocation per edge.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// components labels each node with the smallest node index of its
// connected component within its community.
func components(n int, edges []wedge, comm []int32) []int32 {
	parent := make([]int32, n)
	for i := range parent {
		parent[i] = int32(i)
	}
	find := func(x int32) int32 {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	for _, e := range edges {
		if comm[e.u] != comm[e.v] {
			continue
		}
		ru, rv := find(e.u), find(e.v)
		if ru < rv {
			parent[rv] = ru
		} else if rv < ru {
			parent[ru] = rv
		}
	}
	out := make([]int32, n)
	for i := range out {
		out[i] = find(int32(i))
	}
	return out
}

// buildCluster makes the active record of one community from its edges,
// which are sorted by (A, B).
func (e *Engine) buildCluster(edges []*edge, now time.Time) post.Cluster {
	c := post.Cluster{
		Schema:   post.SchemaVersion,
		Status:   post.StatusActive,
		Detected: now,
		Edges:    make([]post.Edge, len(edges)),
		Signals:  map[post.Kind]int{},
	}
	c.EdgeCount = len(c.Edges)
	// The ID comes from the edge that reached MinWeight first (see
	// edge.since): new members and edges reach it later, so a growing
	// cluster keeps its ID, and it does not depend on when Detect runs.
	first, firstSince := edges[0], edges[0].since(e.cfg.MinWeight)
	// Members and, per member, its edges in the cluster: an object's count
	// is the number of members with an edge holding it.
	memberEdges := map[uint32][]int{}
	type postAt struct {
		t   int64
		key string
	}
	var posts []postAt
	var firstT, lastT int64 = edges[0].first, edges[0].last
	for i, ed := range edges {
		c.Edges[i] = e.toEdge(ed)
		if s := ed.since(e.cfg.MinWeight); s < firstSince { // ties keep the lower (A, B)
			first, firstSince = ed, s
		}
		firstT = min(firstT, ed.first)
		lastT = max(lastT, ed.last)
		memberEdges[ed.a] = append(memberEdges[ed.a], i)
		memberEdges[ed.b] = append(memberEdges[ed.b], i)
		for _, v := range ed.ev {
			posts = append(posts, postAt{v.tA, v.postA}, postAt{v.tB, v.postB})
		}
	}
	type objAgg struct {
		key     string
		h       uint64
		last    uint32 // member (index + 1) last counted
		members int
	}
	objIdx := map[uint64]int32{}
	var objs []objAgg
	for m, eds := range memberEdges {
		for _, i := range eds {
			for _, o := range edges[i].objs {
				j, ok := objIdx[o.h]
				if !ok {
					j = int32(len(objs))
					objIdx[o.h] = j
					objs = append(objs, objAgg{key: o.key, h: o.h})
				}
				if a := &objs[j]; a.last != m+1 {
					a.last = m + 1
					a.members++
				}
			}
		}
	}
	c.ID = post.StableID("c-", e.accName[first.a], e.accName[first.b])
	c.FirstSeen = time.Unix(0, firstT).UTC()
	c.LastSeen = time.Unix(0, lastT).UTC()

	for a := range memberEdges {
		c.Members = append(c.Members, e.accName[a])
	}
	slices.Sort(c.Members)
	c.Platform = platformOf(c.Members)

	// Top objects: keep the best maxTopObjects while scanning, rather than
	// sorting every object of a cluster that may hold hundreds of thousands.
	before := func(x, y post.KeyCount) bool {
		if x.Count != y.Count {
			return x.Count > y.Count
		}
		if x.Key != y.Key {
			return x.Key < y.Key
		}
		return x.Kind < y.Kind
	}
	top := make([]post.KeyCount, 0, maxTopObjects+1)
	for _, a := range objs {
		kind := allKinds[a.h>>56]
		c.Signals[kind]++
		kc := post.KeyCount{Kind: kind, Key: a.key, Count: a.members}
		if len(top) == maxTopObjects && !before(kc, top[len(top)-1]) {
			continue
		}
		at := len(top)
		for at > 0 && before(kc, top[at-1]) {
			at--
		}
		top = slices.Insert(top, at, kc)
		if len(top) > maxTopObjects {
			top = top[:maxTopObjects]
		}
	}
	c.TopObjects = top

	slices.SortFunc(posts, func(x, y postAt) int {
		if x.t != y.t {
			return cmp.Compare(x.t, y.t)
		}
		return strings.Compare(x.key, y.key)
	})
	seen := map[string]bool{}
	for _, p := range posts {
		if len(c.Posts) == maxClusterPost {
			break
		}
		if !seen[p.key] {
			seen[p.key] = true
			c.Posts = append(c.Posts, p.key)
		}
	}
	return c
}

// platformOf returns the members' common platform, or PlatformOther when
// a cluster spans platforms (links and hashtags pair across them).
func platformOf(members []string) post.Platform {
	var p string
	for i, m := range members {
		q, _, _ := strings.Cut(m, ":")
		if i == 0 {
			p = q
		} else if q != p {
			return post.PlatformOther
		}
	}
	return post.Platform(p)
}

// track names the new active clusters after the clusters emitted
// before, returns a merged or expired record for each previously active
// cluster that is gone, and makes the new ones the registry's active
// entries. active holds provisional IDs (from the first edge to reach
// MinWeight) and is renamed in place.
//
// Matching is one to one and greedy over (new, old) pairs whose overlap
// coefficient (shared members over the smaller cluster's size) is at least
// Config.IDOverlap, best first: active old clusters before dormant ones,
// then more shared members, then higher coefficient, then the older
// cluster (earlier FirstSeen), then the lower old and new IDs. So a
// growing or shrinking cluster keeps its ID; of two merging clusters the
// one sharing more members with the result (ties: the older) keeps its
// ID, and the other is retired as merged into it; of the pieces of a
// split, the one holding most of the old members keeps the ID and the
// others take fresh IDs; a network that went silent and comes back takes
// its dormant ID again. A fresh ID is the provisional one, or, if some
// emitted cluster already holds that, the provisional one with a counter
// (see freshID): an ID never names two clusters within Retention.
func (e *Engine) track(active []post.Cluster, now time.Time) []post.Cluster {
	where := map[string]int{} // member -> index into active
	for i, c := range active {
		for _, m := range c.Members {
			where[m] = i
		}
	}
	type cand struct {
		i      int
		id     string
		shared int
		coef   float64
		old    *registered
	}
	var cands []cand
	counts := map[int]int{}
	for id, reg := range e.registry {
		clear(counts)
		for _, m := range reg.Members {
			if i, ok := where[m]; ok {
				counts[i]++
			}
		}
		for i, n := range counts {
			coef := float64(n) / float64(min(len(reg.Members), len(active[i].Members)))
			if coef >= e.cfg.IDOverlap {
				reg := reg
				cands = append(cands, cand{i, id, n, coef, &reg})
			}
		}
	}
	slices.SortFunc(cands, func(x, y cand) int {
		if x.old.Dormant != y.old.Dormant {
			if x.old.Dormant {
				return 1
			}
			return -1
		}
		if c := cmp.Compare(y.shared, x.shared); c != 0 {
			return c
		}
		if c := cmp.Compare(y.coef, x.coef); c != 0 {
			return c
		}
		if c := x.old.FirstSeen.Compare(y.old.FirstSeen); c != 0 {
			return c
		}
		if c := strings.Compare(x.id, y.id); c != 0 {
			return c
		}
		return strings.Compare(active[x.i].ID, active[y.i].ID)
	})
	final := make([]string, len(active))
	taken := map[string]bool{} // old IDs given to a new cluster
	for _, c := range cands {
		if final[c.i] != "" || taken[c.id] {
			continue
		}
		final[c.i], taken[c.id] = c.id, true
	}
	// Fresh IDs, in provisional ID order so the counters are deterministic.
	var fresh []int
	for i := range active {
		if final[i] == "" {
			fresh = append(fresh, i)
		}
	}
	slices.SortFunc(fresh, func(x, y int) int { return strings.Compare(active[x].ID, active[y].ID) })
	for _, i := range fresh {
		final[i] = e.freshID(active[i].ID, taken)
		taken[final[i]] = true
	}
	for i := range active {
		active[i].ID = final[i]
	}

	// Previously active clusters that no new cluster took are retired:
	// merged into the cluster now holding more than half of their
	// members, else expired.
	var gone []post.Cluster
	for id, reg := range e.registry {
		if reg.Dormant || taken[id] {
			continue
		}
		counts := map[string]int{}
		for _, m := range reg.Members {
			if i, ok := where[m]; ok {
				counts[final[i]]++
			}
		}
		best, bestN := "", 0
		for to, n := range counts {
			if n > bestN || (n == bestN && to < best) {
				best, bestN = to, n
			}
		}
		rec := post.Cluster{
			Schema:    post.SchemaVersion,
			ID:        id,
			Status:    post.StatusExpired,
			Platform:  reg.Platform,
			Detected:  now,
			FirstSeen: reg.FirstSeen,
			LastSeen:  reg.LastSeen,
			Members:   slices.Clone(reg.Members),
			Edges:     []post.Edge{},
			Signals:   map[post.Kind]int{},
		}
		if 2*bestN > len(reg.Members) {
			rec.Status = post.StatusMerged
			rec.MergedInto = best
		}
		gone = append(gone, rec)
		reg.Dormant, reg.Retired = true, now
		e.registry[id] = reg
	}
	slices.SortFunc(gone, func(x, y post.Cluster) int { return strings.Compare(x.ID, y.ID) })
	// Dormant entries are kept for Retention: after that an edge of the
	// old network would have expired too, so what comes back is new.
	for id, reg := range e.registry {
		if reg.Dormant && !taken[id] && now.Sub(reg.Retired) > e.cfg.Retention {
			delete(e.registry, id)
		}
	}
	for _, c := range active {
		e.registry[c.ID] = registered{
			Members:   slices.Clone(c.Members),
			Platform:  c.Platform,
			FirstSeen: c.FirstSeen,
			LastSeen:  c.LastSeen,
		}
	}
	return gone
}

// freshID returns prov if no emitted cluster holds it and it is not
// taken in this round, else prov's first free numbered variant
// StableID("c-", prov, "2"), "3", ...: a split-off piece may hold the
// first edge that named its parent.
func (e *Engine) freshID(prov string, taken map[string]bool) string {
	id := prov
	for n := 2; ; n++ {
		if _, held := e.registry[id]; !held && !taken[id] {
			return id
		}
		id = post.StableID("c-", prov, strconv.Itoa(n))
	}
}

// binding describes in plain words what binds a cluster: how many
// accounts, which signals with how many distinct shared objects each
// (most first), the co-action window and the mean gap between the two
// actions of a co-action. For example: "34 accounts bound by reposts of
// 27 posts and shared links to 3 URLs within 60 s of each other (mean
// gap 4.2 s)". An analyst or an alert reads it without opening the
// edges; it is a function of the cluster's edges only, so it is as
// deterministic as the cluster.
func (e *Engine) binding(c *post.Cluster, edges []*edge) string {
	type sig struct {
		kind post.Kind
		n    int
	}
	var sigs []sig
	for k, n := range c.Signals {
		if n > 0 {
			sigs = append(sigs, sig{k, n})
		}
	}
	slices.SortFunc(sigs, func(x, y sig) int {
		if x.n != y.n {
			return y.n - x.n
		}
		xi, xok := kindIndex(x.kind)
		yi, yok := kindIndex(y.kind)
		if xok && yok && xi != yi {
			return xi - yi
		}
		return strings.Compare(string(x.kind), string(y.kind))
	})
	parts := make([]string, len(sigs))
	for i, s := range sigs {
		parts[i] = signalPhrase(s.kind, s.n)
	}
	var pairs, delta float64
	for _, ed := range edges {
		pairs += float64(ed.pairs)
		delta += float64(ed.sumDelta)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s bound by %s within %s of each other", plural(len(c.Members), "account", "accounts"),
		joinWords(parts), formatSeconds(e.cfg.Window.Seconds()))
	if pairs > 0 {
		fmt.Fprintf(&b, " (mean gap %s)", formatSeconds(delta/pairs/1e9))
	}
	return b.String()
}

// signalPhrase says what n distinct shared objects of a kind are.
func signalPhrase(k post.Kind, n int) string {
	switch k {
	case post.KindRepost:
		return "reposts of " + plural(n, "post", "posts")
	case post.KindLink:
		return "shared links to " + plural(n, "URL", "URLs")
	case post.KindDomain:
		return "links to " + plural(n, "domain", "domains")
	case post.KindHashtag:
		return "use of " + plural(n, "hashtag", "hashtags")
	case post.KindText:
		return "copies of " + plural(n, "text", "texts")
	case post.KindReply:
		return "replies to " + plural(n, "post", "posts")
	case post.KindMention:
		return "mentions of " + plural(n, "account", "accounts")
	case post.KindMedia:
		return "reuse of " + plural(n, "image", "images")
	}
	return "shared " + plural(n, string(k)+" object", string(k)+" objects")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// joinWords joins phrases as English does: "a", "a and b", "a, b and c".
func joinWords(parts []string) string {
	switch len(parts) {
	case 0:
		return "shared objects"
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// formatSeconds writes a duration for reading: "4.2 s" under 10 s, whole
// seconds under 2 minutes, then minutes, then hours (one decimal, dropped
// when zero).
func formatSeconds(s float64) string {
	one := func(x float64, unit string) string {
		t := strconv.FormatFloat(math.Round(x*10)/10, 'f', 1, 64)
		return strings.TrimSuffix(t, ".0") + " " + unit
	}
	switch {
	case s < 10:
		return one(s, "s")
	case s < 120:
		return strconv.FormatFloat(math.Round(s), 'f', 0, 64) + " s"
	case s < 7200:
		return one(s/60, "min")
	}
	return one(s/3600, "h")
}
