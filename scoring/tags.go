package scoring

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/vigie-osint/vigie/election"
)

// TagGraph counts how often hashtags appear together in posts. It is
// bounded: once it holds MaxTags hashtags, new ones are not added (the
// hashtags that matter in an election show up early and often), a tag
// keeps at most 500 neighbours, and a post contributes its first 12
// distinct hashtags only, so one post stuffed with tags adds at most 66
// pairs. Its fields are exported for
// encoding/gob, since the graph stage checkpoints it.
type TagGraph struct {
	MaxTags int
	Count   map[string]int32            // posts per folded hashtag
	Pairs   map[string]map[string]int32 // co-occurrence, stored both ways
}

// NewTagGraph returns an empty graph holding at most maxTags hashtags.
func NewTagGraph(maxTags int) *TagGraph {
	return &TagGraph{MaxTags: maxTags, Count: map[string]int32{}, Pairs: map[string]map[string]int32{}}
}

// Add counts one post's hashtags.
func (g *TagGraph) Add(tags []string) {
	var fs []string
	for _, t := range tags {
		f := election.Fold(t)
		if f == "" || slices.Contains(fs, f) {
			continue
		}
		if _, ok := g.Count[f]; !ok && len(g.Count) >= g.MaxTags {
			continue
		}
		fs = append(fs, f)
		if len(fs) == 12 {
			break
		}
	}
	for _, f := range fs {
		g.Count[f]++
	}
	for i, a := range fs {
		for _, b := range fs[i+1:] {
			g.inc(a, b)
			g.inc(b, a)
		}
	}
}

func (g *TagGraph) inc(a, b string) {
	m := g.Pairs[a]
	if m == nil {
		m = map[string]int32{}
		g.Pairs[a] = m
	}
	if _, ok := m[b]; !ok && len(m) >= maxNeighbours {
		return // a hub tag keeps the neighbours it met first
	}
	m[b]++
}

// maxNeighbours bounds a hashtag's co-occurrence list, so the graph holds
// at most MaxTags × maxNeighbours pairs.
const maxNeighbours = 500

// Propagation parameters. A hashtag's value for a candidate is the
// weighted mean of its neighbours' values, shrunk towards zero by
// propagationPrior pseudo-posts of no stance, so a tag seen twice next to
// #StopMacron does not become a full smear tag; seeds and neutral tags
// stay fixed. minTagPosts: a tag seen in fewer posts gets no value.
// maxPropagated caps a propagated value below a seed's 1.
const (
	propagationRounds = 10
	propagationPrior  = 3.0
	minTagPosts       = 3
	maxPropagated     = 0.8
	minPropagated     = 0.15
)

// Propagate extends the seed hashtags' stance to the hashtags that
// co-occur with them (label propagation on the co-occurrence graph). It
// is deterministic: nodes are visited in sorted order and every round
// reads the previous round's values only.
func (m *StanceModel) Propagate(g *TagGraph) {
	m.resetPolarity()
	if g == nil || len(g.Count) == 0 {
		return
	}
	nodes := make([]string, 0, len(g.Count))
	for t, n := range g.Count {
		if n >= minTagPosts {
			nodes = append(nodes, t)
		}
	}
	slices.Sort(nodes)
	idx := make(map[string]int, len(nodes))
	for i, t := range nodes {
		idx[t] = i
	}
	type nb struct {
		j int
		w float64
	}
	adj := make([][]nb, len(nodes))
	for i, t := range nodes {
		for u, w := range g.Pairs[t] {
			if j, ok := idx[u]; ok {
				adj[i] = append(adj[i], nb{j, float64(w)})
			}
		}
		slices.SortFunc(adj[i], func(a, b nb) int { return a.j - b.j })
	}
	fixed := make([]bool, len(nodes))
	for i, t := range nodes {
		fixed[i] = m.neutral[t] || m.seeds[t] != (seed{}) || m.isMentionTag(t)
	}
	k := len(m.ids)
	cur := make([]float64, len(nodes)*k)
	for i, t := range nodes {
		if s, ok := m.seeds[t]; ok {
			cur[i*k+s.cand] = s.val
		}
	}
	next := make([]float64, len(cur))
	for range propagationRounds {
		copy(next, cur)
		for i := range nodes {
			if fixed[i] {
				continue
			}
			var wsum float64
			acc := make([]float64, k)
			for _, e := range adj[i] {
				wsum += e.w
				for c := range k {
					acc[c] += e.w * cur[e.j*k+c]
				}
			}
			for c := range k {
				next[i*k+c] = acc[c] / (wsum + propagationPrior)
			}
		}
		cur, next = next, cur
	}
	for i, t := range nodes {
		if fixed[i] {
			continue
		}
		var v []float64
		for c := range k {
			x := cur[i*k+c]
			if math.Abs(x) < minPropagated {
				continue
			}
			if v == nil {
				v = make([]float64, k)
			}
			v[c] = math.Copysign(math.Min(math.Abs(x), maxPropagated), x)
		}
		if v != nil {
			m.polarity[t] = v
		}
	}
}

func (m *StanceModel) isMentionTag(t string) bool {
	_, ok := m.tags[t]
	return ok
}

// PropagatedTags lists the hashtags that gained a value by propagation,
// with it, for reports: "tag candidate value" strings sorted.
func (m *StanceModel) PropagatedTags() []string {
	var out []string
	for t, v := range m.polarity {
		if _, isSeed := m.seeds[t]; isSeed {
			continue
		}
		for c, x := range v {
			if x != 0 {
				out = append(out, t+" "+m.ids[c]+" "+strings.TrimRight(strings.TrimRight(formatFloat(x), "0"), "."))
			}
		}
	}
	slices.Sort(out)
	return out
}

func formatFloat(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }
