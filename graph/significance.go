package graph

import (
	"math"

	"github.com/vigie-osint/vigie/post"
)

// Edge weights and significance. A raw edge weight counts the distinct
// objects two accounts shared within the window; it cannot tell a pair
// that co-shared three obscure posts from one that co-shared three viral
// ones, nor two firehose accounts that co-share with everyone by sheer
// volume from two that seek each other out. The measures here judge an
// edge against the rest of the live co-share graph (every live edge, of
// any weight):
//
//   - popularity: each shared object counts log(3)/log(1+c), where c is
//     the number of accounts with a live co-action on it (c >= 2, since
//     the edge's two accounts are among them). An object only the pair
//     co-shared counts 1, one co-shared by 20 accounts 0.36, by 1,000
//     accounts 0.16. It is Adamic and Adar's 1/log(degree) discount of
//     common neighbours, scaled so that it never raises a weight: a crowd
//     piling onto a viral post is weak evidence that any two of them
//     coordinate.
//   - hyperactivity: an account whose activity n (distinct objects it
//     co-shared with anyone in the live graph) exceeds HyperactiveAt
//     scales its edges by sqrt(HyperactiveAt/n); an edge between two such
//     accounts takes both factors. Accounts that act all day co-share
//     with everyone by chance.
//   - disparity backbone (Serrano, Boguñá and Vespignani 2009, PNAS 106:
//     6483): under the null hypothesis that node i spreads its strength s_i
//     uniformly at random over its k_i edges, an edge carrying w_ij or
//     more has probability alpha_ij = (1 - w_ij/s_i)^(k_i - 1). An edge
//     is kept if alpha_ij <= BackboneAlpha for either endpoint. For a
//     node of degree 1 the formula gives 1: its one edge is kept only if
//     it is significant for the other endpoint, as in the paper and the
//     common implementations. Weights are the detection weights (adjusted
//     if enabled), strengths and degrees those of the live graph.
//   - null model of chance co-sharing: if accounts a and b, with n_a and
//     n_b distinct co-shared objects, had picked them independently and
//     uniformly from the N distinct objects of the live graph, the
//     number they share would be hypergeometric; the p-value is
//     P(X >= w) for the edge's raw weight w. An edge is kept if
//     p <= NullModelAlpha. It accounts for activity, not popularity (the
//     discount does that), and it is not corrected for testing many
//     edges: choose the level with the number of candidate edges in mind.
//
// The live graph also holds edges below MinWeight, which expire after
// WeakRetention rather than Retention, so activity and popularity cover
// roughly the last WeakRetention of stream plus the strong edges' older
// objects. All of it is computed at Detect time from the edges the engine
// already holds, so it needs no extra state, snapshots stay as they are,
// and Detect remains a pure function of the posts added. The cost is one
// pass over every live edge's objects per Detect, paid only when one of
// the measures is enabled.

// fixedOne is the fixed-point unit of detection weights: they are rounded
// to multiples of 2^-20 and summed as integers, so a strength does not
// depend on the order edges are visited in (map order), and the same
// posts give bit-identical alphas.
const fixedOne = 1 << 20

// edgeSig is what significance found about one candidate edge.
type edgeSig struct {
	weight float64 // detection weight: raw, or adjusted when enabled
	alpha  float64 // disparity alpha, the lower of both endpoints' (NaN: not computed)
	pvalue float64 // null-model p-value (NaN: not computed)
	keep   bool    // passes the enabled filters
}

// adjusts tells whether edge weights are adjusted.
func (c *Config) adjusts() bool { return c.DiscountPopular || c.HyperactiveAt > 0 }

// significant tells whether any weighting or filter needs the live graph.
func (c *Config) significant() bool {
	return c.adjusts() || c.BackboneAlpha > 0 || c.NullModelAlpha > 0
}

// popularityFactor is an object's contribution when c accounts co-shared
// it: log(3)/log(1+c), 1 for c = 2.
func popularityFactor(c int32) float64 {
	if c <= 2 {
		return 1
	}
	return math.Log(3) / math.Log(1+float64(c))
}

// activityFactor scales the edges of an account with n distinct
// co-shared objects: min(1, sqrt(at/n)).
func activityFactor(n int32, at int) float64 {
	if at <= 0 || int(n) <= at {
		return 1
	}
	return math.Sqrt(float64(at) / float64(n))
}

// disparityAlpha is (1 - w/s)^(k-1), or 1 for k <= 1.
func disparityAlpha(w, s float64, k int32) float64 {
	if k <= 1 || s <= 0 {
		return 1
	}
	return math.Pow(max(0, 1-w/s), float64(k-1))
}

