package scoring

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/election"
	"github.com/vigie-osint/vigie/graph"
	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/scenario"
)

var update = flag.Bool("update", false, "rewrite testdata/golden files")

// scenarioRun replays the bundled scenario the way the graph stage does:
// every post to the engine and, when new, to the scorer; detection every
// 30 minutes of stream time and at the end; active clusters scored.
func scenarioRun(t testing.TB) (*Scorer, []post.Cluster, scenario.Truth, []post.Post) {
	t.Helper()
	scenarioOnce.Do(func() {
		scenarioCache.s, scenarioCache.cs, scenarioCache.truth, scenarioCache.posts = replayScenario(t)
	})
	return scenarioCache.s, scenarioCache.cs, scenarioCache.truth, scenarioCache.posts
}

var (
	scenarioOnce  sync.Once
	scenarioCache struct {
		s     *Scorer
		cs    []post.Cluster
		truth scenario.Truth
		posts []post.Post
	}
)

func replayScenario(t testing.TB) (*Scorer, []post.Cluster, scenario.Truth, []post.Post) {
	var truth scenario.Truth
	b, err := os.ReadFile("../testdata/scenario/truth.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../testdata/scenario/posts.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var posts []post.Post
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		p, err := post.DecodePost(fmt.Sprintf("posts.jsonl:%d", line), sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		posts = append(posts, p)
	}
	eng, err := graph.New(graph.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s := NewWith(Config{}, election.Default())
	active := map[string]post.Cluster{}
	detect := func() {
		cs := eng.Detect()
		s.Detect()
		for i := range cs {
			c := cs[i]
			if c.Status == post.StatusActive {
				s.ScoreCluster(&c)
				active[c.ID] = c
			} else {
				s.Forget(c.ID)
				delete(active, c.ID)
			}
		}
	}
	every := 30 * time.Minute
	var next time.Time
	for i := range posts {
		p := &posts[i]
		if next.IsZero() {
			next = p.Time.Truncate(every).Add(every)
		}
		if !p.Time.Before(next) {
			detect()
			next = p.Time.Truncate(every).Add(every)
		}
		if eng.Add(p) {
			s.Observe(p)
		}
	}
	detect()
	var out []post.Cluster
	for _, c := range active {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b post.Cluster) int { return strings.Compare(a.ID, b.ID) })
	return s, out, truth, posts
}

// goldenNetwork is what the golden file records per planted network.
type goldenNetwork struct {
	Network      string   `json:"network"`
	Planted      string   `json:"planted"` // target/stance
	Cluster      string   `json:"cluster"`
	Overlap      int      `json:"overlap"`
	Size         int      `json:"size"`
	Target       string   `json:"target"`
	TargetStance string   `json:"target_stance"`
	Risk         float64  `json:"risk"`
	BotShare     float64  `json:"bot_share"`
	Reasons      []string `json:"reasons"`
}

// TestScenarioGolden: each planted network's cluster must carry the target
// and stance it was planted with; the whole result is compared with
// testdata/golden/scenario.json (-update rewrites it).
func TestScenarioGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("replays the bundled scenario (a few seconds)")
	}
	_, clusters, truth, _ := scenarioRun(t)
	var got []goldenNetwork
	planted := map[string]bool{}
	for _, n := range truth.Networks {
		members := map[string]bool{}
		for _, m := range n.Members {
			members[m] = true
		}
		best, bestOv := -1, 0
		for i, c := range clusters {
			ov := 0
			for _, m := range c.Members {
				if members[m] {
					ov++
				}
			}
			if ov > bestOv {
				best, bestOv = i, ov
			}
		}
		g := goldenNetwork{Network: n.Name, Planted: n.Target + "/" + n.Stance}
		if best < 0 {
			t.Errorf("%s: no cluster found", n.Name)
			got = append(got, g)
			continue
		}
		c := clusters[best]
		planted[c.ID] = true
		g.Cluster, g.Overlap, g.Size = c.ID, bestOv, len(c.Members)
		g.Target, g.TargetStance, g.Risk, g.BotShare, g.Reasons = c.Target, c.TargetStance, c.Scores.Risk, c.BotShare, c.Scores.Reasons
		got = append(got, g)
		if c.Target != n.Target || c.TargetStance != n.Stance {
			t.Errorf("%s: cluster %s has target %q/%q, planted %s/%s (stance %v)", n.Name, c.ID, c.Target, c.TargetStance, n.Target, n.Stance, c.Stance)
		}
		// 70% of a planted network's members are mass-created (the
		// scenario's camouflage share is 0.3).
		if c.BotShare < 0.35 {
			t.Errorf("%s: bot share %.2f; most planted members are mass-created accounts", n.Name, c.BotShare)
		}
		if len(c.Scores.Reasons) == 0 {
			t.Errorf("%s: no reasons", n.Name)
		}
	}
	for _, c := range clusters {
		if !planted[c.ID] {
			t.Logf("unplanted cluster %s: %d members, risk %.1f, target %s/%s, bots %.2f", c.ID, len(c.Members), c.Scores.Risk, c.Target, c.TargetStance, c.BotShare)
		}
	}
	for _, g := range got {
		t.Logf("%-20s planted %-16s -> %s/%s risk %.1f bots %.2f (%d/%d members)", g.Network, g.Planted, g.Target, g.TargetStance, g.Risk, g.BotShare, g.Overlap, g.Size)
	}
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	path := "testdata/golden/scenario.json"
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./scoring -run TestScenarioGolden -update)", err)
	}
	if string(want) != string(b) {
		t.Errorf("scenario scores differ from %s (run with -update if the change is intended):\n%s", path, b)
	}
}

// TestScenarioBotLikeness: planted members should score as more bot-like
// than the other accounts. It reports the ROC AUC (the chance that a
// random planted member outscores a random other account) and the share
// of each group at or above BotThreshold.
func TestScenarioBotLikeness(t *testing.T) {
	if testing.Short() {
		t.Skip("replays the bundled scenario")
	}
	s, _, truth, _ := scenarioRun(t)
	planted := map[string]bool{}
	for _, n := range truth.Networks {
		for _, m := range n.Members {
			planted[m] = true
		}
		for _, m := range n.Leaders {
			planted[m] = true // leaders are neither, leave them out below
		}
	}
	leaders := map[string]bool{}
	for _, n := range truth.Networks {
		for _, m := range n.Leaders {
			leaders[m] = true
		}
	}
	var pos, neg []float64
	keys := make([]string, 0, len(s.Accounts().ByKey))
	for k := range s.Accounts().ByKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if leaders[k] {
			continue
		}
		b, _ := s.Accounts().BotLikeness(k)
		if planted[k] {
			pos = append(pos, b.Score)
		} else {
			neg = append(neg, b.Score)
		}
	}
	auc := 0.0
	for _, p := range pos {
		for _, n := range neg {
			switch {
			case p > n:
				auc++
			case p == n:
				auc += 0.5
			}
		}
	}
	auc /= float64(len(pos) * len(neg))
	share := func(xs []float64) float64 {
		n := 0
		for _, x := range xs {
			if x >= BotThreshold {
				n++
			}
		}
		return float64(n) / float64(len(xs))
	}
	t.Logf("bot-likeness: AUC %.3f; at or above %.1f: %.1f%% of %d planted members, %.1f%% of %d other accounts",
		auc, BotThreshold, 100*share(pos), len(pos), 100*share(neg), len(neg))
	if auc < 0.8 {
		t.Errorf("AUC %.3f < 0.8", auc)
	}
	if share(neg) > 0.05 {
		t.Errorf("%.1f%% of organic accounts look bot-like", 100*share(neg))
	}
}
