package graph

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	gonumgraph "gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/community"
	"gonum.org/v1/gonum/graph/simple"
)

// plantedGraph returns edges (u < v, sorted) of a graph with groups of
// the given sizes, dense and heavy inside, plus sparse light noise
// between all nodes, and the group of each node.
func plantedGraph(seed uint64, sizes []int, noise int) ([]wedge, []int) {
	return plantedGraphD(seed, sizes, noise, 0.6)
}

// plantedGraphD is plantedGraph with edge density dens inside groups.
func plantedGraphD(seed uint64, sizes []int, noise int, dens float64) ([]wedge, []int) {
	r := rand.New(rand.NewPCG(seed, 1))
	var truth []int
	for g, s := range sizes {
		for range s {
			truth = append(truth, g)
		}
	}
	n := len(truth)
	w := map[[2]int32]float64{}
	start := 0
	for _, s := range sizes {
		for i := start; i < start+s; i++ {
			for j := i + 1; j < start+s; j++ {
				if r.Float64() < dens {
					w[[2]int32{int32(i), int32(j)}] = float64(3 + r.IntN(20))
				}
			}
		}
		start += s
	}
	for range noise {
		i, j := int32(r.IntN(n)), int32(r.IntN(n))
		if i == j {
			continue
		}
		w[[2]int32{min(i, j), max(i, j)}] += float64(1 + r.IntN(3))
	}
	var out []wedge
	for k, x := range w {
		out = append(out, wedge{k[0], k[1], x})
	}
	slices.SortFunc(out, func(a, b wedge) int {
		if a.u != b.u {
			return int(a.u - b.u)
		}
		return int(a.v - b.v)
	})
	return out, truth
}

func gonumGraph(n int, edges []wedge) *simple.WeightedUndirectedGraph {
	g := simple.NewWeightedUndirectedGraph(0, 0)
	for i := range n {
		g.AddNode(simple.Node(i))
	}
	for _, e := range edges {
		g.SetWeightedEdge(g.NewWeightedEdge(simple.Node(e.u), simple.Node(e.v), e.w))
	}
	return g
}

func gonumCommunities(comm []int32) [][]gonumgraph.Node {
	var nc int32
	for _, c := range comm {
		nc = max(nc, c+1)
	}
	out := make([][]gonumgraph.Node, nc)
	for i, c := range comm {
		out[c] = append(out[c], simple.Node(i))
	}
	return out
}

func TestModularityMatchesGonum(t *testing.T) {
	for _, level := range []int{0, 1, -1} {
		edges, truth := plantedGraph(3, []int{12, 20, 30, 8}, 300)
		n := len(truth)
		g := buildCSR(n, edges)
		comm := louvain(g, level)
		ours := modularity(g, comm)
		theirs := community.Q(gonumGraph(n, edges), gonumCommunities(comm), 1)
		if math.Abs(ours-theirs) > 1e-9 {
			t.Errorf("level %d: modularity %v, gonum Q %v", level, ours, theirs)
		}
		// And on the planted partition, which Louvain did not produce.
		tc := make([]int32, n)
		for i, x := range truth {
			tc[i] = int32(x)
		}
		if a, b := modularity(g, tc), community.Q(gonumGraph(n, edges), gonumCommunities(tc), 1); math.Abs(a-b) > 1e-9 {
			t.Errorf("planted partition: modularity %v, gonum Q %v", a, b)
		}
	}
}

func TestLouvainNearGonum(t *testing.T) {
	edges, truth := plantedGraph(11, []int{15, 25, 10, 30, 20}, 400)
	n := len(truth)
	g := buildCSR(n, edges)
	ours := modularity(g, louvain(g, -1))
	gg := gonumGraph(n, edges)
	best := math.Inf(-1)
	for seed := range uint64(3) {
		r := community.Modularize(gg, 1, rand.NewPCG(seed+1, 2))
		best = max(best, community.Q(gg, r.Communities(), 1))
	}
	t.Logf("modularity: ours %.5f, gonum best of 3 seeds %.5f", ours, best)
	if ours < best-0.005 {
		t.Errorf("top-level modularity %.5f is more than 0.005 below gonum's %.5f", ours, best)
	}
}

