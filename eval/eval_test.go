package eval

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/scenario"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestPartitionMetricsByHand checks small partitions whose indices are
// worked out by hand in the comments.
func TestPartitionMetricsByHand(t *testing.T) {
	for _, tc := range []struct {
		name     string
		a, b     string // one label per character
		ari, nmi float64
	}{
		// Pairs: index C(2,2)=1; sums 2 and 1 over C(4,2)=6 pairs, so
		// expected 2*1/6, max (2+1)/2: ARI (1-1/3)/(3/2-1/3) = 4/7.
		// H(a)=ln2, H(b)=1.5 ln2, I=ln2: NMI 2/2.5 = 0.8.
		{"refinement", "aabb", "xxyz", 4.0 / 7, 0.8},
		{"identical up to names", "aabc", "zzyx", 1, 1},
		// No pair together on the right: index 0, expected 0, max 3.
		{"one group vs singletons", "aaaa", "wxyz", 0, 0},
		{"both singletons", "abcd", "wxyz", 1, 1},
		{"both one group", "aaa", "xxx", 1, 1},
		// index 0, sums 2 and 2: expected 4/6, max 2: ARI -(2/3)/(4/3).
		// Each b label splits evenly across a: I = 0.
		{"independent", "aabb", "xyxy", -0.5, 0},
		{"single item", "a", "x", 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := strings.Split(tc.a, ""), strings.Split(tc.b, "")
			if got := AdjustedRand(a, b); !near(got, tc.ari) {
				t.Errorf("AdjustedRand = %v, want %v", got, tc.ari)
			}
			if got := NMI(a, b); !near(got, tc.nmi) {
				t.Errorf("NMI = %v, want %v", got, tc.nmi)
			}
			// Both are symmetric.
			if got := AdjustedRand(b, a); !near(got, tc.ari) {
				t.Errorf("AdjustedRand swapped = %v, want %v", got, tc.ari)
			}
			if got := NMI(b, a); !near(got, tc.nmi) {
				t.Errorf("NMI swapped = %v, want %v", got, tc.nmi)
			}
		})
	}
	if !math.IsNaN(AdjustedRand([]string{"a"}, nil)) || !math.IsNaN(NMI([]string{"a"}, nil)) {
		t.Error("labelings of different lengths should give NaN")
	}
}

// TestPartitionMetricsMatchSklearn compares with scikit-learn's
// adjusted_rand_score and normalized_mutual_info_score on the cases of
// testdata/partitions.json, computed once by
// testdata/sklearn_partitions.py.
func TestPartitionMetricsMatchSklearn(t *testing.T) {
	b, err := os.ReadFile("testdata/partitions.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Sklearn string
		Cases   []struct {
			Name     string
			A, B     []string
			ARI, NMI float64
		}
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) < 10 {
		t.Fatalf("only %d reference cases", len(ref.Cases))
	}
	for _, c := range ref.Cases {
		if got := AdjustedRand(c.A, c.B); !near(got, c.ARI) {
			t.Errorf("%s: AdjustedRand = %v, scikit-learn %s says %v", c.Name, got, ref.Sklearn, c.ARI)
		}
		if got := NMI(c.A, c.B); !near(got, c.NMI) {
			t.Errorf("%s: NMI = %v, scikit-learn %s says %v", c.Name, got, ref.Sklearn, c.NMI)
		}
	}
}

