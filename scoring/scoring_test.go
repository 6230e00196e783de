package scoring

import (
	"flag"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/election"
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

// FuzzClassify: any text, hashtags and language give one judgement per
// candidate, with a stance consistent with the score, and never panic.
func FuzzClassify(f *testing.F) {
	m := NewStanceModel(election.Default())
	f.Add("Je ne voterai jamais pour Macron, le candidat des banques. #StopMacron", "Presidentielle2017", "fr")
	f.Add("RT @x: Anyone but Le Pen!", "", "en")
	f.Add("l'''''' n't #@ @ # …", "#", "")
	f.Fuzz(func(t *testing.T, text, tag, lang string) {
		js := m.ClassifyText(text, []string{tag}, lang)
		if len(js) != len(m.Candidates()) {
			t.Fatalf("%d judgements", len(js))
		}
		for _, j := range js {
			switch {
			case j.Stance == Favour && j.Score < StanceThreshold-1e-3,
				j.Stance == Smear && j.Score > -StanceThreshold+1e-3,
				j.Stance == Neutral && (j.Score >= StanceThreshold || j.Score <= -StanceThreshold):
				t.Fatalf("%+v inconsistent", j)
			}
		}
	})
}

// TestStanceCases pins behaviours the README promises.
func TestStanceCases(t *testing.T) {
	m := NewStanceModel(election.Default())
	for _, tc := range []struct {
		text, lang string
		tags       []string
		want       map[string]string
	}{
		{"Macron est crédible.", "fr", nil, map[string]string{"macron": Favour}},
		{"Macron n'est pas crédible.", "fr", nil, map[string]string{"macron": Smear}},
		{"Tout sauf Macron !", "fr", nil, map[string]string{"macron": Smear}},
		{"Votez Marine le 7 mai.", "fr", nil, map[string]string{"lepen": Favour}},
		{"Macron a gagné le débat, Le Pen était lamentable.", "fr", nil, map[string]string{"macron": Favour, "lepen": Smear}},
		{"Macron se rend à Albi demain.", "fr", nil, map[string]string{"macron": Neutral}},
		{"", "fr", []string{"StopMacron"}, map[string]string{"macron": Smear}},
		{"Tonight.", "en", []string{"Presidentielle2017"}, map[string]string{"macron": Neutral, "lepen": Neutral}},
		{"Le Pen is not credible.", "en", nil, map[string]string{"lepen": Smear}},
		{"RT @EmmanuelMacron: Merci à tous !", "fr", nil, map[string]string{"macron": Neutral}},
		{"Macron n'a rien dit sur les retraites. Il les méprise.", "fr", nil, map[string]string{"macron": Smear}},
	} {
		js := m.ClassifyText(tc.text, tc.tags, tc.lang)
		for _, j := range js {
			if want, ok := tc.want[j.Candidate]; ok && j.Stance != want {
				t.Errorf("%q %v: %s is %s (%.2f), want %s", tc.text, tc.tags, j.Candidate, j.Stance, j.Score, want)
			}
		}
	}
}

// TestPropagation: a hashtag seen with smear seeds becomes a smear tag;
// neutral election tags stay neutral; the result is deterministic.
func TestPropagation(t *testing.T) {
	g := NewTagGraph(100)
	for range 10 {
		g.Add([]string{"StopMacron", "BankerMacron"})
		g.Add([]string{"ToutSaufMacron", "BankerMacron", "Presidentielle2017"})
		g.Add([]string{"Marine2017", "Patriotes"})
		g.Add([]string{"Presidentielle2017", "Marine2017"})
		g.Add([]string{"Rare"})
	}
	m := NewStanceModel(election.Default())
	m.Propagate(g)
	if v := m.HashtagPolarity("BankerMacron"); v == nil || v[0] > -0.5 {
		t.Errorf("#BankerMacron polarity %v, want a macron smear", v)
	}
	if v := m.HashtagPolarity("Patriotes"); v == nil || v[1] < 0.5 {
		t.Errorf("#Patriotes polarity %v, want lepen favour", v)
	}
	for _, tag := range []string{"Presidentielle2017", "Rare"} {
		if v := m.HashtagPolarity(tag); v != nil {
			t.Errorf("#%s polarity %v, want none", tag, v)
		}
	}
	first := m.PropagatedTags()
	m2 := NewStanceModel(election.Default())
	m2.Propagate(g)
	if !reflect.DeepEqual(first, m2.PropagatedTags()) || len(first) == 0 {
		t.Errorf("propagation not deterministic or empty: %v", first)
	}
	js := m.ClassifyText("Incroyable", []string{"BankerMacron"}, "fr")
	if js[0].Stance != Smear {
		t.Errorf("post with a propagated smear tag: %+v", js[0])
	}
}