func TestLouvainLevels(t *testing.T) {
	edges, truth := plantedGraph(5, []int{10, 10, 10, 10, 10, 10}, 40)
	g := buildCSR(len(truth), edges)
	fine, top := louvain(g, 0), louvain(g, -1)
	// Each finest community lies within one top-level community.
	where := map[int32]int32{}
	for i := range fine {
		if c, ok := where[fine[i]]; ok && c != top[i] {
			t.Fatalf("finest community %d split across top communities %d and %d", fine[i], c, top[i])
		}
		where[fine[i]] = top[i]
	}
	if modularity(g, top) < modularity(g, fine)-1e-12 {
		t.Error("top level has lower modularity than the finest")
	}
	// Determinism: same graph, same partition.
	if again := louvain(buildCSR(len(truth), edges), 0); !slices.Equal(again, fine) {
		t.Error("louvain is not deterministic")
	}
	// Rejoining the finest level recovers the planted groups exactly.
	joined := rejoin(g, fine, 0.25)
	t.Logf("communities: finest %d, rejoined %d, top %d", slices.Max(fine)+1, slices.Max(joined)+1, slices.Max(top)+1)
	for i := range truth {
		for j := range truth {
			if (truth[i] == truth[j]) != (joined[i] == joined[j]) {
				t.Fatalf("nodes %d and %d: planted together=%v, found together=%v", i, j, truth[i] == truth[j], joined[i] == joined[j])
			}
		}
	}
}

// TestRejoinResolution plants many small sparse groups in a graph with
// chance edges between them: the finest Louvain level leaves groups in
// pieces, the top level merges groups (the resolution limit), and the
// finest level rejoined by CPM recovers them.
func TestRejoinResolution(t *testing.T) {
	sizes := make([]int, 300)
	r := rand.New(rand.NewPCG(9, 9))
	for i := range sizes {
		sizes[i] = 10 + r.IntN(21)
	}
	edges, truth := plantedGraphD(21, sizes, 3000, 0.3)
	g := buildCSR(len(truth), edges)
	score := func(comm []int32) int {
		comm = components(len(truth), edges, comm)
		ok := 0
		for grp, size := range sizes {
			count := map[int32]int{}
			for i, x := range truth {
				if x == grp {
					count[comm[i]]++
				}
			}
			best, bestN := int32(-1), 0
			for c, n := range count {
				if n > bestN || (n == bestN && c < best) {
					best, bestN = c, n
				}
			}
			members := 0
			for _, c := range comm {
				if c == best {
					members++
				}
			}
			if float64(bestN) >= 0.9*float64(size) && float64(bestN) >= 0.9*float64(members) {
				ok++
			}
		}
		return ok
	}
	fine, top := louvain(g, 0), louvain(g, -1)
	okFine, okTop, okJoined := score(fine), score(top), score(rejoin(g, fine, 0.25))
	t.Logf("groups recovered of %d: finest %d, top %d, finest+rejoin %d", len(sizes), okFine, okTop, okJoined)
	if okJoined < len(sizes)*95/100 {
		t.Errorf("rejoin recovered %d of %d groups", okJoined, len(sizes))
	}
	if okJoined <= okFine || okJoined <= okTop {
		t.Errorf("rejoin (%d) does not beat the finest (%d) and top (%d) levels", okJoined, okFine, okTop)
	}
}

func TestLouvainEdgeCases(t *testing.T) {
	if got := louvain(buildCSR(0, nil), 0); len(got) != 0 {
		t.Errorf("empty graph: %v", got)
	}
	if got := louvain(buildCSR(3, nil), -1); !slices.Equal(got, []int32{0, 1, 2}) {
		t.Errorf("edgeless graph: %v, want singletons", got)
	}
	// Two triangles joined by a light bridge split at the bridge.
	g := buildCSR(6, []wedge{{0, 1, 5}, {0, 2, 5}, {1, 2, 5}, {2, 3, 1}, {3, 4, 5}, {3, 5, 5}, {4, 5, 5}})
	if got := louvain(g, -1); !slices.Equal(got, []int32{0, 0, 0, 1, 1, 1}) {
		t.Errorf("two triangles: %v", got)
	}
}
