package graph
import ("testing";"math/rand/v2";"slices")
func TestDbg3(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var truth []int
	var sizes []int
	for g := 0; g < 2000; g++ { s := 10 + r.IntN(21); sizes = append(sizes, s); for range s { truth = append(truth, g) } }
	n := len(truth)
	w := map[[2]int32]float64{}
	start := 0
	for _, s := range sizes {
		for i := start; i < start+s; i++ { for j := i + 1; j < start+s; j++ { if r.Float64() < 0.3 { w[[2]int32{int32(i), int32(j)}] = float64(3 + r.IntN(10)) } } }
		start += s
	}
	var es []wedge
	for k, x := range w { es = append(es, wedge{k[0], k[1], x}) }
	slices.SortFunc(es, func(a, b wedge) int { if a.u != b.u { return int(a.u - b.u) }; return int(a.v - b.v) })
	g := buildCSR(n, es)
	c := mergeFragments(g, louvain(g, 0))
	shown := 0
	for gi := 0; gi < 2000 && shown < 4; gi++ {
		pieces := map[int32][]int{}
		for i := range truth { if truth[i] == gi { pieces[c[i]] = append(pieces[c[i]], i) } }
		if len(pieces) == 1 { continue }
		shown++
		t.Logf("group %d size %d pieces:", gi, sizes[gi])
		for pc, nodes := range pieces {
			in := 0.0
			for _, e := range es { if c[e.u]==pc && c[e.v]==pc { in += e.w } }
			t.Logf("  piece %d: %d nodes, in %.0f dens %.2f", pc, len(nodes), in, in/float64(len(nodes)*(len(nodes)-1)/2))
		}
		for p1 := range pieces { for p2 := range pieces { if p1 < p2 { b := 0.0; for _, e := range es { if (c[e.u]==p1 && c[e.v]==p2)||(c[e.u]==p2&&c[e.v]==p1) { b += e.w } }; t.Logf("  %d-%d between %.0f per pair %.2f", p1, p2, b, b/float64(len(pieces[p1])*len(pieces[p2]))) } } }
	}
}
