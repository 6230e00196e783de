package graph

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

var t0 = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

// rp is a repost by author of orig at t0+sec seconds.
func rp(id, author, orig string, sec float64) *post.Post {
	return &post.Post{
		Schema: post.SchemaVersion, Platform: post.PlatformTwitter, ID: id, Author: author,
		Time: t0.Add(time.Duration(sec * float64(time.Second))), RepostOf: orig,
	}
}

func mustNew(t testing.TB, cfg Config) *Engine {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

// weights returns the live edges of any weight as "A|B" -> weight.
func weights(e *Engine) map[string]int {
	out := map[string]int{}
	for _, ed := range e.Edges(1) {
		out[ed.A+"|"+ed.B] = ed.Weight
	}
	return out
}

// stream is a synthetic post stream with planted coordinated groups.
type stream struct {
	posts  []*post.Post    // in arrival order
	groups [][]string      // account keys of each planted group
	group  map[string]int  // account key -> group index, absent for organic
	orgs   map[string]bool // organic account keys
}

// genStream builds a stream over two days: organic accounts repost
// originals drawn from a Zipf popularity at uniform random times (the
// chance co-actions a detector must ignore), and each planted group runs
// campaigns where most members repost the same post within seconds. Posts
// arrive up to a minute out of order, within the default Lateness.
func genStream(seed uint64, sizes []int, organicAccounts, organicPosts, campaigns int) stream {
	return genStreamP(seed, sizes, organicAccounts, organicPosts, campaigns, 0.8)
}

// genStreamP is genStream where each member joins a campaign with
// probability part.
func genStreamP(seed uint64, sizes []int, organicAccounts, organicPosts, campaigns int, part float64) stream {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	const span = 48 * 3600.0
	const originals = 2000
	zipf := rand.NewZipf(r, 1.1, 1, originals-1)
	s := stream{group: map[string]int{}, orgs: map[string]bool{}}
	type timed struct {
		p      *post.Post
		arrive float64
	}
	var all []timed
	n := 0
	add := func(author, orig string, sec float64) {
		n++
		p := rp(fmt.Sprintf("p%07d", n), author, orig, sec)
		all = append(all, timed{p, sec + r.Float64()*60})
	}
	for i := range organicAccounts {
		s.orgs["twitter:org"+fmt.Sprint(i)] = true
	}
	for range organicPosts {
		a := fmt.Sprintf("org%d", r.IntN(organicAccounts))
		add(a, fmt.Sprintf("o%d", zipf.Uint64()), r.Float64()*span)
	}
	for g, size := range sizes {
		var members []string
		for m := range size {
			members = append(members, fmt.Sprintf("g%dm%02d", g, m))
			s.group["twitter:"+members[m]] = g
		}
		keys := make([]string, size)
		for i, m := range members {
			keys[i] = "twitter:" + m
		}
		slices.Sort(keys)
		s.groups = append(s.groups, keys)
		for c := range campaigns {
			at := r.Float64() * (span - 60)
			orig := fmt.Sprintf("g%dc%d", g, c)
			if c%4 == 3 { // some campaigns push a popular organic post
				orig = fmt.Sprintf("o%d", zipf.Uint64())
			}
			for _, m := range members {
				if r.Float64() < part {
					add(m, orig, at+r.Float64()*20)
				}
			}
		}
		for _, m := range members { // members also behave organically
			for range 5 {
				add(m, fmt.Sprintf("o%d", zipf.Uint64()), r.Float64()*span)
			}
		}
	}
	slices.SortStableFunc(all, func(x, y timed) int { return cmp.Compare(x.arrive, y.arrive) })
	for _, x := range all {
		s.posts = append(s.posts, x.p)
	}
	return s
}
