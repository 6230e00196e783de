package graph

import "slices"

// csr is an undirected weighted graph in compressed sparse rows: the
// neighbours of node i are adj[off[i]:off[i+1]] with weights w[...]. An
// edge {i,j}, i != j, is stored in both rows; a self-loop (only in
// aggregated graphs) is stored once, its weight being A_ii, which already
// counts both directions. Plain arrays rather than gonum's graph types:
// facts.md measured gonum's Louvain at n^3.4 and 6-7x the memory.
type csr struct {
	off []int32
	adj []int32
	w   []float64
}

func (g *csr) len() int { return len(g.off) - 1 }

// wedge is an edge {u, v} of weight w for building a csr.
type wedge struct {
	u, v int32
	w    float64
}

// buildCSR builds a graph of n nodes from edges with u < v. When edges are
// sorted by (u, v), every row comes out sorted by neighbour.
func buildCSR(n int, edges []wedge) *csr {
	g := &csr{off: make([]int32, n+1)}
	for _, e := range edges {
		g.off[e.u+1]++
		g.off[e.v+1]++
	}
	for i := range n {
		g.off[i+1] += g.off[i]
	}
	g.adj = make([]int32, g.off[n])
	g.w = make([]float64, g.off[n])
	pos := slices.Clone(g.off[:n])
	for _, e := range edges {
		g.adj[pos[e.u]], g.w[pos[e.u]] = e.v, e.w
		pos[e.u]++
		g.adj[pos[e.v]], g.w[pos[e.v]] = e.u, e.w
		pos[e.v]++
	}
	return g
}

// degrees returns k_i = sum_j A_ij per node and their sum, 2m.
func (g *csr) degrees() ([]float64, float64) {
	k := make([]float64, g.len())
	var m2 float64
	for i := range k {
		for p := g.off[i]; p < g.off[i+1]; p++ {
			k[i] += g.w[p]
		}
		m2 += k[i]
	}
	return k, m2
}

// modularity is Newman's Q = 1/2m sum_ij [A_ij - k_i k_j / 2m] d(c_i, c_j),
// the quantity Louvain maximises; tests check it against gonum's.
func modularity(g *csr, comm []int32) float64 {
	k, m2 := g.degrees()
	if m2 == 0 {
		return 0
	}
	nc := int32(0)
	for _, c := range comm {
		nc = max(nc, c+1)
	}
	in := make([]float64, nc)
	tot := make([]float64, nc)
	for i := range g.len() {
		ci := comm[i]
		tot[ci] += k[i]
		for p := g.off[i]; p < g.off[i+1]; p++ {
			if comm[g.adj[p]] == ci {
				in[ci] += g.w[p]
			}
		}
	}
	var q float64
	for c := range in {
		q += in[c]/m2 - (tot[c]/m2)*(tot[c]/m2)
	}
	return q
}

// maxPasses bounds local-moving passes over all nodes. Each move raises
// modularity, so the phase ends; the bound only guards against float
// noise making it crawl on huge graphs.
const maxPasses = 64

// louvain returns a community index per node. level 0 stops after the
// first local-moving phase (the finest partition), level n after n
// aggregations, level -1 at the top. It is deterministic: nodes are
// visited in index order (the caller orders them by account key), a node
// moves only for a strict gain, ties between target communities go to the
// lowest index, and communities are numbered by their first node.
func louvain(g *csr, level int) []int32 {
	comm := identity(g.len())
	cur := g
	for lvl := 0; ; lvl++ {
		part, nc, moved := localMove(cur)
		for i, c := range comm {
			comm[i] = part[c]
		}
		if !moved || lvl == level || nc == cur.len() {
			return comm
		}
		cur = aggregate(cur, part, nc)
	}
}

// localMove runs Louvain's first phase: each node in turn moves to the
// neighbouring community with the largest modularity gain, until a pass
// moves no node. It returns the partition renumbered 0..nc-1 in order of
// first node, nc, and whether any node moved.
func localMove(g *csr) ([]int32, int, bool) {
	k, m2 := g.degrees()
	if m2 == 0 {
		return identity(g.len()), g.len(), false
	}
	return localMoveQ(g, k, 1/m2)
}

func identity(n int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(i)
	}
	return out
}

