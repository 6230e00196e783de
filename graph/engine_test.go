package graph

import (
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

func TestPairing(t *testing.T) {
	const W = 60.0
	tests := []struct {
		name  string
		cfg   Config
		posts []*post.Post
		want  map[string]int // "A|B" -> weight
	}{
		{"dt exactly Window pairs", Config{},
			[]*post.Post{rp("1", "a", "x", 0), rp("2", "b", "x", W)},
			map[string]int{"twitter:a|twitter:b": 1}},
		{"dt Window+1s does not", Config{},
			[]*post.Post{rp("1", "a", "x", 0), rp("2", "b", "x", W+1)},
			map[string]int{}},
		{"late arrival at exactly Window pairs", Config{},
			[]*post.Post{rp("2", "b", "x", W), rp("1", "a", "x", 0)},
			map[string]int{"twitter:a|twitter:b": 1}},
		{"late arrival at Window+1s does not", Config{},
			[]*post.Post{rp("2", "b", "x", W+1), rp("1", "a", "x", 0)},
			map[string]int{}},
		{"different objects do not pair", Config{},
			[]*post.Post{rp("1", "a", "x", 0), rp("2", "b", "y", 1)},
			map[string]int{}},
		{"self-pairs ignored", Config{},
			[]*post.Post{rp("1", "a", "x", 0), rp("2", "a", "x", 1), rp("3", "a", "y", 2), rp("4", "a", "y", 3)},
			map[string]int{}},
		{"weight counts distinct objects", Config{},
			[]*post.Post{
				rp("1", "a", "x", 0), rp("2", "b", "x", 1),
				rp("3", "a", "x", 10), rp("4", "b", "x", 11), // same object again
				rp("5", "a", "y", 100), rp("6", "b", "y", 101),
				rp("7", "a", "z", 200), rp("8", "b", "z", 230),
			},
			map[string]int{"twitter:a|twitter:b": 3}},
		{"KeyCap keeps the most recent actions", Config{KeyCap: 2},
			[]*post.Post{rp("1", "a", "x", 0), rp("2", "b", "x", 1), rp("3", "c", "x", 2), rp("4", "d", "x", 3)},
			map[string]int{
				"twitter:a|twitter:b": 1, "twitter:a|twitter:c": 1, "twitter:b|twitter:c": 1,
				"twitter:b|twitter:d": 1, "twitter:c|twitter:d": 1, // not a|d: a was evicted
			}},
		{"KeyCap does not admit a late action older than all kept", Config{KeyCap: 2},
			[]*post.Post{rp("2", "b", "x", 10), rp("3", "c", "x", 20), rp("1", "a", "x", 0), rp("4", "d", "x", 30)},
			map[string]int{
				"twitter:b|twitter:c": 1, "twitter:a|twitter:b": 1, "twitter:a|twitter:c": 1,
				"twitter:b|twitter:d": 1, "twitter:c|twitter:d": 1,
			}},
		{"out-of-order arrival within Lateness pairs", Config{Lateness: 2 * time.Minute},
			[]*post.Post{rp("1", "a", "x", 100), rp("9", "z", "q", 200), rp("2", "b", "x", 90)},
			map[string]int{"twitter:a|twitter:b": 1}},
		{"arrival later than Lateness is dropped", Config{Lateness: 2 * time.Minute},
			[]*post.Post{rp("1", "a", "x", 100), rp("9", "z", "q", 300), rp("2", "b", "x", 90)},
			map[string]int{}},
		{"weak edge forgotten after WeakRetention", Config{WeakRetention: time.Hour, Retention: 2 * time.Hour},
			[]*post.Post{
				rp("1", "a", "x", 0), rp("2", "b", "x", 1),
				rp("3", "a", "y", 3600+2), rp("4", "b", "y", 3600+3), // last co-action 3601s before: expired
			},
			map[string]int{"twitter:a|twitter:b": 1}},
		{"weak edge kept within WeakRetention", Config{WeakRetention: time.Hour, Retention: 2 * time.Hour},
			[]*post.Post{
				rp("1", "a", "x", 0), rp("2", "b", "x", 1),
				rp("3", "a", "y", 3600), rp("4", "b", "y", 3601),
			},
			map[string]int{"twitter:a|twitter:b": 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := mustNew(t, tc.cfg)
			for _, p := range tc.posts {
				e.Add(p)
			}
			if got := weights(e); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("edges %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEdgeAggregates(t *testing.T) {
	e := mustNew(t, Config{MaxEvidence: 2})
	for _, p := range []*post.Post{
		rp("b1", "b", "x", 0), rp("a1", "a", "x", 10), // dt 10
		rp("a2", "a", "y", 100), rp("b2", "b", "y", 130), // dt 30
		rp("b3", "b", "y", 140), // y again: dt 40 from a2, same object
	} {
		e.Add(p)
	}
	eds := e.Edges(1)
	if len(eds) != 1 {
		t.Fatalf("got %d edges, want 1", len(eds))
	}
	ed := eds[0]
	if ed.A != "twitter:a" || ed.B != "twitter:b" {
		t.Errorf("edge %s-%s, want accounts ordered a < b", ed.A, ed.B)
	}
	if ed.Weight != 2 || ed.Signals[post.KindRepost] != 2 || ed.Extra["co_actions"] != int64(3) {
		t.Errorf("weight %d signals %v co_actions %v, want 2, repost:2, 3", ed.Weight, ed.Signals, ed.Extra["co_actions"])
	}
	if want := (10.0 + 30 + 40) / 3; math.Abs(ed.MeanDelta-want) > 1e-9 {
		t.Errorf("mean delta %v, want %v", ed.MeanDelta, want)
	}
	if !ed.First.Equal(t0) || !ed.Last.Equal(t0.Add(140*time.Second)) {
		t.Errorf("first %v last %v", ed.First, ed.Last)
	}
	// Evidence keeps the two earliest co-actions, A's post first.
	want := []post.Evidence{
		{Kind: post.KindRepost, Key: "twitter:x", PostA: "twitter:a1", PostB: "twitter:b1", TimeA: t0.Add(10 * time.Second), TimeB: t0},
		{Kind: post.KindRepost, Key: "twitter:y", PostA: "twitter:a2", PostB: "twitter:b2", TimeA: t0.Add(100 * time.Second), TimeB: t0.Add(130 * time.Second)},
	}
	if !reflect.DeepEqual(ed.Evidence, want) {
		t.Errorf("evidence %+v\nwant %+v", ed.Evidence, want)
	}
}

// TestArrivalOrder checks that a permutation of posts within Lateness
// yields the same edges, evidence included: kept evidence is the earliest
// under a total order, not the first to arrive.
func TestArrivalOrder(t *testing.T) {
	posts := []*post.Post{
		rp("1", "a", "x", 0), rp("2", "b", "x", 5), rp("3", "c", "x", 9),
		rp("4", "a", "y", 20), rp("5", "b", "y", 21), rp("6", "c", "y", 25),
		rp("7", "a", "z", 40), rp("8", "b", "z", 44), rp("9", "c", "z", 50),
	}
	ref := mustNew(t, Config{MaxEvidence: 2})
	for _, p := range posts {
		ref.Add(p)
	}
	want := ref.Edges(1)
	for _, perm := range [][]int{{8, 7, 6, 5, 4, 3, 2, 1, 0}, {4, 0, 8, 2, 6, 1, 3, 7, 5}} {
		e := mustNew(t, Config{MaxEvidence: 2})
		for _, i := range perm {
			e.Add(posts[i])
		}
		if got := e.Edges(1); !reflect.DeepEqual(got, want) {
			t.Errorf("order %v: edges\n%+v\nwant\n%+v", perm, got, want)
		}
	}
}

func TestIdempotentAdd(t *testing.T) {
	s := genStream(7, []int{10}, 200, 3000, 20)
	once := mustNew(t, Config{})
	twice := mustNew(t, Config{})
	for i, p := range s.posts {
		if !once.Add(p) {
			t.Fatalf("post %d rejected on first delivery", i)
		}
		twice.Add(p)
		// Re-deliver the post and a few recent ones, as after a crash.
		for j := max(0, i-3); j <= i; j++ {
			if twice.Add(s.posts[j]) {
				t.Fatalf("post %d accepted twice", j)
			}
		}
	}
	if a, b := once.Edges(1), twice.Edges(1); !reflect.DeepEqual(a, b) {
		t.Fatal("re-delivered posts changed the edges")
	}
	sa, sb := once.Stats(), twice.Stats()
	if sa.WindowActions != sb.WindowActions || sa.Pairs != sb.Pairs || sa.Actions != sb.Actions {
		t.Errorf("stats differ: %+v vs %+v", sa, sb)
	}
	if sb.Duplicates == 0 {
		t.Error("no duplicate counted")
	}
	if a, b := once.Detect(), twice.Detect(); !reflect.DeepEqual(a, b) {
		t.Error("re-delivered posts changed Detect")
	}
}

// TestMemoryBounded feeds a long stream with steadily new accounts and
// objects and checks that what the engine holds stops growing.
func TestMemoryBounded(t *testing.T) {
	e := mustNew(t, Config{WeakRetention: 10 * time.Minute, Retention: 20 * time.Minute})
	n := 0
	var mid Stats
	for hour := range 12 {
		for i := range 2000 {
			sec := float64(hour*3600) + float64(i)*1.8
			// Bursts of 10 posts (18 s) on one object, by the 20 accounts
			// of this hour; objects come back every 15 minutes.
			a := hour*20 + i%20
			e.Add(rp(fmt.Sprint("p", n), fmt.Sprint("a", a), fmt.Sprint("x", hour*50+(i/10)%50), sec))
			n++
		}
		if hour == 5 {
			mid = e.Stats()
		}
	}
	end := e.Stats()
	if end.Edges > 2*mid.Edges+100 || end.Accounts > 2*mid.Accounts+100 || end.SeenPosts > 2*mid.SeenPosts+100 || end.WindowKeys > 2*mid.WindowKeys+100 {
		t.Errorf("state grows: at 6h %+v, at 12h %+v", mid, end)
	}
	if end.PrunedEdges == 0 || end.Sweeps == 0 {
		t.Errorf("nothing pruned: %+v", end)
	}
}
