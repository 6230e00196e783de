package sqlite

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store"
)

// TestScoringFieldsRoundTrip: the stance, target, bot share and risk
// factors scoring adds to a cluster are stored and returned, in the
// record and in the list summary.
func TestScoringFieldsRoundTrip(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2017, 5, 5, 20, 0, 0, 0, time.UTC)
	c := post.Cluster{Schema: post.SchemaVersion, ID: "c-1", Status: post.StatusActive, Platform: post.PlatformTwitter, Detected: at, FirstSeen: at, LastSeen: at,
		Members: []string{"twitter:a", "twitter:b", "twitter:c"}, Edges: []post.Edge{{A: "twitter:a", B: "twitter:b", Weight: 3}},
		Scores: post.Scores{Risk: 66.6, Coordination: 0.7, Stance: map[string]float64{"macron": -0.8},
			Factors: []post.Factor{{Name: "coordination", Value: 0.7, Weight: 0.3}, {Name: "bots", Value: 0.5, Weight: 0.15}}},
		Stance: map[string]post.StanceScore{"macron": {Favour: 0.05, Smear: 0.85}, "lepen": {Favour: 0.4}},
		Target: "macron", TargetStance: "smear", BotShare: 0.667, BotLikeness: 0.61}
	if err := st.PutClusters(ctx, []post.Cluster{c}); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetCluster(ctx, "c-1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Stance, c.Stance) || got.Target != c.Target || got.TargetStance != c.TargetStance ||
		got.BotShare != c.BotShare || got.BotLikeness != c.BotLikeness || !reflect.DeepEqual(got.Scores.Factors, c.Scores.Factors) {
		t.Errorf("got %+v\nwant %+v", got, c)
	}
	list, err := st.ListClusters(ctx, store.ClusterQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Target != "macron" || list[0].TargetStance != "smear" || list[0].BotShare != 0.667 {
		t.Errorf("summary %+v", list)
	}
}