// localMoveQ is the local-moving phase for any quality whose gain for
// moving node i into community c is w(i, c) - scale * k_i * tot_c, where
// tot_c sums k over c: modularity with k the degrees and scale 1/2m, the
// Constant Potts Model with k the node sizes and scale its resolution.
func localMoveQ(g *csr, k []float64, scale float64) ([]int32, int, bool) {
	n := g.len()
	comm := identity(n)
	tot := slices.Clone(k)
	neighW := make([]float64, n)
	mark := make([]bool, n)
	var touched []int32
	movedAny := false
	for pass := 0; pass < maxPasses; pass++ {
		moves := 0
		for i := range n {
			ci := comm[i]
			touched = touched[:0]
			for p := g.off[i]; p < g.off[i+1]; p++ {
				j := g.adj[p]
				if int(j) == i {
					continue
				}
				c := comm[j]
				if !mark[c] {
					mark[c] = true
					touched = append(touched, c)
				}
				neighW[c] += g.w[p]
			}
			ki := k[i]
			tot[ci] -= ki
			stay := neighW[ci] - tot[ci]*ki*scale
			best, bestGain := int32(-1), 0.0
			for _, c := range touched {
				if c == ci {
					continue
				}
				gain := neighW[c] - tot[c]*ki*scale
				if best < 0 || gain > bestGain || (gain == bestGain && c < best) {
					best, bestGain = c, gain
				}
			}
			target := ci
			if best >= 0 && bestGain-stay > 1e-12*max(1, ki) {
				target = best
				moves++
			}
			comm[i] = target
			tot[target] += ki
			for _, c := range touched {
				neighW[c] = 0
				mark[c] = false
			}
		}
		if moves == 0 {
			break
		}
		movedAny = true
	}
	renum := make([]int32, n)
	for i := range renum {
		renum[i] = -1
	}
	nc := int32(0)
	for i, c := range comm {
		if renum[c] < 0 {
			renum[c] = nc
			nc++
		}
		comm[i] = renum[c]
	}
	return comm, int(nc), movedAny
}

// aggregate builds the graph whose nodes are the communities of part:
// A'_CD = sum of A_ij over i in C, j in D, so A'_CC holds C's internal
// weight in both directions and degrees are preserved.
func aggregate(g *csr, part []int32, nc int) *csr {
	members := make([][]int32, nc)
	for i, c := range part {
		members[c] = append(members[c], int32(i))
	}
	out := &csr{off: make([]int32, nc+1)}
	acc := make([]float64, nc)
	mark := make([]bool, nc)
	var touched []int32
	for c := range nc {
		touched = touched[:0]
		for _, i := range members[c] {
			for p := g.off[i]; p < g.off[i+1]; p++ {
				d := part[g.adj[p]]
				if !mark[d] {
					mark[d] = true
					touched = append(touched, d)
				}
				acc[d] += g.w[p]
			}
		}
		slices.Sort(touched)
		for _, d := range touched {
			out.adj = append(out.adj, d)
			out.w = append(out.w, acc[d])
			acc[d] = 0
			mark[d] = false
		}
		out.off[c+1] = int32(len(out.adj))
	}
	return out
}

// rejoin merges communities that are pieces of one group, using the
// Constant Potts Model (Traag et al. 2011) with resolution gamma on the
// graph of communities: two parts merge when the weight between them
// exceeds gamma per pair of members. Louvain's first phase can leave a
// sparse group in pieces, each a local optimum for single-node moves; its
// later levels rejoin them but, because modularity's null model scales
// with the whole graph, also swallow small groups linked by one chance
// edge (the resolution limit, facts.md). CPM has no such limit: whether
// two parts merge depends on them alone, not on the size of the graph.
func rejoin(g *csr, comm []int32, gamma float64) []int32 {
	comm = slices.Clone(comm)
	nc := 0
	for _, c := range comm {
		nc = max(nc, int(c)+1)
	}
	cur := aggregate(g, comm, nc)
	size := make([]float64, nc)
	for _, c := range comm {
		size[c]++
	}
	for {
		part, np, moved := localMoveQ(cur, size, gamma)
		if !moved {
			return comm
		}
		for i, c := range comm {
			comm[i] = part[c]
		}
		next := make([]float64, np)
		for c, p := range part {
			next[p] += size[c]
		}
		cur, size = aggregate(cur, part, np), next
	}
}