// handMade is a two-day scenario with two networks, and the clusters and
// alerts of an imperfect detector; TestEvaluate works out every figure.
func handMade() (scenario.Truth, []post.Cluster, []post.Alert) {
	t0 := time.Date(2017, 5, 3, 0, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	truth := scenario.Truth{
		Start: t0, End: h(48), Accounts: 10, Posts: 100,
		Networks: []scenario.TruthNetwork{
			{Name: "A", Tactic: "repost_ring", Target: "macron", Stance: "smear", Members: []string{"a1", "a2", "a3", "a4"}, Leaders: []string{"L"}, Start: h(1)},
			{Name: "B", Tactic: "hashtag_push", Target: "lepen", Stance: "favour", Members: []string{"b1", "b2"}, Start: h(2)},
		},
	}
	clusters := []post.Cluster{
		{ID: "c2", Status: post.StatusActive, Members: []string{"b1", "L", "x2"}, Scores: post.Scores{Risk: 50}, Target: "macron", TargetStance: "favour", Detected: h(10)},
		{ID: "c1", Status: post.StatusActive, Members: []string{"a1", "a2", "a3", "x1"}, Scores: post.Scores{Risk: 80}, Target: "macron", TargetStance: "smear", Detected: h(5)},
		{ID: "c3", Status: post.StatusExpired, Members: []string{"x3", "x4"}, Detected: h(3)},
	}
	alerts := []post.Alert{
		{ID: "al1", ClusterID: "c1", Time: h(3), Size: 4},
		{ID: "al3", ClusterID: "c3", Time: h(4), Size: 2},   // organic cluster: false
		{ID: "al2", ClusterID: "c2", Time: h(9), Size: 3},   // b1 and leader L: 2 of 3 planted
		{ID: "al4", ClusterID: "gone", Time: h(9), Size: 3}, // no such cluster: false
	}
	return truth, clusters, alerts
}

func TestEvaluate(t *testing.T) {
	truth, clusters, alerts := handMade()
	r := Evaluate(truth, clusters, alerts)

	// Predicted: a1 a2 a3 x1 b1 x2 (L is a leader, ignored).
	if r.TruePositives != 4 || r.FalsePositives != 2 || r.FalseNegatives != 2 {
		t.Errorf("TP/FP/FN = %d/%d/%d, want 4/2/2", r.TruePositives, r.FalsePositives, r.FalseNegatives)
	}
	if !near(r.Precision, 4.0/6) || !near(r.Recall, 4.0/6) || !near(r.F1, 4.0/6) {
		t.Errorf("P/R/F1 = %v/%v/%v, want 2/3 each", r.Precision, r.Recall, r.F1)
	}
	// Items a1..a4 b1 b2 x1 x2. Truth {a1-a4} {b1 b2} x1 x2: 7 pairs.
	// Predicted {a1 a2 a3 x1} {b1 x2} a4 b2: 7 pairs. Together:
	// {a1 a2 a3}: 3 pairs. Expected 7*7/28, max 7: ARI 1.25/5.25.
	if r.PartitionItems != 8 || !near(r.AdjustedRand, 1.25/5.25) {
		t.Errorf("ARI = %v over %d items, want %v over 8", r.AdjustedRand, r.PartitionItems, 1.25/5.25)
	}
	if !near(r.NMI, 0.6253491072973906) { // scikit-learn 1.9.1 on the same labels
		t.Errorf("NMI = %v", r.NMI)
	}
	// A's best cluster c1 says smear macron (right); B's c2 says favour
	// macron (wrong).
	if r.StanceCorrect != 1 || r.StanceJudged != 2 || !near(r.StanceAccuracy, 0.5) {
		t.Errorf("stance %d/%d = %v, want 1/2", r.StanceCorrect, r.StanceJudged, r.StanceAccuracy)
	}
	a, b := r.Networks[0], r.Networks[1]
	if a.Cluster != "c1" || !near(a.Jaccard, 0.6) || !a.StanceOK || b.Cluster != "c2" || !near(b.Jaccard, 0.25) || b.StanceOK {
		t.Errorf("best clusters: A %+v, B %+v", a, b)
	}
	// A: alert on c1 at 3h, first post at 1h. B: alert on c2 at 9h,
	// first post at 2h (c2 holds b1, half of B).
	if a.DetectedBy != "alert" || a.TTDSeconds != 2*3600 || b.DetectedBy != "alert" || b.TTDSeconds != 7*3600 {
		t.Errorf("detection: A %s %vs, B %s %vs", a.DetectedBy, a.TTDSeconds, b.DetectedBy, b.TTDSeconds)
	}
	if r.Detected != 2 || r.MedianTTDSecond != 4.5*3600 || r.MaxTTDSecond != 7*3600 {
		t.Errorf("detected %d, median %v, max %v", r.Detected, r.MedianTTDSecond, r.MaxTTDSecond)
	}
	if r.FalseAlerts != 2 || !near(r.FalseAlertsPerDay, 1) || r.Days != 2 {
		t.Errorf("false alerts %d (%v/day over %v days), want 2 (1/day over 2)", r.FalseAlerts, r.FalseAlertsPerDay, r.Days)
	}

	var buf bytes.Buffer
	if err := WriteTable(&buf, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"account precision", "0.667", "adjusted Rand index", "0.238", "2h0m0s (alert)", "smear macron ok", "favour macron"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, buf.String())
		}
	}
}

// TestEvaluateDetectionFallsBackToCluster checks that a network without
// an alert is detected at its cluster's Detected time, and one held by no
// cluster is not detected.
func TestEvaluateDetectionFallsBackToCluster(t *testing.T) {
	truth, clusters, _ := handMade()
	r := Evaluate(truth, clusters[:2], nil)
	if a := r.Networks[0]; a.DetectedBy != "cluster" || a.TTDSeconds != 4*3600 {
		t.Errorf("A detected by %q after %vs, want cluster after 4h", a.DetectedBy, a.TTDSeconds)
	}
	r = Evaluate(truth, nil, nil)
	if r.Detected != 0 || r.Networks[0].DetectedBy != "" || r.Precision != 0 || r.StanceJudged != 0 {
		t.Errorf("nothing predicted: %+v", r)
	}
}
