package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/config"
	"github.com/vigie-osint/vigie/eval"
	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/scenario"
)

// TestEvalDataDir writes clusters and alerts into a real embedded store
// and checks that `vigie eval --data-dir` reads them back, every status
// and every page, and scores them against a truth file.
func TestEvalDataDir(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg, err := config.Parse(strings.NewReader(""), []string{"VIGIE_DATA_DIR=" + dir})
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(ctx, cfg, NewLogger(config.Log{Level: "warn"}, os.Stderr))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2017, 5, 3, 0, 0, 0, 0, time.UTC)
	truth := scenario.Truth{Start: t0, End: t0.Add(24 * time.Hour), Posts: 10, Accounts: 9,
		Networks: []scenario.TruthNetwork{{Name: "net", Tactic: "repost_ring", Target: "macron", Stance: "smear",
			Members: []string{"twitter:1", "twitter:2", "twitter:3"}, Start: t0.Add(time.Hour)}}}
	cluster := func(id, status string, detected time.Time, members ...string) post.Cluster {
		return post.Cluster{Schema: post.SchemaVersion, ID: id, Status: status, Platform: post.PlatformTwitter, Detected: detected,
			FirstSeen: t0, LastSeen: detected, Members: members, Scores: post.Scores{Risk: 70}, Target: "macron", TargetStance: "smear"}
	}
	clusters := []post.Cluster{
		cluster("k-net", post.StatusActive, t0.Add(5*time.Hour), "twitter:1", "twitter:2", "twitter:9"),
		cluster("k-old", post.StatusExpired, t0.Add(2*time.Hour), "twitter:7", "twitter:8"),
	}
	alerts := []post.Alert{
		{Schema: post.SchemaVersion, ID: "a-net", ClusterID: "k-net", Rule: "risk>=min", Time: t0.Add(3 * time.Hour), Risk: 70, Size: 3},
		{Schema: post.SchemaVersion, ID: "a-old", ClusterID: "k-old", Rule: "risk>=min", Time: t0.Add(2 * time.Hour), Risk: 70, Size: 2},
	}
	if err := st.PutClusters(ctx, clusters); err != nil {
		t.Fatal(err)
	}
	if err := st.PutAlerts(ctx, alerts); err != nil {
		t.Fatal(err)
	}
	st.Close()
	b, _ := json.Marshal(truth)
	truthPath := filepath.Join(t.TempDir(), "truth.json")
	if err := os.WriteFile(truthPath, b, 0o644); err != nil {
		t.Fatal(err)
	}

	var out, errOut bytes.Buffer
	if code := Main(ctx, []string{"eval", "--data-dir", dir, "--truth", truthPath, "--json"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var r eval.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if r.Clusters != 2 || r.ActiveClusters != 1 || r.Alerts != 2 {
		t.Errorf("read %d clusters (%d active), %d alerts; want 2 (1), 2", r.Clusters, r.ActiveClusters, r.Alerts)
	}
	if r.TruePositives != 2 || r.FalsePositives != 1 || r.FalseNegatives != 1 {
		t.Errorf("TP/FP/FN %d/%d/%d, want 2/1/1", r.TruePositives, r.FalsePositives, r.FalseNegatives)
	}
	if r.FalseAlerts != 1 || r.FalseAlertsPerDay != 1 || r.StanceCorrect != 1 {
		t.Errorf("false alerts %d (%v/day), stance %d/%d", r.FalseAlerts, r.FalseAlertsPerDay, r.StanceCorrect, r.StanceJudged)
	}
	if n := r.Networks[0]; n.DetectedBy != "alert" || n.TTDSeconds != 2*3600 {
		t.Errorf("detected by %q after %vs, want alert after 2h", n.DetectedBy, n.TTDSeconds)
	}

	out.Reset()
	if code := Main(ctx, []string{"eval", "--data-dir", dir, "--truth", truthPath}, &out, &errOut); code != 0 {
		t.Fatalf("table: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "account precision") || !strings.Contains(out.String(), "| net ") {
		t.Errorf("table output:\n%s", out.String())
	}
}

func TestEvalBadInput(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"help", []string{"--help"}, 0, "answer key"},
		{"unknown flag", []string{"--nope"}, 2, "flag provided but not defined"},
		{"extra argument", []string{"extra"}, 2, "unexpected arguments"},
		{"missing truth", []string{"--truth", filepath.Join(dir, "absent.json")}, 1, "truth"},
		{"malformed truth", []string{"--truth", write("bad.json", `{"networks": 3}`)}, 1, "bad.json"},
		{"empty network", []string{"--truth", write("empty.json", `{"networks": [{"name": "x"}]}`)}, 1, "networks[0]"},
		{"end before start", []string{"--truth", write("time.json", `{"start": "2017-05-03T00:00:00Z", "end": "2017-05-02T00:00:00Z"}`)}, 1, "field end"},
		{"missing store", []string{"--truth", write("ok.json", `{}`), "--data-dir", filepath.Join(dir, "nostore")}, 1, "no store"},
		{"missing scenario", []string{"--scenario", filepath.Join(dir, "noscenario"), "--truth", filepath.Join(dir, "ok.json")}, 1, "posts.jsonl"},
		// --keep wants a new directory: never score an older run's store.
		{"keep into an existing directory", []string{"--truth", filepath.Join(dir, "ok.json"), "--keep", dir}, 1, "--keep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Main(ctx, append([]string{"eval"}, tc.args...), &out, &errOut)
			if code != tc.code || !strings.Contains(errOut.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, errOut.String(), tc.code, tc.want)
			}
		})
	}
}

// TestEvalReplaysBundledScenario runs `vigie eval` as a user would: a full
// replay of the bundled scenario through every stage, then the scores.
func TestEvalReplaysBundledScenario(t *testing.T) {
	skipFullReplayUnderRace(t)
	if testing.Short() {
		t.Skip("-short: skipping a full replay of the bundled scenario")
	}
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"eval", "--scenario", bundled, "--json"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var r eval.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	t.Logf("eval: P %.3f R %.3f F1 %.3f ARI %.3f NMI %.3f stance %d/%d detected %d/%d median TTD %.0fs false alerts/day %.2f",
		r.Precision, r.Recall, r.F1, r.AdjustedRand, r.NMI, r.StanceCorrect, r.StanceJudged, r.Detected, len(r.Networks), r.MedianTTDSecond, r.FalseAlertsPerDay)
	// The same floor as TestEndToEnd: the planted networks are found.
	if r.Precision < 0.9 || r.Recall < 0.9 || r.Detected != len(r.Networks) || r.Posts != 26532 {
		t.Errorf("report on the bundled scenario: %+v", r)
	}
	// Reaction time comes from the stream: every network has enough
	// evidence at some point, and detection cannot be told before its
	// first post, so reaction never exceeds time to detection.
	if r.Reacted != len(r.Networks) || r.MaxReactionSeconds > r.MaxTTDSecond {
		t.Errorf("reaction: %d of %d networks, max %.0fs (max TTD %.0fs)", r.Reacted, len(r.Networks), r.MaxReactionSeconds, r.MaxTTDSecond)
	}
}

func FuzzParseTruth(f *testing.F) {
	b, err := os.ReadFile(filepath.Join(bundled, "truth.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"networks":[{"members":[]}]}`))
	f.Add([]byte(`{"start":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		truth, err := parseTruth("fuzz.json", b)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.json") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		// Whatever parses must evaluate without a crash.
		eval.Evaluate(truth, nil, nil)
	})
}
