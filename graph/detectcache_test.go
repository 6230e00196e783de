package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// TestDetectReuseEqualsFresh: Detect reuses the clusters of components
// whose edges did not change (Engine.built). Replaying the bundled
// scenario with a detection every 30 minutes of stream time, each
// detection must equal the one a fresh engine restored from the same
// state (so with nothing to reuse) makes, member for member and byte for
// byte; and what a caller does to a returned cluster must not reach the
// next detection.
func TestDetectReuseEqualsFresh(t *testing.T) {
	posts := loadScenario(t)
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"defaults", Config{}},
		{"significance", Config{DiscountPopular: true, NullModelAlpha: 0.05}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := mustNew(t, tc.cfg)
			var next time.Time
			detections, compared, reused := 0, 0, 0
			for _, p := range posts {
				if next.IsZero() {
					next = p.Time.Truncate(30 * time.Minute).Add(30 * time.Minute)
				}
				if !p.Time.Before(next) {
					next = p.Time.Truncate(30 * time.Minute).Add(30 * time.Minute)
					detections++
					if detections%5 != 0 {
						// Detect without comparing: the cache carries on.
						scribble(e.Detect())
						continue
					}
					var snap bytes.Buffer
					if err := e.Snapshot(&snap); err != nil {
						t.Fatal(err)
					}
					fresh := mustNew(t, tc.cfg)
					if err := fresh.Restore(&snap); err != nil {
						t.Fatal(err)
					}
					cached := len(e.built)
					got, want := e.Detect(), fresh.Detect()
					compared++
					if cached > 0 && len(got) > 0 {
						reused++
					}
					gj, _ := json.Marshal(got)
					wj, _ := json.Marshal(want)
					if !bytes.Equal(gj, wj) {
						t.Fatalf("detection %d at %s: reused clusters differ from a fresh detection\ngot  %.600s\nwant %.600s", detections, p.Time, gj, wj)
					}
					for i := range got {
						if got[i].GraphDigest != want[i].GraphDigest {
							t.Fatalf("detection %d: cluster %s digest %x, fresh %x", detections, got[i].ID, got[i].GraphDigest, want[i].GraphDigest)
						}
					}
					scribble(got)
				}
				e.Add(p)
			}
			if compared < 30 || reused < 20 {
				t.Fatalf("%d detections compared, %d with clusters to reuse: the comparison proves little", compared, reused)
			}
		})
	}
}

// scribble writes over returned clusters, as a careless caller might:
// none of it may reach the engine's cache.
func scribble(cs []post.Cluster) {
	for i := range cs {
		c := &cs[i]
		if c.Status != post.StatusActive {
			continue
		}
		c.Members = append(c.Members[:0], "scribbled")
		if len(c.Edges) > 0 {
			c.Edges[0].A = "scribbled"
		}
		c.Extra["binding"] = "scribbled"
		for k := range c.Signals {
			c.Signals[k] = -1
		}
		if len(c.Posts) > 0 {
			c.Posts[0] = "scribbled"
		}
		if len(c.TopObjects) > 0 {
			c.TopObjects[0].Key = "scribbled"
		}
	}
}

// TestDetectReuseSeesRepeats: a pair that co-acts again on an object it
// already shares changes no weight, only the co-action count, the times
// and the evidence; the reused cluster must still show it.
func TestDetectReuseSeesRepeats(t *testing.T) {
	e := mustNew(t, Config{})
	n := 0
	accs := []string{"r1", "r2", "r3", "r4"}
	for i := range 4 {
		for _, p := range burst(&n, accs, fmt.Sprint("o", i), float64(i*300)) {
			e.Add(p)
		}
	}
	coActions := func(cs []post.Cluster) int64 {
		var sum int64
		for _, c := range activeOnly(cs) {
			for _, ed := range c.Edges {
				sum += ed.Extra["co_actions"].(int64)
			}
		}
		return sum
	}
	before := coActions(e.Detect())
	if before == 0 {
		t.Fatal("no cluster: the test proves nothing")
	}
	// r1 and r2 repost o3 again, a minute later: same objects, one more
	// co-action.
	for _, p := range burst(&n, accs[:2], "o3", 960) {
		e.Add(p)
	}
	if after := coActions(e.Detect()); after <= before {
		t.Errorf("co-actions after a repeat = %d, before %d: the reused cluster is stale", after, before)
	}
}
