package scenario

import (
	"fmt"
	"sort"
	"testing"
	"time"
)

func TestTmpStress(t *testing.T) {
	for _, cfg := range []Config{
		{CascadesPerDay: 30, CascadeSize: 900},
		{PostsPerDay: 25},
	} {
		posts, truth := collect(t, cfg)
		ev := truth.Score(components(coactions(posts), 3, 3))
		t.Logf("%+v: %d posts P %.3f R %.3f FP %d", cfg.CascadesPerDay, len(posts), ev.Precision, ev.Recall, ev.FalsePositives)
	}
}

func TestTmpStats(t *testing.T) {
	start := time.Now()
	posts, truth := collect(t, Config{})
	t.Logf("gen %v", time.Since(start))
	kinds := map[string]int{}
	langs := map[string]int{}
	hours := make([]int, 24)
	byAuthor := map[string]int{}
	rts := map[string]int{}
	withURL, withAcct := 0, 0
	for _, p := range posts {
		switch {
		case p.RepostOf != "":
			kinds["rt"]++
			rts[p.RepostOf]++
		case p.ReplyTo != "":
			kinds["reply"]++
		case p.QuoteOf != "":
			kinds["quote"]++
		default:
			kinds["orig"]++
		}
		langs[p.Lang]++
		hours[(p.Time.Hour()+2)%24]++
		byAuthor[p.Author]++
		if len(p.URLs) > 0 {
			withURL++
		}
		if p.Account != nil {
			withAcct++
		}
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("kinds %v langs %v urls %d acct %d", kinds, langs, withURL, withAcct)
	t.Logf("paris hours %v", hours)
	var counts []int
	for _, c := range byAuthor {
		counts = append(counts, c)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(counts)))
	t.Logf("authors %d top %v median %d", len(counts), counts[:15], counts[len(counts)/2])
	var rc []int
	for _, c := range rts {
		rc = append(rc, c)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(rc)))
	t.Logf("retweeted posts %d top %v", len(rc), rc[:20])
	for i := 0; i < len(posts); i += len(posts) / 25 {
		b, _ := fmt.Printf("%s @%v %s | %v %v\n", posts[i].Time.Format("01-02 15:04:05"), posts[i].Author, posts[i].Text, posts[i].URLs, posts[i].Hashtags)
		_ = b
	}
	_ = truth
}