// significance weighs and tests the candidate edges cand (live, weight >=
// MinWeight) against the live graph. Without any measure enabled it
// returns the raw weights, every edge kept.
func (e *Engine) significance(cand []*edge) []edgeSig {
	cfg := &e.cfg
	out := make([]edgeSig, len(cand))
	for i, ed := range cand {
		out[i] = edgeSig{weight: float64(ed.weight()), alpha: math.NaN(), pvalue: math.NaN(), keep: true}
	}
	if !cfg.significant() || len(cand) == 0 {
		return out
	}

	// Every live edge, and per account the edges it is on.
	var all []*edge
	nacc := len(e.accName)
	deg := make([]int32, nacc)
	nobj := 0
	for _, ed := range e.edges {
		if e.expired(ed) {
			continue
		}
		all = append(all, ed)
		deg[ed.a]++
		deg[ed.b]++
		nobj += len(ed.objs)
	}
	off := make([]int32, nacc+1)
	for a, d := range deg {
		off[a+1] = off[a] + d
	}
	inc := make([]int32, off[nacc])
	pos := make([]int32, nacc)
	copy(pos, off[:nacc])
	// Dense object IDs, one per edge object; ids[eoff[i]:eoff[i+1]] are
	// edge i's.
	objID := make(map[uint64]int32)
	ids := make([]int32, 0, nobj)
	eoff := make([]int32, len(all)+1)
	index := make(map[*edge]int32, len(cand))
	for _, ed := range cand {
		index[ed] = -1
	}
	for i, ed := range all {
		inc[pos[ed.a]] = int32(i)
		pos[ed.a]++
		inc[pos[ed.b]] = int32(i)
		pos[ed.b]++
		for _, o := range ed.objs {
			id, ok := objID[o.h]
			if !ok {
				id = int32(len(objID))
				objID[o.h] = id
			}
			ids = append(ids, id)
		}
		eoff[i+1] = int32(len(ids))
		if _, ok := index[ed]; ok {
			index[ed] = int32(i)
		}
	}
	// Popularity per object and activity per account, counting each
	// (account, object) once: visit accounts one at a time and remember
	// the last account that counted each object.
	pop := make([]int32, len(objID))
	last := make([]int32, len(objID))
	act := make([]int32, nacc)
	for a := range nacc {
		for _, ei := range inc[off[a]:off[a+1]] {
			for _, id := range ids[eoff[ei]:eoff[ei+1]] {
				if last[id] != int32(a)+1 {
					last[id] = int32(a) + 1
					pop[id]++
					act[a]++
				}
			}
		}
	}
	weightOf := func(i int32) float64 {
		ed := all[i]
		if !cfg.adjusts() {
			return float64(ed.weight())
		}
		var w float64
		for _, id := range ids[eoff[i]:eoff[i+1]] {
			if cfg.DiscountPopular {
				w += popularityFactor(pop[id])
			} else {
				w++
			}
		}
		w *= activityFactor(act[ed.a], cfg.HyperactiveAt) * activityFactor(act[ed.b], cfg.HyperactiveAt)
		return math.Round(w*fixedOne) / fixedOne
	}
	var strength []int64
	if cfg.BackboneAlpha > 0 {
		strength = make([]int64, nacc)
		for i, ed := range all {
			fx := int64(weightOf(int32(i)) * fixedOne)
			strength[ed.a] += fx
			strength[ed.b] += fx
		}
	}
	for ci, ed := range cand {
		i := index[ed]
		if i < 0 {
			continue // not in the live graph: cannot happen, strong is a subset
		}
		s := &out[ci]
		s.weight = weightOf(i)
		if cfg.BackboneAlpha > 0 {
			s.alpha = min(
				disparityAlpha(s.weight, float64(strength[ed.a])/fixedOne, deg[ed.a]),
				disparityAlpha(s.weight, float64(strength[ed.b])/fixedOne, deg[ed.b]))
			s.keep = s.keep && s.alpha <= cfg.BackboneAlpha
		}
		if cfg.NullModelAlpha > 0 {
			s.pvalue = hypergeomUpper(len(objID), int(act[ed.a]), int(act[ed.b]), ed.weight())
			s.keep = s.keep && s.pvalue <= cfg.NullModelAlpha
		}
	}
	return out
}

// hypergeomUpper returns P(X >= x) for X hypergeometric: the overlap of
// two sets of sizes k and n drawn independently and uniformly from N
// items. The tail on the far side of the mean is summed term by term from
// x with the pmf recurrence (so tiny p-values keep their precision); near
// or below the mean it is one minus the lower tail.
func hypergeomUpper(N, k, n, x int) float64 {
	lo, hi := max(0, n+k-N), min(k, n)
	if x <= lo {
		return 1
	}
	if x > hi {
		return 0
	}
	lchoose := func(a, b int) float64 {
		la, _ := math.Lgamma(float64(a + 1))
		lb, _ := math.Lgamma(float64(b + 1))
		lc, _ := math.Lgamma(float64(a - b + 1))
		return la - lb - lc
	}
	logpmf := func(j int) float64 { return lchoose(k, j) + lchoose(N-k, n-j) - lchoose(N, n) }
	fN, fk, fn := float64(N), float64(k), float64(n)
	if float64(x) > fk*fn/fN {
		term := math.Exp(logpmf(x))
		sum := term
		for j := x; j < hi && term > sum*1e-17; j++ {
			// pmf(j+1)/pmf(j)
			term *= (fk - float64(j)) * (fn - float64(j)) / (float64(j+1) * (fN - fk - fn + float64(j+1)))
			sum += term
		}
		return min(1, sum)
	}
	term := math.Exp(logpmf(x - 1))
	sum := term
	for j := x - 1; j > lo && term > sum*1e-17; j-- {
		// pmf(j-1)/pmf(j)
		term *= float64(j) * (fN - fk - fn + float64(j)) / ((fk - float64(j) + 1) * (fn - float64(j) + 1))
		sum += term
	}
	return max(0, 1-sum)
}

// annotateEdge shows on a cluster edge what significance found, so an
// analyst sees why it was kept: "adjusted_weight" when weights are
// adjusted (rounded to 3 decimals for reading; detection used the exact
// value), "disparity_alpha" and "p_value" when those filters are on.
func (e *Engine) annotateEdge(ed *post.Edge, s edgeSig) {
	if !e.cfg.significant() {
		return
	}
	if ed.Extra == nil {
		ed.Extra = map[string]any{}
	}
	if e.cfg.adjusts() {
		ed.Extra["adjusted_weight"] = math.Round(s.weight*1000) / 1000
	}
	if !math.IsNaN(s.alpha) {
		ed.Extra["disparity_alpha"] = s.alpha
	}
	if !math.IsNaN(s.pvalue) {
		ed.Extra["p_value"] = s.pvalue
	}
}
