package graph

import (
	"bufio"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// loadScenario reads the bundled election scenario's posts.
func loadScenario(t testing.TB) []*post.Post {
	t.Helper()
	f, err := os.Open("../testdata/scenario/posts.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*post.Post
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		p, err := post.DecodePost("posts.jsonl:"+string(rune(n)), sc.Bytes())
		if err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		out = append(out, &p)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

type timedCoaction struct {
	c   Coaction
	src int
	wm  time.Time
}

// TestShardedEqualsSingle is the correctness argument of the scaled-out
// graph stage, run: the bundled scenario split by route over several
// pairing engines, their co-actions interleaved in a random order into one
// aggregating engine, gives the strong edges and clusters one engine gives.
func TestShardedEqualsSingle(t *testing.T) {
	posts := loadScenario(t)
	cfg := Config{}
	single := mustNew(t, cfg)
	for _, p := range posts {
		single.Add(p)
	}
	want := single.Detect()
	wantEdges := single.Edges(single.Config().MinWeight)
	if len(want) == 0 {
		t.Fatal("the single engine found no cluster: the comparison would prove nothing")
	}
	for _, shards := range []int{1, 3, 8} {
		t.Run("shards="+string(rune('0'+shards)), func(t *testing.T) {
			pairers := make([]*Engine, shards)
			var out []timedCoaction
			for i := range pairers {
				pairers[i] = mustNew(t, cfg)
				src := i
				pairers[i].SetCoactionSink(func(c Coaction) {
					out = append(out, timedCoaction{c: c, src: src})
				})
			}
			router := mustNew(t, cfg)
			for _, p := range posts {
				for _, r := range router.Routes(p) {
					h := fnv.New32a()
					h.Write([]byte(r))
					i := int(h.Sum32() % uint32(shards))
					n := len(out)
					pairers[i].AddRouted(p, r)
					for j := n; j < len(out); j++ {
						out[j].wm = pairers[i].StreamTime()
					}
				}
			}
			// Interleave the engines' outputs at random, keeping each
			// engine's own order (one Kafka partition each).
			per := make([][]timedCoaction, shards)
			for _, tc := range out {
				per[tc.src] = append(per[tc.src], tc)
			}
			rng := rand.New(rand.NewPCG(7, uint64(shards)))
			agg := mustNew(t, cfg)
			lateness := agg.Config().Lateness
			var q CoactionQueue
			wm := make([]time.Time, shards)
			for {
				var live []int
				for i := range per {
					if len(per[i]) > 0 {
						live = append(live, i)
					}
				}
				if len(live) == 0 {
					break
				}
				i := live[rng.IntN(len(live))]
				n := 1 + rng.IntN(50)
				for ; n > 0 && len(per[i]) > 0; n-- {
					tc := per[i][0]
					per[i] = per[i][1:]
					wm[i] = tc.wm
					q.Push(tc.c)
				}
				low := wm[0]
				for _, w := range wm {
					if w.Before(low) {
						low = w
					}
				}
				q.PopBefore(low.Add(-lateness), func(c Coaction) {
					if !agg.AddCoaction(c) {
						t.Fatalf("co-action refused: %+v", c)
					}
				})
			}
			q.PopAll(func(c Coaction) { agg.AddCoaction(c) })
			// The aggregator's clock ends where the single engine's did.
			agg.AdvanceTo(single.StreamTime())
			gotEdges := agg.Edges(agg.Config().MinWeight)
			if !reflect.DeepEqual(gotEdges, wantEdges) {
				t.Errorf("%d shards: %d strong edges, single engine %d; they differ", shards, len(gotEdges), len(wantEdges))
			}
			got := agg.Detect()
			if len(got) != len(want) {
				t.Fatalf("%d shards: %d clusters, single engine %d", shards, len(got), len(want))
			}
			for i := range want {
				if got[i].ID != want[i].ID || !reflect.DeepEqual(got[i].Members, want[i].Members) {
					t.Errorf("%d shards: cluster %d is %s %v, single engine %s %v", shards, i, got[i].ID, got[i].Members, want[i].ID, want[i].Members)
				}
			}
		})
	}
}
