package graph

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/vigie-osint/vigie/post"
)

// TestCohesion checks the measure on constructed edges: the share of a
// cluster's members that co-shared each object, averaged over objects.
func TestCohesion(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(c *constructed)
		n     int
		want  float64
	}{
		{"pair", func(c *constructed) { c.link("a", "b", keys("x", 3)...) }, 2, 1},
		{"triangle on the same objects", func(c *constructed) {
			c.link("a", "b", keys("x", 3)...)
			c.link("a", "c", keys("x", 3)...)
			c.link("b", "c", keys("x", 3)...)
		}, 3, 1},
		// A chain a-b-c-d, each link on its own objects: every object
		// involves 2 of 4 members.
		{"chain", func(c *constructed) {
			c.link("a", "b", keys("ab", 3)...)
			c.link("b", "c", keys("bc", 3)...)
			c.link("c", "d", keys("cd", 3)...)
		}, 4, 0.5},
		// A hub with 8 spokes, each spoke on its own objects: 2 of 9.
		{"star", func(c *constructed) {
			for i := range 8 {
				s := fmt.Sprint("s", i)
				c.link("hub", s, keys(s, 4)...)
			}
		}, 9, 2.0 / 9},
		// Object x0 shared by all 4, x1 by 2 of them: (4/4 + 2/4) / 2.
		{"mixed", func(c *constructed) {
			c.link("a", "b", "x0", "x1")
			c.link("c", "d", "x0")
		}, 4, 0.75},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newConstructed(t, Config{})
			tc.build(c)
			var edges []*edge
			for _, ed := range c.e.edges {
				edges = append(edges, ed)
			}
			if got := cohesion(edges, tc.n); math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("cohesion %v, want %v", got, tc.want)
			}
		})
	}
	if got := cohesion(nil, 0); got != 0 {
		t.Errorf("cohesion of nothing %v, want 0", got)
	}
}

// newsStream is a hub (an outlet) and 16 aggregators: each of 240
// articles is posted by the outlet and, within seconds, by two of the
// aggregators (k mod 16 and k+5 mod 16), ten minutes apart. Every edge is
// heavy (outlet-aggregator 30 objects, aggregator pairs 15) but each
// object involves 3 of 17 accounts: cohesion 3/17 = 0.18. Besides, a
// group of 12 reposts 20 posts, 9 members each, within seconds:
// cohesion 0.75.
func newsStream() []*post.Post {
	var ps []*post.Post
	n := 0
	add := func(author, orig string, sec float64) {
		n++
		ps = append(ps, rp(fmt.Sprintf("p%05d", n), author, orig, sec))
	}
	for k := range 240 {
		at := float64(k) * 600
		add("outlet", fmt.Sprint("art", k), at)
		add(fmt.Sprintf("bot%02d", k%16), fmt.Sprint("art", k), at+3)
		add(fmt.Sprintf("bot%02d", (k+5)%16), fmt.Sprint("art", k), at+7)
	}
	for k := range 20 {
		at := float64(k)*7200 + 300
		for m := range 12 {
			if (m+k)%4 != 0 {
				add(fmt.Sprintf("grp%02d", m), fmt.Sprint("push", k), at+float64(m))
			}
		}
	}
	slices.SortStableFunc(ps, func(x, y *post.Post) int { return x.Time.Compare(y.Time) })
	return ps
}

// TestMinCohesion: the aggregators and their outlet form one cluster of
// routine pairs, which MinCohesion drops while the group acting together
// stays; with the filter off (negative) both are reported.
func TestMinCohesion(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string // first member of each cluster
	}{
		{"default drops the chain", Config{Algorithm: AlgorithmComponents}, []string{"twitter:grp00"}},
		{"off reports it", Config{Algorithm: AlgorithmComponents, MinCohesion: -1}, []string{"twitter:bot00", "twitter:grp00"}},
		{"at 0.15 it passes", Config{Algorithm: AlgorithmComponents, MinCohesion: 0.15}, []string{"twitter:bot00", "twitter:grp00"}},
		{"louvain, default", Config{}, []string{"twitter:grp00"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := mustNew(t, tc.cfg)
			for _, p := range newsStream() {
				e.Add(p)
			}
			var got []string
			for _, cl := range e.Detect() {
				if cl.Status == post.StatusActive {
					got = append(got, cl.Members[0])
				}
			}
			slices.Sort(got)
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("clusters starting with %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMinCohesionConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    float64
		ok   bool
	}{
		{"default", 0, true},
		{"off", -1, true},
		{"one", 1, true},
		{"above one", 1.5, false},
		{"NaN", math.NaN(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Config{MinCohesion: tc.v}.Validate()
			if tc.ok != (err == nil) {
				t.Errorf("Validate(%v) = %v", tc.v, err)
			}
			if err != nil && !strings.Contains(err.Error(), "MinCohesion") {
				t.Errorf("error %q does not name MinCohesion", err)
			}
		})
	}
	if got := (Config{}).withDefaults().MinCohesion; got != DefaultMinCohesion {
		t.Errorf("default %v, want %v", got, DefaultMinCohesion)
	}
}
