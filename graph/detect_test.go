package graph

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// TestPlantedGroups checks that Detect recovers groups planted in organic
// noise: for each group, the cluster holding most of its members must hold
// at least 90% of them (recall) and be at least 90% made of them (purity),
// and few organic accounts may end up in any cluster.
func TestPlantedGroups(t *testing.T) {
	for _, tc := range []struct {
		seed  uint64
		sizes []int
	}{
		{1, []int{10, 20, 30}},
		{2, []int{12, 15, 25, 18}},
	} {
		t.Run(fmt.Sprint(tc.seed), func(t *testing.T) {
			s := genStream(tc.seed, tc.sizes, 3000, 40000, 40)
			e := mustNew(t, Config{})
			for _, p := range s.posts {
				if !e.Add(p) {
					t.Fatalf("post %s rejected", p.Key())
				}
			}
			clusters := e.Detect()
			st := e.Stats()
			t.Logf("%d posts, %d pairs, %d edges (%d >= MinWeight), %d clusters", st.Posts, st.Pairs, st.Edges, st.StrongEdges, len(clusters))
			organic := 0
			for _, c := range clusters {
				for _, m := range c.Members {
					if s.orgs[m] {
						organic++
					}
				}
			}
			for g, members := range s.groups {
				best, bestN := -1, 0
				for i, c := range clusters {
					n := 0
					for _, m := range c.Members {
						if s.group[m] == g && !s.orgs[m] {
							n++
						}
					}
					if n > bestN {
						best, bestN = i, n
					}
				}
				if best < 0 {
					t.Errorf("group %d (%d members) not found", g, len(members))
					continue
				}
				recall := float64(bestN) / float64(len(members))
				purity := float64(bestN) / float64(len(clusters[best].Members))
				t.Logf("group %d: %d members, cluster %s of %d, recall %.2f purity %.2f", g, len(members), clusters[best].ID, len(clusters[best].Members), recall, purity)
				if recall < 0.9 || purity < 0.9 {
					t.Errorf("group %d: recall %.2f purity %.2f, want both >= 0.9", g, recall, purity)
				}
			}
			if organic > 5 {
				t.Errorf("%d organic accounts in clusters, tolerance 5", organic)
			}
			for _, c := range clusters {
				checkCluster(t, e, c)
			}
		})
	}
}

// checkCluster checks the invariants of an active cluster record.
func checkCluster(t *testing.T, e *Engine, c post.Cluster) {
	t.Helper()
	cfg := e.Config()
	if c.Status != post.StatusActive || c.Schema != post.SchemaVersion {
		t.Errorf("%s: status %q schema %d", c.ID, c.Status, c.Schema)
	}
	if !slices.IsSorted(c.Members) || len(slices.Compact(slices.Clone(c.Members))) != len(c.Members) {
		t.Errorf("%s: members not sorted and unique", c.ID)
	}
	if len(c.Members) < cfg.MinClusterSize {
		t.Errorf("%s: %d members, below MinClusterSize", c.ID, len(c.Members))
	}
	in := map[string]bool{}
	for _, m := range c.Members {
		in[m] = true
	}
	earliest := c.Edges[0]
	covered := map[string]bool{}
	objects := map[post.Kind]map[string]map[string]bool{}
	for _, ed := range c.Edges {
		if !in[ed.A] || !in[ed.B] || ed.A >= ed.B || ed.Weight < cfg.MinWeight {
			t.Errorf("%s: bad edge %s-%s weight %d", c.ID, ed.A, ed.B, ed.Weight)
		}
		if len(ed.Evidence) == 0 || len(ed.Evidence) > cfg.MaxEvidence {
			t.Errorf("%s: edge %s-%s has %d evidence samples", c.ID, ed.A, ed.B, len(ed.Evidence))
		}
		if ed.First.Before(c.FirstSeen) || ed.Last.After(c.LastSeen) {
			t.Errorf("%s: edge outside FirstSeen..LastSeen", c.ID)
		}
		if ed.Extra["since"].(time.Time).Before(earliest.Extra["since"].(time.Time)) {
			earliest = ed
		}
		covered[ed.A], covered[ed.B] = true, true
		for _, v := range ed.Evidence {
			if objects[v.Kind] == nil {
				objects[v.Kind] = map[string]map[string]bool{}
			}
			if objects[v.Kind][v.Key] == nil {
				objects[v.Kind][v.Key] = map[string]bool{}
			}
		}
	}
	if len(covered) != len(c.Members) {
		t.Errorf("%s: %d members but edges cover %d", c.ID, len(c.Members), len(covered))
	}
	if want := post.StableID("c-", earliest.A, earliest.B); c.ID != want {
		t.Errorf("ID %s, want %s from the first edge to reach MinWeight, %s-%s", c.ID, want, earliest.A, earliest.B)
	}
	total := 0
	for _, n := range c.Signals {
		total += n
	}
	if total == 0 || len(c.TopObjects) == 0 || len(c.TopObjects) > maxTopObjects {
		t.Errorf("%s: signals %v, %d top objects", c.ID, c.Signals, len(c.TopObjects))
	}
	for i := 1; i < len(c.TopObjects); i++ {
		a, b := c.TopObjects[i-1], c.TopObjects[i]
		if a.Count < b.Count || (a.Count == b.Count && a.Key > b.Key) {
			t.Errorf("%s: top objects out of order: %v then %v", c.ID, a, b)
		}
	}
	if len(c.Posts) == 0 || len(c.Posts) > maxClusterPost {
		t.Errorf("%s: %d posts", c.ID, len(c.Posts))
	}
	if c.Platform != post.PlatformTwitter {
		t.Errorf("%s: platform %q", c.ID, c.Platform)
	}
	if c.Scores.Risk != 0 || c.Scores.Coordination != 0 {
		t.Errorf("%s: scores filled", c.ID)
	}
}

