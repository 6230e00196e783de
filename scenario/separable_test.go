package scenario

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// coWindow is the co-action window of Vigie's first detector.
const coWindow = 60 * time.Second

// coactions computes, naively and exactly, the co-repost and co-link
// pairs of posts: two accounts that reposted the same post, or shared the
// same URL, within coWindow of each other. It returns, for each pair
// (a < b), the number of distinct shared objects.
func coactions(posts []*post.Post) map[[2]string]int {
	type act struct {
		who string
		at  time.Time
	}
	byKey := map[string][]act{}
	for _, p := range posts {
		if p.RepostOf != "" {
			k := "repost\x00" + p.RepostOf
			byKey[k] = append(byKey[k], act{p.AuthorKey(), p.Time})
		}
		for _, u := range p.URLs {
			k := "link\x00" + u
			byKey[k] = append(byKey[k], act{p.AuthorKey(), p.Time})
		}
	}
	shared := map[[2]string]map[string]bool{}
	for key, acts := range byKey {
		slices.SortStableFunc(acts, func(a, b act) int { return a.at.Compare(b.at) })
		for i := range acts {
			for j := i + 1; j < len(acts) && acts[j].at.Sub(acts[i].at) <= coWindow; j++ {
				a, b := acts[i].who, acts[j].who
				if a == b {
					continue
				}
				if b < a {
					a, b = b, a
				}
				pair := [2]string{a, b}
				if shared[pair] == nil {
					shared[pair] = map[string]bool{}
				}
				shared[pair][key] = true
			}
		}
	}
	out := make(map[[2]string]int, len(shared))
	for p, s := range shared {
		out[p] = len(s)
	}
	return out
}

// components returns the connected components of at least minSize
// accounts in the graph of pairs with weight >= minWeight, each sorted,
// largest first.
func components(pairs map[[2]string]int, minWeight, minSize int) [][]string {
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		if parent[x] != x {
			parent[x] = find(parent[x])
		}
		return parent[x]
	}
	for p, w := range pairs {
		if w < minWeight {
			continue
		}
		for _, a := range p {
			if _, ok := parent[a]; !ok {
				parent[a] = a
			}
		}
		if ra, rb := find(p[0]), find(p[1]); ra != rb {
			parent[max(ra, rb)] = min(ra, rb)
		}
	}
	groups := map[string][]string{}
	for a := range parent {
		r := find(a)
		groups[r] = append(groups[r], a)
	}
	var out [][]string
	for _, g := range groups {
		if len(g) >= minSize {
			slices.Sort(g)
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b []string) int { return cmp.Or(len(b)-len(a), cmp.Compare(a[0], b[0])) })
	return out
}

// collect generates cfg into memory, validating every post.
func collect(t testing.TB, cfg Config) ([]*post.Post, Truth) {
	t.Helper()
	var posts []*post.Post
	truth, err := Generate(cfg, func(p *post.Post) error {
		posts = append(posts, p)
		return p.Validate()
	})
	if err != nil {
		t.Fatal(err)
	}
	return posts, truth
}

// TestSeparable checks that the planted networks are what a co-repost and
// co-link detector (60 s window, edges of 3 or more distinct shared
// objects, communities of 3 or more) finds, and that organic users,
// viral cascades included, are not: account-level precision and recall
// of at least 0.95 on the default and the bundled scenarios.
func TestSeparable(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{{"default", Config{}}, {"compact", Compact()}} {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.name == "default" {
				t.Skip("default scenario in -short mode")
			}
			posts, truth := collect(t, tc.cfg)
			pairs := coactions(posts)
			clusters := components(pairs, 3, 3)
			ev := truth.Score(clusters)
			t.Logf("%d posts, %d accounts, %d clusters: precision %.3f recall %.3f F1 %.3f (TP %d FP %d FN %d)",
				len(posts), truth.Accounts, len(clusters), ev.Precision, ev.Recall, ev.F1, ev.TruePositives, ev.FalsePositives, ev.FalseNegatives)
			for _, n := range ev.Networks {
				t.Logf("  %-20s size %2d found %2d best cluster %d (overlap %d, Jaccard %.2f)", n.Name, n.Size, n.Found, n.BestCluster, n.BestOverlap, n.BestJaccard)
			}
			// The hard negatives must be there: genuine users who
			// co-retweet a viral post or co-share a hot article once or
			// twice. Without them the test would pass for the wrong reason.
			member := map[string]bool{}
			for _, n := range truth.Networks {
				for _, m := range n.Members {
					member[m] = true
				}
			}
			weak, strong := 0, 0
			for p, w := range pairs {
				if member[p[0]] || member[p[1]] {
					continue
				}
				if w >= 3 {
					strong++
				} else {
					weak++
				}
			}
			t.Logf("organic pairs: %d with 1-2 shared objects, %d with 3 or more", weak, strong)
			if weak < 1000 {
				t.Errorf("only %d organic pairs co-act once or twice: the scenario lacks hard negatives", weak)
			}
			if ev.Precision < 0.95 || ev.Recall < 0.95 {
				t.Errorf("precision %.3f, recall %.3f: want both >= 0.95", ev.Precision, ev.Recall)
			}
			for _, n := range ev.Networks {
				if n.Recall < 0.9 {
					t.Errorf("network %s: recall %.2f", n.Name, n.Recall)
				}
			}
		})
	}
}
