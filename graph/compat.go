package graph

// Peer-exact batch computations. Vigie's engine is streaming and bounded
// (KeyCap, retention), so on a viral object it deliberately pairs less
// than the peer tools do. To compare findings with studies made with
// CooRTweet or the QUT Coordination Network Toolkit, and to check Vigie
// against them, this file reproduces both tools' networks exactly, as
// batch computations over a whole data set: no key cap, exact windows,
// and the tools' own quirks (documented where they apply). They trade the
// engine's bounded memory for exactness: memory grows with the input and
// the number of edges, and time with the number of co-share pairs.

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// Share is one row of a peer tool's input: Account shared Object in its
// post Content at Time. It is CooRTweet's (object_id, account_id,
// content_id, timestamp_share) and one row of the toolkit's message (or
// message_url) table.
type Share struct {
	Object  string
	Account string
	Content string
	Time    time.Time
}

// Shares derives the shares of one kind from posts, in post order, with
// the engine's action derivation (Actions): the object is the action key
// ("twitter:123" for a repost of post 123, the URL for a link...), the
// account is the post's Author as given, not platform-qualified, because
// the peer tools and their outputs name accounts by their bare IDs. A key
// repeated within one post yields one share, as in Actions.
func Shares(posts []post.Post, kind post.Kind) []Share {
	var out []Share
	for i := range posts {
		out = AppendShares(out, &posts[i], kind)
	}
	return out
}

// AppendShares appends the shares of one post to dst (see Shares), so a
// caller reading a file can keep the shares and drop the posts. A post
// that reposts or replies to itself gets its bare ID as object, equal to
// its content ID, so CooRTweet's loop rule (object_id == content_id)
// applies to it as it would to the file's row.
func AppendShares(dst []Share, p *post.Post, kind post.Kind) []Share {
	return appendShares(dst, p, kind, true)
}

func appendShares(dst []Share, p *post.Post, kind post.Kind, selfLoops bool) []Share {
	var buf [8]actKey
	for _, k := range appendActionKeys(buf[:0], p, []post.Kind{kind}, DefaultHashtagSeqMin) {
		obj := k.key
		if selfLoops && (kind == post.KindRepost && p.RepostOf == p.ID || kind == post.KindReply && p.ReplyTo == p.ID) {
			obj = p.ID
		}
		dst = append(dst, Share{Object: obj, Account: p.Author, Content: p.ID, Time: p.Time})
	}
	return dst
}

// DropDuplicateShares returns shares without exact repeats (same object,
// account, content and time), keeping the first of each in order. The
// reference runs on the German election data dropped duplicate rows
// before calling CooRTweet (its rows repeat a post's URL once per hashtag
// or image), and a re-delivered record is a repeat too; CooRTweet itself
// keeps repeats, and each then adds co-share rows to the weight.
func DropDuplicateShares(shares []Share) []Share {
	type k struct {
		obj, acc, cont string
		t              int64
	}
	seen := make(map[k]bool, len(shares))
	out := make([]Share, 0, len(shares))
	for _, s := range shares {
		key := k{s.Object, s.Account, s.Content, s.Time.UnixNano()}
		if !seen[key] {
			seen[key] = true
			out = append(out, s)
		}
	}
	return out
}

// ErrCompatKind is returned for a kind a peer tool has no network for.
var ErrCompatKind = errors.New("kind not supported by this peer mode")

// CNTShares derives shares for the toolkit's networks: repost gives
// co_retweet, link co_link and reply co_reply. It applies the toolkit's
// preprocessing rules on top of Shares: the URLs of a repost are ignored
// (preprocess.py stores message_url rows only for messages without a
// repost_id), and co_reply pairs only replies that are not reposts.
func CNTShares(posts []post.Post, kind post.Kind) ([]Share, error) {
	if err := cntKind(kind); err != nil {
		return nil, err
	}
	var out []Share
	for i := range posts {
		out, _ = AppendCNTShares(out, &posts[i], kind)
	}
	return out, nil
}

// AppendCNTShares appends the toolkit's shares of one post to dst (see
// CNTShares).
func AppendCNTShares(dst []Share, p *post.Post, kind post.Kind) ([]Share, error) {
	if err := cntKind(kind); err != nil {
		return dst, err
	}
	if kind != post.KindRepost && p.RepostOf != "" {
		return dst, nil
	}
	// The toolkit has no loop rule: a self-repost pairs like any other.
	return appendShares(dst, p, kind, false), nil
}

// cntKind tells whether the toolkit has a network for kind.
func cntKind(kind post.Kind) error {
	switch kind {
	case post.KindRepost, post.KindLink, post.KindReply:
		return nil
	}
	return fmt.Errorf("graph: CNT has co_retweet (repost), co_link (link) and co_reply (reply), not %q: %w", kind, ErrCompatKind)
}

// CooRTweetParams are the arguments of CooRTweet's detect_groups and
// generate_coordinated_network.
type CooRTweetParams struct {
	// TimeWindow is detect_groups(time_window): two shares of an object
	// pair when their times differ by at most TimeWindow.
	TimeWindow time.Duration
	// MinParticipation is detect_groups(min_participation); see CooRTweet.
	MinParticipation int
	// EdgeWeight is generate_coordinated_network(edge_weight), a quantile
	// in [0, 1] of the edge weights: edges above it get WeightThreshold 1.
	EdgeWeight float64
	// Subgraph is generate_coordinated_network(subgraph): 0 keeps every
	// edge, 1 only those with WeightThreshold 1 (and their accounts).
	// CooRTweet's 2 and 3 need flag_speed_share and are not reproduced.
	Subgraph int
	// KeepLoops is detect_groups(remove_loops = FALSE).
	KeepLoops bool
}

// CooRTweetEdge is one edge as generate_coordinated_network exports it.
type CooRTweetEdge struct {
	// From and To are ordered as igraph lists an undirected edge: From is
	// the account that comes first in the graph's vertex order (see
	// CooRTweetNetwork.Nodes), which is not always the lower ID.
	From, To string
	// Weight is the number of co-share rows (pairs of shares) behind the
	// edge, data.table's .N: a pair that co-shared one object twice counts
	// twice. CooRTweet's documentation and the datasets README speak of
	// distinct shared objects, but the code counts rows.
	Weight int
	// AvgTimeDelta is the mean absolute time between the paired shares, in
	// seconds.
	AvgTimeDelta float64
	// NContentID and NContentIDY count the distinct older and newer posts
	// of the pairs. They are not per account: CooRTweet puts the accounts
	// of an edge in ID order without swapping the posts, so NContentID
	// counts the earlier posts whichever account made them.
	NContentID, NContentIDY int
	// EdgeSymmetryScore is min(NContentID, NContentIDY) / max(...).
	EdgeSymmetryScore float64
	// WeightThreshold is 1 when Weight exceeds the EdgeWeight quantile of
	// all weights, else 0.
	WeightThreshold int
}

// CooRTweetNode is one vertex of the network with its connected component,
// numbered from 1 as igraph's components() does: in the order of each
// component's first vertex.
type CooRTweetNode struct {
	Account   string
	Component int
}

// CooRTweetNetwork is what CooRTweet returns, as data.
type CooRTweetNetwork struct {
	Edges []CooRTweetEdge // in CooRTweet's (igraph's) edge order
	Nodes []CooRTweetNode // in igraph's vertex order
	// Threshold is the EdgeWeight quantile of the weights (R's quantile,
	// type 7) over the full graph, before any subgraph.
	Threshold float64
	// CoShares is the number of rows detect_groups returned.
	CoShares int
}

// cooRow is one interned share.
type cooRow struct {
	acc, obj, cont int32
	t              int64
	loop           bool // Object == Content: CooRTweet's loop rule
}

// compatInterner numbers strings in order of first appearance, as R factors in
// data.table groupings do.
type compatInterner struct {
	idx   map[string]int32
	names []string
}

