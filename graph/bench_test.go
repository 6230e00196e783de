package graph

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// BenchmarkAdd feeds reposts by 200k accounts of 500k originals with
// Zipf(1.1) popularity (facts.md's pairing scenario) at 20 posts per
// second of stream time, with default Config. It reports posts/s and the
// heap held per edge after the run.
func BenchmarkAdd(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	zipf := rand.NewZipf(r, 1.1, 1, 500_000-1)
	e := mustNew(b, Config{})
	p := post.Post{Schema: post.SchemaVersion, Platform: post.PlatformTwitter}
	b.ReportAllocs()
	start := time.Now()
	i := 0
	for b.Loop() {
		p.ID = strconv.Itoa(i)
		p.Author = "a" + strconv.Itoa(r.IntN(200_000))
		p.RepostOf = "o" + strconv.FormatUint(zipf.Uint64(), 10)
		p.Time = t0.Add(time.Duration(i) * 50 * time.Millisecond)
		e.Add(&p)
		i++
	}
	b.ReportMetric(float64(i)/time.Since(start).Seconds(), "posts/s")
	b.StopTimer()
	st := e.Stats()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(st.Edges), "edges")
	b.ReportMetric(float64(st.Pairs)/float64(max(1, i)), "pairs/post")
	if st.Edges > 0 {
		b.ReportMetric(float64(ms.HeapAlloc)/float64(st.Edges), "heapB/edge")
	}
	runtime.KeepAlive(e)
}

// benchEngine returns an engine holding a graph of about nodes accounts
// and edges edges of weight >= MinWeight: groups of 10-30 accounts at 80%
// density carry 90% of the edges, the rest join random accounts.
func benchEngine(b *testing.B, nodes, edges int) *Engine {
	b.Helper()
	e := mustNew(b, Config{})
	r := rand.New(rand.NewPCG(uint64(nodes), uint64(edges)))
	acc := make([]uint32, nodes)
	for i := range acc {
		acc[i] = e.intern(fmt.Sprintf("twitter:acc%07d", i))
	}
	e.started, e.maxTime = true, t0.Add(time.Hour).UnixNano()
	added := 0
	link := func(i, j int) {
		a, c := acc[i], acc[j]
		if a == c {
			return
		}
		if e.accName[a] > e.accName[c] {
			a, c = c, a
		}
		k := pairKey(a, c)
		if _, ok := e.edges[k]; ok {
			return
		}
		ti := t0.Add(time.Duration(r.IntN(3600)) * time.Second).UnixNano()
		ed := &edge{a: a, b: c, first: ti, last: ti + int64(time.Minute), pairs: 4}
		for o := range e.cfg.MinWeight + r.IntN(5) {
			key := "twitter:o" + strconv.Itoa(r.IntN(1_000_000))
			ed.objs = append(ed.objs, obj{h: objectHash(0, key) + uint64(o), t: ti, key: key})
		}
		ed.ev = []evid{{kind: 0, key: ed.objs[0].key, postA: "twitter:p" + strconv.Itoa(added), postB: "twitter:q" + strconv.Itoa(added), tA: ti, tB: ti + 1e9}}
		e.edges[k], e.strong[k] = ed, ed
		added++
	}
	node := 0
	for added < edges*9/10 && node < nodes {
		size := min(10+r.IntN(21), nodes-node)
		for i := range size {
			for j := i + 1; j < size; j++ {
				if r.Float64() < 0.8 {
					link(node+i, node+j)
				}
			}
		}
		node += size
	}
	for added < edges {
		link(r.IntN(nodes), r.IntN(nodes))
	}
	return e
}

func BenchmarkDetect(b *testing.B) {
	for _, size := range []struct{ nodes, edges int }{{10_000, 100_000}, {100_000, 1_000_000}} {
		b.Run(fmt.Sprintf("%dk_%dk", size.nodes/1000, size.edges/1000), func(b *testing.B) {
			e := benchEngine(b, size.nodes, size.edges)
			b.ReportAllocs()
			clusters := 0
			for b.Loop() {
				clusters = len(e.Detect())
			}
			b.ReportMetric(float64(clusters), "clusters")
			b.ReportMetric(float64(e.Stats().LastDetectSize), "edges")
		})
	}
}

// BenchmarkLouvain times community detection alone (finest level and
// rejoin) on the same graphs, without building cluster records.
func BenchmarkLouvain(b *testing.B) {
	for _, size := range []struct{ nodes, edges int }{{10_000, 100_000}, {100_000, 1_000_000}} {
		b.Run(fmt.Sprintf("%dk_%dk", size.nodes/1000, size.edges/1000), func(b *testing.B) {
			sizes := make([]int, 0, size.nodes/20)
			for n := 0; n < size.nodes*9/10; n += 20 {
				sizes = append(sizes, 20)
			}
			per := 20 * 19 / 2 * len(sizes)
			dens := min(1, float64(size.edges)*0.9/float64(per))
			edges, truth := plantedGraphD(1, sizes, size.edges/10, dens)
			g := buildCSR(len(truth), edges)
			b.ReportAllocs()
			for b.Loop() {
				rejoin(g, louvain(g, 0), 0.25)
			}
			b.ReportMetric(float64(len(edges)), "edges")
		})
	}
}

// BenchmarkCNTCounter computes the toolkit's co_retweet network of 300k
// reposts by 100k accounts (decimal IDs) of 200k originals with Zipf(1.1)
// popularity, 10 reposts a second of stream time, 60 s window: adding
// the shares and counting the merged network. It reports shares/s and
// the co-share pairs behind the count.
func BenchmarkCNTCounter(b *testing.B) {
	const n = 300_000
	r := rand.New(rand.NewPCG(2, 2))
	zipf := rand.NewZipf(r, 1.1, 1, 200_000-1)
	type row struct{ obj, acc, msg string }
	rows := make([]row, n)
	for i := range rows {
		rows[i] = row{"twitter:" + strconv.FormatUint(zipf.Uint64(), 10), strconv.Itoa(r.IntN(100_000)), strconv.Itoa(1_000_000_000 + i)}
	}
	p := CNTParams{TimeWindow: time.Minute, MinEdgeWeight: 2, OneObjectPerMessage: true}
	var pairs int
	for b.Loop() {
		c, err := NewCNTCounter(p)
		if err != nil {
			b.Fatal(err)
		}
		for i, s := range rows {
			c.Add(s.obj, s.acc, s.msg, t0.UnixNano()+int64(i)*int64(100*time.Millisecond))
		}
		pairs = len(c.Network().Pairs)
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "shares/s")
	b.ReportMetric(float64(pairs), "pairs")
}
