package pipeline

import (
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// TestContentHash: the hash that decides whether a cluster is sent again
// ignores the detection time only. With a GraphDigest, the digest stands
// for the parts built from edges; without one, they are hashed.
func TestContentHash(t *testing.T) {
	base := func() post.Cluster {
		return post.Cluster{ID: "c-1", Status: post.StatusActive, Members: []string{"a", "b", "c"},
			Edges:   []post.Edge{{A: "a", B: "b", Weight: 3}},
			Signals: map[post.Kind]int{post.KindRepost: 3}, Scores: post.Scores{Risk: 40},
			Extra: map[string]any{"binding": "3 reposts"}, Detected: time.Unix(100, 0)}
	}
	digested := func() post.Cluster { c := base(); c.GraphDigest = 7; return c }
	for _, tc := range []struct {
		name string
		a, b func() post.Cluster
		edit func(*post.Cluster)
		same bool
	}{
		{"detection time", base, base, func(c *post.Cluster) { c.Detected = time.Unix(200, 0) }, true},
		{"score", base, base, func(c *post.Cluster) { c.Scores.Risk = 41 }, false},
		{"edge weight without digest", base, base, func(c *post.Cluster) { c.Edges[0].Weight = 4 }, false},
		{"digested: edges stand for the digest", digested, digested, func(c *post.Cluster) { c.Edges[0].Weight = 4 }, true},
		{"digested: binding too", digested, digested, func(c *post.Cluster) { c.Extra["binding"] = "x" }, true},
		{"digested: new digest", digested, digested, func(c *post.Cluster) { c.GraphDigest = 8 }, false},
		{"digested: score", digested, digested, func(c *post.Cluster) { c.Scores.Risk = 41 }, false},
		{"digested: ID", digested, digested, func(c *post.Cluster) { c.ID = "c-2" }, false},
		{"digested: status", digested, digested, func(c *post.Cluster) { c.Status = post.StatusExpired }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := tc.a(), tc.b()
			tc.edit(&b)
			ha, err := contentHash(&a)
			if err != nil {
				t.Fatal(err)
			}
			hb, err := contentHash(&b)
			if err != nil {
				t.Fatal(err)
			}
			if (ha == hb) != tc.same {
				t.Errorf("hashes equal = %v, want %v", ha == hb, tc.same)
			}
			if b.Extra != nil && tc.name == "digested: binding too" && b.Extra["binding"] != "x" {
				t.Error("contentHash changed the cluster's Extra")
			}
		})
	}
}