func (in *compatInterner) id(s string) int32 {
	if i, ok := in.idx[s]; ok {
		return i
	}
	if in.idx == nil {
		in.idx = map[string]int32{}
	}
	i := int32(len(in.names))
	in.idx[s] = i
	in.names = append(in.names, s)
	return i
}

// CooRTweet reproduces CooRTweet 2.1's detect_groups(x, time_window,
// min_participation) followed by generate_coordinated_network(edge_weight,
// subgraph), with shares as the rows of x in their order. Row order
// matters to CooRTweet, so it matters here: it decides which of two
// simultaneous shares counts as the older, and the vertex order.
//
// The steps, each as CooRTweet does it (R/detect_groups.R,
// R/calc_group_combinations.R, R/generate_coordinated_network.R):
//
//  1. Accounts with fewer than MinParticipation rows are dropped, and the
//     rows are regrouped by account in order of first appearance
//     (x[, if (.N >= min) .SD, by = account_id]).
//  2. Within each object, in order of first appearance, every two rows
//     i < j whose times differ by at most TimeWindow pair up, in the order
//     of a non-equi self-join: by j, then i.
//  3. Loops are removed: pairs where the object equals either content ID,
//     the two content IDs are equal, or the accounts are.
//  4. Participation: the content IDs left in pairs are collected; an
//     account qualifies when at least MinParticipation of its rows carry
//     one of them; a pair stays when either content ID belongs to a row of
//     a qualifying account. (So a pair stays when one side qualifies.)
//  5. Each pair is oriented older first; simultaneous shares keep the row
//     order.
//  6. Pairs are grouped by account pair (lower ID first, byte order, which
//     is R's order in the C locale and, for the IDs of the reference data,
//     in en_US too), in order of first appearance.
//  7. The graph's vertices are the From accounts, then the To accounts, in
//     order of first appearance (graph_from_data_frame); the threshold is
//     R's type-7 quantile; subgraph 1 keeps the edges above it.
func CooRTweet(shares []Share, p CooRTweetParams) (*CooRTweetNetwork, error) {
	switch {
	case p.TimeWindow < 0:
		return nil, fmt.Errorf("graph: CooRTweet: negative time window %v", p.TimeWindow)
	case p.EdgeWeight < 0 || p.EdgeWeight > 1 || math.IsNaN(p.EdgeWeight):
		return nil, fmt.Errorf("graph: CooRTweet: edge_weight %v outside [0, 1]", p.EdgeWeight)
	case p.Subgraph != 0 && p.Subgraph != 1:
		return nil, fmt.Errorf("graph: CooRTweet: subgraph %d not reproduced (0 or 1; 2 and 3 need flag_speed_share)", p.Subgraph)
	}
	var accs, objs, conts compatInterner
	rows := make([]cooRow, len(shares))
	for i, s := range shares {
		rows[i] = cooRow{
			acc: accs.id(s.Account), obj: objs.id(s.Object), cont: conts.id(s.Content),
			t: s.Time.UnixNano(), loop: s.Object == s.Content,
		}
	}

	// 1. Pre-filter and regroup by account (a counting sort keeps the
	// input order within each account).
	perAcc := make([]int32, len(accs.names))
	for _, r := range rows {
		perAcc[r.acc]++
	}
	start := make([]int32, len(accs.names)+1)
	for a, n := range perAcc {
		start[a+1] = start[a]
		if int(n) >= p.MinParticipation {
			start[a+1] += n
		}
	}
	x := make([]cooRow, start[len(accs.names)])
	fill := slices.Clone(start[:len(accs.names)])
	for _, r := range rows {
		if int(perAcc[r.acc]) >= p.MinParticipation {
			x[fill[r.acc]] = r
			fill[r.acc]++
		}
	}

	// 2. Objects in order of first appearance in x, rows in x order.
	objRank := make([]int32, len(objs.names))
	for i := range objRank {
		objRank[i] = -1
	}
	var groups [][]int32 // x indices per object, by rank
	for i, r := range x {
		if objRank[r.obj] < 0 {
			objRank[r.obj] = int32(len(groups))
			groups = append(groups, nil)
		}
		g := objRank[r.obj]
		groups[g] = append(groups[g], int32(i))
	}
	window := int64(p.TimeWindow)
	keep := func(i, j int32) bool { // 3. loops
		if p.KeepLoops {
			return true
		}
		a, b := &x[i], &x[j]
		return !a.loop && !b.loop && a.cont != b.cont && a.acc != b.acc
	}

	// Pass 1: content IDs in pairs.
	inPairs := make([]bool, len(conts.names))
	cooPairs(x, groups, window, func(i, j int32) {
		if keep(i, j) {
			inPairs[x[i].cont] = true
			inPairs[x[j].cont] = true
		}
	})
	// 4. Participation.
	pass := inPairs
	if p.MinParticipation >= 1 {
		n := make([]int32, len(accs.names))
		for _, r := range x {
			if inPairs[r.cont] {
				n[r.acc]++
			}
		}
		pass = make([]bool, len(conts.names))
		for _, r := range x {
			if inPairs[r.cont] && int(n[r.acc]) >= p.MinParticipation {
				pass[r.cont] = true
			}
		}
	}

	// Account order by ID, for pmin/pmax.
	byName := make([]int32, len(accs.names))
	{
		order := make([]int32, len(accs.names))
		for i := range order {
			order[i] = int32(i)
		}
		slices.SortFunc(order, func(a, b int32) int { return strings.Compare(accs.names[a], accs.names[b]) })
		for r, a := range order {
			byName[a] = int32(r)
		}
	}

	// Pass 2: 5-6. Orient and aggregate.
	type agg struct {
		lo, hi   int32 // accounts, lo has the lower ID
		n        int
		sumDelta int64
		older    compatSet
		newer    compatSet
	}
	var edges []*agg
	index := map[uint64]*agg{}
	coShares := 0
	cooPairs(x, groups, window, func(i, j int32) {
		if !keep(i, j) || !(pass[x[i].cont] || pass[x[j].cont]) {
			return
		}
		coShares++
		old, nw := &x[i], &x[j]
		if old.t > nw.t { // time_delta > 0: swap
			old, nw = nw, old
		}
		lo, hi := old.acc, nw.acc
		if byName[lo] > byName[hi] {
			lo, hi = hi, lo
		}
		k := uint64(uint32(lo))<<32 | uint64(uint32(hi))
		e := index[k]
		if e == nil {
			e = &agg{lo: lo, hi: hi}
			index[k] = e
			edges = append(edges, e)
		}
		e.n++
		e.sumDelta += nw.t - old.t
		e.older.add(old.cont)
		e.newer.add(nw.cont)
	})

	// 7. Graph: vertex order, threshold, subgraph.
	vertex := make([]int32, len(accs.names))
	for i := range vertex {
		vertex[i] = -1
	}
	var vorder []int32
	addV := func(a int32) {
		if vertex[a] < 0 {
			vertex[a] = int32(len(vorder))
			vorder = append(vorder, a)
		}
	}
	for _, e := range edges {
		addV(e.lo)
	}
	for _, e := range edges {
		addV(e.hi)
	}
	weights := make([]float64, len(edges))
	for i, e := range edges {
		weights[i] = float64(e.n)
	}
	net := &CooRTweetNetwork{Threshold: rQuantile7(weights, p.EdgeWeight), CoShares: coShares}
	used := make([]bool, len(vorder))
	for _, e := range edges {
		ce := CooRTweetEdge{
			Weight:       e.n,
			AvgTimeDelta: compatMeanSeconds(e.sumDelta, e.n),
			NContentID:   e.older.len(),
			NContentIDY:  e.newer.len(),
		}
		ce.EdgeSymmetryScore = float64(min(ce.NContentID, ce.NContentIDY)) / float64(max(ce.NContentID, ce.NContentIDY))
		if float64(e.n) > net.Threshold {
			ce.WeightThreshold = 1
		}
		if p.Subgraph == 1 && ce.WeightThreshold != 1 {
			continue
		}
		a, b := e.lo, e.hi
		if vertex[a] > vertex[b] {
			a, b = b, a
		}
		ce.From, ce.To = accs.names[a], accs.names[b]
		used[vertex[a]], used[vertex[b]] = true, true
		net.Edges = append(net.Edges, ce)
	}
	// Vertices left (all of them for subgraph 0, those of kept edges for
	// subgraph 1, in the same relative order), then their components.
	pos := map[string]int32{}
	for v, a := range vorder {
		if used[v] {
			pos[accs.names[a]] = int32(len(net.Nodes))
			net.Nodes = append(net.Nodes, CooRTweetNode{Account: accs.names[a]})
		}
	}
	uf := newCompatUnionFind(len(net.Nodes))
	for _, e := range net.Edges {
		uf.union(pos[e.From], pos[e.To])
	}
	comp := map[int32]int{}
	for i := range net.Nodes {
		r := uf.find(int32(i))
		c, ok := comp[r]
		if !ok {
			c = len(comp) + 1
			comp[r] = c
		}
		net.Nodes[i].Component = c
	}
	return net, nil
}