// burst makes every account in accs repost orig within a few seconds.
func burst(n *int, accs []string, orig string, sec float64) []*post.Post {
	var out []*post.Post
	for i, a := range accs {
		*n++
		out = append(out, rp(fmt.Sprint("b", *n), a, orig, sec+float64(i)))
	}
	return out
}

func TestMergedAndExpired(t *testing.T) {
	e := mustNew(t, Config{Retention: 6 * time.Hour})
	n := 0
	add := func(ps []*post.Post) {
		for _, p := range ps {
			e.Add(p)
		}
	}
	x := []string{"x1", "x2", "x3", "x4"}
	y := []string{"y1", "y2", "y3", "y4"}
	z := []string{"z1", "z2", "z3"}
	for i := range 4 {
		add(burst(&n, x, fmt.Sprint("ox", i), float64(i*300)))
		add(burst(&n, y, fmt.Sprint("oy", i), float64(i*300+100)))
		add(burst(&n, z, fmt.Sprint("oz", i), float64(i*300+200)))
	}
	first := e.Detect()
	if len(first) != 3 {
		t.Fatalf("got %d clusters, want 3: %+v", len(first), first)
	}
	idOf := func(cs []post.Cluster, member string) string {
		for _, c := range cs {
			if c.Status == post.StatusActive && slices.Contains(c.Members, "twitter:"+member) {
				return c.ID
			}
		}
		return ""
	}
	xID, yID, zID := idOf(first, "x1"), idOf(first, "y1"), idOf(first, "z1")

	// x and y now act as one group, many times: they merge, and x, whose
	// earliest edge is the older, keeps its ID.
	xy := append(slices.Clone(x), y...)
	for i := range 8 {
		add(burst(&n, xy, fmt.Sprint("oxy", i), float64(1500+i*120)))
	}
	second := e.Detect()
	want := map[string]string{xID: post.StatusActive, yID: post.StatusMerged, zID: post.StatusActive}
	got := map[string]string{}
	for _, c := range second {
		got[c.ID] = c.Status
		if c.ID == yID && c.MergedInto != xID {
			t.Errorf("y merged into %q, want %q", c.MergedInto, xID)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("second detect: %v, want %v", got, want)
	}
	if idOf(second, "y1") != xID {
		t.Errorf("y1 is in %q, want %q", idOf(second, "y1"), xID)
	}

	// Status records are returned once.
	third := e.Detect()
	if len(third) != 2 {
		t.Errorf("third detect returned %d records, want the 2 active clusters", len(third))
	}

	// Time passes beyond Retention: everything expires.
	e.Add(rp("late", "nobody", "nothing", 1500+8*120+7*3600))
	fourth := e.Detect()
	got = map[string]string{}
	for _, c := range fourth {
		got[c.ID] = c.Status
		if c.MergedInto != "" || len(c.Members) == 0 {
			t.Errorf("expired record %+v", c)
		}
	}
	if want := map[string]string{xID: post.StatusExpired, zID: post.StatusExpired}; !reflect.DeepEqual(got, want) {
		t.Errorf("fourth detect: %v, want %v", got, want)
	}
	if fifth := e.Detect(); len(fifth) != 0 {
		t.Errorf("fifth detect: %d records, want none", len(fifth))
	}
}

// TestDetectDeterministic checks that the same posts give byte-identical
// output, and that the active clusters do not depend on how often Detect
// ran before (on this stream, whose clusters only grow, neither do their
// IDs; see TestTrackIDs for IDs that do depend on the clusters emitted
// before).
func TestDetectDeterministic(t *testing.T) {
	s := genStream(3, []int{10, 14}, 500, 8000, 25)
	a, b := mustNew(t, Config{}), mustNew(t, Config{})
	for i, p := range s.posts {
		a.Add(p)
		b.Add(p)
		if i%1000 == 999 {
			a.Detect() // b detects only at the end
		}
	}
	ja, _ := json.Marshal(activeOnly(a.Detect()))
	jb, _ := json.Marshal(activeOnly(b.Detect()))
	if string(ja) != string(jb) {
		t.Error("active clusters depend on earlier Detect calls")
	}
	c := mustNew(t, Config{})
	for _, p := range s.posts {
		c.Add(p)
	}
	jc, _ := json.Marshal(c.Detect())
	d := mustNew(t, Config{})
	for _, p := range s.posts {
		d.Add(p)
	}
	jd, _ := json.Marshal(d.Detect())
	if string(jc) != string(jd) || len(jc) < 100 {
		t.Errorf("same stream, different output (%d vs %d bytes)", len(jc), len(jd))
	}
}

func activeOnly(cs []post.Cluster) []post.Cluster {
	var out []post.Cluster
	for _, c := range cs {
		if c.Status == post.StatusActive {
			out = append(out, c)
		}
	}
	return out
}

func TestDetectEmpty(t *testing.T) {
	e := mustNew(t, Config{})
	if got := e.Detect(); len(got) != 0 {
		t.Errorf("empty engine: %v", got)
	}
	e.Add(rp("1", "a", "x", 0))
	e.Add(rp("2", "b", "x", 1))
	if got := e.Detect(); len(got) != 0 {
		t.Errorf("one weak edge: %v", got)
	}
}

// TestIDStableWhenOldEdgeStrengthens: a pair that co-acted once long ago
// and reaches MinWeight only after the cluster was reported has the
// earliest First of the cluster, yet must not change the cluster's ID.
func TestIDStableWhenOldEdgeStrengthens(t *testing.T) {
	e := mustNew(t, Config{})
	n := 0
	add := func(ps []*post.Post) {
		for _, p := range ps {
			e.Add(p)
		}
	}
	add(burst(&n, []string{"c", "d"}, "old", 0))
	for i := range 3 {
		add(burst(&n, []string{"a", "b", "c"}, fmt.Sprint("x", i), float64(3600+i*300)))
	}
	first := e.Detect()
	if len(first) != 1 || len(first[0].Members) != 3 {
		t.Fatalf("first detect: %+v", first)
	}
	for i := range 3 {
		add(burst(&n, []string{"a", "b", "c", "d"}, fmt.Sprint("y", i), float64(7200+i*300)))
	}
	second := e.Detect()
	if len(second) != 1 || second[0].ID != first[0].ID || len(second[0].Members) != 4 {
		t.Fatalf("second detect: want one active cluster %s of 4, got %+v", first[0].ID, second)
	}
	for _, ed := range second[0].Edges {
		if ed.A == "twitter:c" && ed.B == "twitter:d" && !ed.First.Equal(t0) {
			t.Errorf("c-d First %v, want %v: the test no longer covers an old edge", ed.First, t0)
		}
	}
}

func TestClusterObjects(t *testing.T) {
	e := mustNew(t, Config{})
	n := 0
	for i := range 3 {
		for _, p := range burst(&n, []string{"a", "b", "c"}, fmt.Sprint("x", i), float64(i*100)) {
			e.Add(p)
		}
	}
	for _, p := range burst(&n, []string{"a", "b"}, "y", 400) {
		e.Add(p)
	}
	cs := e.Detect()
	if len(cs) != 1 {
		t.Fatalf("got %d clusters", len(cs))
	}
	c := cs[0]
	wantTop := []post.KeyCount{
		{Kind: post.KindRepost, Key: "twitter:x0", Count: 3},
		{Kind: post.KindRepost, Key: "twitter:x1", Count: 3},
		{Kind: post.KindRepost, Key: "twitter:x2", Count: 3},
		{Kind: post.KindRepost, Key: "twitter:y", Count: 2},
	}
	if !reflect.DeepEqual(c.TopObjects, wantTop) {
		t.Errorf("top objects %v, want %v", c.TopObjects, wantTop)
	}
	if !reflect.DeepEqual(c.Signals, map[post.Kind]int{post.KindRepost: 4}) {
		t.Errorf("signals %v, want repost:4", c.Signals)
	}
	if c.EdgeCount != 3 || len(c.Edges) != 3 || c.Edges[0].Weight != 4 {
		t.Errorf("edge count %d, edges %d, a-b weight %d", c.EdgeCount, len(c.Edges), c.Edges[0].Weight)
	}
	if want := post.StableID("c-", "twitter:a", "twitter:b"); c.ID != want {
		t.Errorf("ID %s, want %s (a-b, the lowest of three edges reaching MinWeight together)", c.ID, want)
	}
	if len(c.Posts) != 11 || c.Posts[0] != "twitter:b1" {
		t.Errorf("posts %v: want the 11 posts, earliest first", c.Posts)
	}
}
