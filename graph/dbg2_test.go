package graph
import ("testing";"math/rand/v2";"slices")
func TestDbg2(t *testing.T) {
	for _, dens := range []float64{0.3, 0.6} {
	for _, noise := range []int{0, 5000, 20000} {
	r := rand.New(rand.NewPCG(1, 2))
	var truth []int
	var sizes []int
	for g := 0; g < 2000; g++ { s := 10 + r.IntN(21); sizes = append(sizes, s); for range s { truth = append(truth, g) } }
	n := len(truth)
	w := map[[2]int32]float64{}
	start := 0
	for _, s := range sizes {
		for i := start; i < start+s; i++ { for j := i + 1; j < start+s; j++ { if r.Float64() < dens { w[[2]int32{int32(i), int32(j)}] = float64(3 + r.IntN(10)) } } }
		start += s
	}
	for range noise { i, j := int32(r.IntN(n)), int32(r.IntN(n)); if i != j { w[[2]int32{min(i, j), max(i, j)}] = 3 } }
	var es []wedge
	for k, x := range w { es = append(es, wedge{k[0], k[1], x}) }
	slices.SortFunc(es, func(a, b wedge) int { if a.u != b.u { return int(a.u - b.u) }; return int(a.v - b.v) })
	g := buildCSR(n, es)
	for _, lv := range []int{0, 1, -1, 9} {
		var c []int32
		if lv == 9 { c = mergeFragments(g, louvain(g, 0)) } else { c = louvain(g, lv) }
		c = components(n, es, c)
		// per group: best overlap community
		cnt := map[[2]int32]int{}
		size := map[int32]int{}
		for i := range c { cnt[[2]int32{int32(truth[i]), c[i]}]++; size[c[i]]++ }
		best := make([]int, len(sizes)); bc := make([]int32, len(sizes))
		for k, v := range cnt { if v > best[k[0]] { best[k[0]] = v; bc[k[0]] = k[1] } }
		ok := 0; var rs, ps float64
		for gi, s := range sizes { rec := float64(best[gi]) / float64(s); pur := float64(best[gi]) / float64(size[bc[gi]]); rs += rec; ps += pur; if rec >= 0.9 && pur >= 0.9 { ok++ } }
		t.Logf("dens %.1f noise %d edges %d lvl %d: Q %.4f groups ok %d/%d mean recall %.3f purity %.3f", dens, noise, len(es), lv, modularity(g, c), ok, len(sizes), rs/float64(len(sizes)), ps/float64(len(sizes)))
	}}}
}