// cooPairs calls f(i, j) for every two rows i < j of a group whose times
// differ by at most window, groups in order, then by j, then by i: the
// order of calc_group_combinations' join (for each row of i, the earlier
// rows in order), which fixes the order edges first appear in. It finds
// the candidates of each row from a time-sorted copy of its group, so the
// cost is the number of pairs within the window, not the square of the
// group size.
func cooPairs(x []cooRow, groups [][]int32, window int64, f func(i, j int32)) {
	var byTime, cand []int32
	for _, g := range groups {
		if len(g) < 2 {
			continue
		}
		byTime = append(byTime[:0], g...)
		slices.SortFunc(byTime, func(a, b int32) int {
			if c := cmp.Compare(x[a].t, x[b].t); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		for _, j := range g {
			tj := x[j].t
			// First row at or after tj - window; rows are scanned in
			// group order, not time order, so search rather than slide.
			lo, _ := slices.BinarySearchFunc(byTime, tj-window, func(a int32, t int64) int { return cmp.Compare(x[a].t, t) })
			cand = cand[:0]
			for _, i := range byTime[lo:] {
				if x[i].t > tj+window {
					break
				}
				if i < j {
					cand = append(cand, i)
				}
			}
			slices.Sort(cand)
			for _, i := range cand {
				f(i, j)
			}
		}
	}
}

// compatSet is a set of int32 that stays a slice while small: nearly every
// edge has one or two posts on each side.
type compatSet struct {
	list []int32
	big  map[int32]struct{}
}

func (s *compatSet) add(v int32) {
	if s.big != nil {
		s.big[v] = struct{}{}
		return
	}
	if slices.Contains(s.list, v) {
		return
	}
	s.list = append(s.list, v)
	if len(s.list) > 32 {
		s.big = make(map[int32]struct{}, 64)
		for _, x := range s.list {
			s.big[x] = struct{}{}
		}
		s.list = nil
	}
}

func (s *compatSet) len() int {
	if s.big != nil {
		return len(s.big)
	}
	return len(s.list)
}

// compatMeanSeconds is sum/n seconds with one rounding when the sum is whole
// seconds, as R's mean of integer time deltas is.
func compatMeanSeconds(sumNanos int64, n int) float64 {
	if n == 0 {
		return 0
	}
	if sumNanos%1e9 == 0 {
		return float64(sumNanos/1e9) / float64(n)
	}
	return float64(sumNanos) / 1e9 / float64(n)
}

// rQuantile7 is R's quantile(x, p) with the default type 7, of values in
// any order (see quantile7).
func rQuantile7(x []float64, p float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	return quantile7(s, p)
}

type compatUnionFind []int32

func newCompatUnionFind(n int) compatUnionFind {
	u := make(compatUnionFind, n)
	for i := range u {
		u[i] = int32(i)
	}
	return u
}

func (u compatUnionFind) find(x int32) int32 {
	for u[x] != x {
		u[x] = u[u[x]]
		x = u[x]
	}
	return x
}

func (u compatUnionFind) union(a, b int32) {
	ra, rb := u.find(a), u.find(b)
	if ra < rb {
		u[rb] = ra
	} else if rb < ra {
		u[ra] = rb
	}
}

// CNTParams are the arguments of the toolkit's `compute` commands.
type CNTParams struct {
	// TimeWindow is --time_window: shares pair when their times differ by
	// at most TimeWindow (SQL "between t - w and t + w", both ends in).
	TimeWindow time.Duration
	// MinEdgeWeight is --min_edge_weight (the toolkit's default is 1); a
	// zero value means 1.
	MinEdgeWeight int
	// OneObjectPerMessage is true for co_retweet and co_reply, whose object
	// is a column of the toolkit's message table: message_id is its primary
	// key and rows are inserted with "insert or ignore", so a repeated
	// message ID keeps its first row. co_link reads the message_url table,
	// keyed by (message_id, url): false.
	OneObjectPerMessage bool
}

// CNTParamsFor returns the parameters of the toolkit command for kind.
func CNTParamsFor(kind post.Kind, window time.Duration) (CNTParams, error) {
	if err := cntKind(kind); err != nil {
		return CNTParams{}, err
	}
	return CNTParams{TimeWindow: window, OneObjectPerMessage: kind != post.KindLink}, nil
}

// CNTEdge is one row of the toolkit's network table: User1 -> User2 with
// Weight, the number of distinct messages of User1 that have a message of
// User2 on the same object within the window. The two directions of a pair
// can differ in weight.
type CNTEdge struct {
	User1, User2 string
	Weight       int
}

// CNT reproduces the toolkit's compute_co_retweet_parallel,
// compute_co_link_network and compute_co_reply_network (the SQL in
// compute_networks.py): for every ordered pair of accounts, count(distinct
// e_1.message_id) over the join of shares on the same object within the
// window. The toolkit also stores self-pairs (every message matches
// itself); its exports drop them (loops=False) and so does CNT. A share
// with an empty object is ignored: the toolkit would pair every message
// without URL on the URL "" (facts.md). Edges come sorted by User1, User2.
func CNT(shares []Share, p CNTParams) ([]CNTEdge, error) {
	c, err := NewCNTCounter(p)
	if err != nil {
		return nil, err
	}
	for _, s := range shares {
		c.Add(s.Object, s.Account, s.Content, s.Time.UnixNano())
	}
	return c.Edges(), nil
}

// CNTPair is an undirected toolkit edge: A < B, Weight the larger of the
// two directions (as the reference files merge them), AB and BA each
// direction's weight, 0 when that direction is absent or below the
// minimum weight.
type CNTPair struct {
	A, B           string
	Weight, AB, BA int
}

// MergeCNT merges the directions of toolkit edges into pairs, sorted by A
// then B.
func MergeCNT(edges []CNTEdge) []CNTPair {
	idx := map[[2]string]int{}
	var out []CNTPair
	for _, e := range edges {
		a, b, ab := e.User1, e.User2, true
		if a > b {
			a, b, ab = b, a, false
		}
		i, ok := idx[[2]string{a, b}]
		if !ok {
			i = len(out)
			idx[[2]string{a, b}] = i
			out = append(out, CNTPair{A: a, B: b})
		}
		if ab {
			out[i].AB = e.Weight
		} else {
			out[i].BA = e.Weight
		}
		out[i].Weight = max(out[i].AB, out[i].BA)
	}
	slices.SortFunc(out, func(x, y CNTPair) int {
		if c := strings.Compare(x.A, y.A); c != 0 {
			return c
		}
		return strings.Compare(x.B, y.B)
	})
	return out
}
