package scoring

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/vigie-osint/vigie/election"
)

// labelledPost is one line of testdata/stance/labelled.jsonl: a post
// written and labelled by hand, with its stance towards each candidate it
// concerns. Candidates absent from Labels are not scored.
type labelledPost struct {
	ID       string            `json:"id"`
	Split    string            `json:"split"` // dev (tuned on) or test (held out)
	Lang     string            `json:"lang"`
	Text     string            `json:"text"`
	Hashtags []string          `json:"hashtags"`
	Labels   map[string]string `json:"labels"`
}

func loadLabelled(t testing.TB) []labelledPost {
	t.Helper()
	f, err := os.Open("testdata/stance/labelled.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labelledPost
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		var p labelledPost
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatalf("labelled.jsonl:%d: %v", line, err)
		}
		for c, s := range p.Labels {
			if s != Favour && s != Smear && s != Neutral {
				t.Fatalf("labelled.jsonl:%d: labels.%s: %q", line, c, s)
			}
		}
		out = append(out, p)
	}
	return out
}

// stanceEval is accuracy and macro-F1 over (post, candidate) pairs.
type stanceEval struct {
	Pairs    int
	Accuracy float64
	MacroF1  float64
	F1       map[string]float64
	Confuse  map[[2]string]int // [gold, predicted]
}

func evaluateStance(m *StanceModel, posts []labelledPost, split string) (stanceEval, []string) {
	ev := stanceEval{F1: map[string]float64{}, Confuse: map[[2]string]int{}}
	var errs []string
	correct := 0
	for _, p := range posts {
		if split != "" && p.Split != split {
			continue
		}
		js := m.ClassifyText(p.Text, p.Hashtags, p.Lang)
		for _, j := range js {
			gold, ok := p.Labels[j.Candidate]
			if !ok {
				continue
			}
			ev.Pairs++
			ev.Confuse[[2]string{gold, j.Stance}]++
			if gold == j.Stance {
				correct++
			} else {
				errs = append(errs, fmt.Sprintf("%s %s gold=%s got=%s (%.2f): %s", p.ID, j.Candidate, gold, j.Stance, j.Score, p.Text))
			}
		}
	}
	if ev.Pairs == 0 {
		return ev, errs
	}
	ev.Accuracy = float64(correct) / float64(ev.Pairs)
	for _, cl := range []string{Favour, Smear, Neutral} {
		var tp, fp, fn int
		for k, n := range ev.Confuse {
			switch {
			case k[0] == cl && k[1] == cl:
				tp += n
			case k[1] == cl:
				fp += n
			case k[0] == cl:
				fn += n
			}
		}
		f1 := 0.0
		if tp > 0 {
			prec, rec := float64(tp)/float64(tp+fp), float64(tp)/float64(tp+fn)
			f1 = 2 * prec * rec / (prec + rec)
		}
		ev.F1[cl] = f1
		ev.MacroF1 += f1 / 3
	}
	return ev, errs
}

// labelledModel is the model of the default election with hashtag stance
// propagated over the labelled posts' hashtags (labels are not used).
func labelledModel(posts []labelledPost) *StanceModel {
	m := NewStanceModel(election.Default())
	g := NewTagGraph(10000)
	for _, p := range posts {
		g.Add(p.Hashtags)
	}
	m.Propagate(g)
	return m
}

// TestStanceHeldOut reports accuracy and macro-F1 on the held-out split
// (and the dev split the lexicons were tuned on) and fails under a floor.
// Run with -v to see the figures; -run TestStanceHeldOut -v -errors lists
// the dev errors.
func TestStanceHeldOut(t *testing.T) {
	posts := loadLabelled(t)
	if len(posts) < 400 {
		t.Fatalf("%d labelled posts, want at least 400", len(posts))
	}
	m := labelledModel(posts)
	for _, split := range []string{"dev", "test"} {
		ev, errs := evaluateStance(m, posts, split)
		t.Logf("stance %s: %d pairs, accuracy %.3f, macro-F1 %.3f (F1 favour %.3f, smear %.3f, neutral %.3f)",
			split, ev.Pairs, ev.Accuracy, ev.MacroF1, ev.F1[Favour], ev.F1[Smear], ev.F1[Neutral])
		if split == "dev" && *showErrors {
			slices.Sort(errs)
			for _, e := range errs {
				t.Log(e)
			}
		}
		if split == "test" && (ev.Accuracy < 0.6 || ev.MacroF1 < 0.6) {
			t.Errorf("held-out accuracy %.3f, macro-F1 %.3f: below the 0.6 floor", ev.Accuracy, ev.MacroF1)
		}
	}
}

// BenchmarkStance classifies the labelled set and reports held-out
// accuracy and macro-F1 as benchmark metrics next to the speed.
func BenchmarkStance(b *testing.B) {
	posts := loadLabelled(b)
	m := labelledModel(posts)
	b.ResetTimer()
	for b.Loop() {
		for i := range posts {
			m.ClassifyText(posts[i].Text, posts[i].Hashtags, posts[i].Lang)
		}
	}
	b.StopTimer()
	ev, _ := evaluateStance(m, posts, "test")
	b.ReportMetric(ev.Accuracy, "accuracy")
	b.ReportMetric(ev.MacroF1, "macroF1")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(posts)), "ns/post")
}
