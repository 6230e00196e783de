package graph

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/scenario"
)

func TestZZScenario(t *testing.T) {
	f, _ := os.Open("../testdata/scenario/posts.jsonl")
	defer f.Close()
	var posts []post.Post
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for i := 0; sc.Scan(); i++ {
		p, err := post.DecodePost(fmt.Sprint(i), sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		posts = append(posts, p)
	}
	var truth scenario.Truth
	b, _ := os.ReadFile("../testdata/scenario/truth.json")
	json.Unmarshal(b, &truth)
	var acts []post.Action
	for i := range posts {
		acts = append(acts, Actions(&posts[i], []post.Kind{post.KindRepost, post.KindLink})...)
	}
	w, st := EstimateWindow(acts)
	t.Logf("scenario window %v %+v", w, st)
	for _, cfg := range []Config{{}, {Algorithm: "leiden"}, {Algorithm: "components"}, {DiscountPopular: true}, {HyperactiveAt: 50}, {DiscountPopular: true, Algorithm: "leiden"}, {BackboneAlpha: 0.05}, {NullModelAlpha: 0.01}, {NullModelAlpha: 1e-6}, {MinWeight: 2, NullModelAlpha: 1e-4}, {MinWeight: 2}} {
		e := mustNew(t, cfg)
		clusters := map[string][]string{}
		next := posts[0].Time.Add(30 * time.Minute)
		var dt time.Duration
		detect := func() {
			s := time.Now()
			for _, c := range e.Detect() {
				if c.Status == post.StatusActive {
					clusters[c.ID] = c.Members
				}
			}
			dt += time.Since(s)
		}
		for i := range posts {
			e.Add(&posts[i])
			if posts[i].Time.After(next) {
				detect()
				next = posts[i].Time.Add(30 * time.Minute)
			}
		}
		detect()
		var list [][]string
		for _, m := range clusters {
			list = append(list, m)
		}
		ev := truth.Score(list)
		t.Logf("%v/%v/%v/%v/%v/%v: clusters %d P %.3f R %.3f F1 %.3f (tp %d fp %d fn %d) detect total %v", cfg.Algorithm, cfg.DiscountPopular, cfg.HyperactiveAt, cfg.BackboneAlpha, cfg.NullModelAlpha, cfg.MinWeight, len(list), ev.Precision, ev.Recall, ev.F1, ev.TruePositives, ev.FalsePositives, ev.FalseNegatives, dt)
	}
}
