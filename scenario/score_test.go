package scenario

import (
	"math"
	"testing"
)

func TestScore(t *testing.T) {
	truth := Truth{Networks: []TruthNetwork{
		{Name: "a", Members: []string{"a1", "a2", "a3", "a4"}, Leaders: []string{"la"}},
		{Name: "b", Members: []string{"b1", "b2"}},
	}}
	type net struct {
		found, best, overlap int
		jaccard              float64
	}
	for _, tc := range []struct {
		name       string
		clusters   [][]string
		p, r       float64
		tp, fp, fn int
		nets       []net
	}{
		{"nothing", nil, 0, 0, 0, 0, 6, []net{{0, -1, 0, 0}, {0, -1, 0, 0}}},
		{"perfect", [][]string{{"a1", "a2", "a3", "a4"}, {"b1", "b2"}}, 1, 1, 6, 0, 0,
			[]net{{4, 0, 4, 1}, {2, 1, 2, 1}}},
		{"merged networks count as found", [][]string{{"a1", "a2", "a3", "a4", "b1", "b2"}}, 1, 1, 6, 0, 0,
			[]net{{4, 0, 4, 4.0 / 6}, {2, 0, 2, 2.0 / 6}}},
		{"organic accounts are false positives", [][]string{{"a1", "a2", "x1", "x2"}}, 0.5, 2.0 / 6, 2, 2, 4,
			[]net{{2, 0, 2, 2.0 / 6}, {0, -1, 0, 0}}},
		{"leaders are neutral", [][]string{{"a1", "a2", "a3", "la"}}, 1, 0.5, 3, 0, 3,
			[]net{{3, 0, 3, 3.0 / 5}, {0, -1, 0, 0}}},
		{"an account in two clusters counts once", [][]string{{"a1", "a2", "x1"}, {"a2", "a3", "a4", "x1"}}, 0.8, 4.0 / 6, 4, 1, 2,
			[]net{{4, 1, 3, 3.0 / 5}, {0, -1, 0, 0}}},
		{"best cluster is the first on ties", [][]string{{"b1", "x1"}, {"b2", "x2"}}, 0.5, 2.0 / 6, 2, 2, 4,
			[]net{{0, -1, 0, 0}, {2, 0, 1, 1.0 / 3}}},
		{"duplicates within a cluster", [][]string{{"b1", "b1", "b2"}}, 1, 2.0 / 6, 2, 0, 4,
			[]net{{0, -1, 0, 0}, {2, 0, 2, 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := truth.Score(tc.clusters)
			near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
			wantF1 := 0.0
			if tc.p+tc.r > 0 {
				wantF1 = 2 * tc.p * tc.r / (tc.p + tc.r)
			}
			if !near(e.Precision, tc.p) || !near(e.Recall, tc.r) || !near(e.F1, wantF1) ||
				e.TruePositives != tc.tp || e.FalsePositives != tc.fp || e.FalseNegatives != tc.fn {
				t.Errorf("got P %.3f R %.3f F1 %.3f TP %d FP %d FN %d, want P %.3f R %.3f F1 %.3f TP %d FP %d FN %d",
					e.Precision, e.Recall, e.F1, e.TruePositives, e.FalsePositives, e.FalseNegatives, tc.p, tc.r, wantF1, tc.tp, tc.fp, tc.fn)
			}
			for i, w := range tc.nets {
				g := e.Networks[i]
				if g.Found != w.found || g.BestCluster != w.best || g.BestOverlap != w.overlap || !near(g.BestJaccard, w.jaccard) ||
					!near(g.Recall, float64(w.found)/float64(g.Size)) {
					t.Errorf("network %s: got %+v, want %+v", g.Name, g, w)
				}
			}
		})
	}
}
