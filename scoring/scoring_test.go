package scoring

import (
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// clique builds a cluster of n members, every pair linked with weight w
// and mean delta d seconds.
func clique(n, w int, d float64) post.Cluster {
	c := post.Cluster{Signals: map[post.Kind]int{post.KindRepost: w * 2}}
	for i := 0; i < n; i++ {
		c.Members = append(c.Members, fmt.Sprintf("twitter:%d", i))
		for j := i + 1; j < n; j++ {
			c.Edges = append(c.Edges, post.Edge{A: c.Members[i], B: fmt.Sprintf("twitter:%d", j), Weight: w, MeanDelta: d})
		}
	}
	return c
}

func TestScoreOrdering(t *testing.T) {
	tight := clique(25, 12, 3)
	loose := clique(5, 3, 50)
	loose.Edges = loose.Edges[:5] // half the pairs
	Score(Config{Window: time.Minute}, &tight)
	Score(Config{Window: time.Minute}, &loose)
	if tight.Scores.Risk <= loose.Scores.Risk {
		t.Errorf("tight large cluster risk %.1f <= loose small one %.1f", tight.Scores.Risk, loose.Scores.Risk)
	}
	if tight.Scores.Density != 1 || loose.Scores.Density != 0.5 {
		t.Errorf("density = %v, %v; want 1, 0.5", tight.Scores.Density, loose.Scores.Density)
	}
	if tight.Scores.Synchrony <= loose.Scores.Synchrony {
		t.Errorf("synchrony %.3f <= %.3f", tight.Scores.Synchrony, loose.Scores.Synchrony)
	}
	for _, c := range []post.Cluster{tight, loose} {
		if c.Scores.Risk < 0 || c.Scores.Risk > 100 {
			t.Errorf("risk %v out of 0..100", c.Scores.Risk)
		}
		if len(c.Scores.Reasons) != 3 {
			t.Errorf("reasons = %q", c.Scores.Reasons)
		}
	}
	if !strings.Contains(tight.Scores.Reasons[0], "coordination") {
		t.Errorf("the top reason of a tight cluster should be coordination: %q", tight.Scores.Reasons)
	}
}

func TestScoreDegenerate(t *testing.T) {
	var c post.Cluster
	Score(Config{}, &c)
	if c.Scores.Risk != 0 {
		t.Errorf("empty cluster risk = %v", c.Scores.Risk)
	}
}

var showErrors = flag.Bool("errors", false, "list the stance model's errors on the dev split")
