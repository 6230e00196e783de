package elastic

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store"
	"github.com/vigie-osint/vigie/store/sqlite"
)

// TestMatchesSQLite puts the same real posts (the first 3,000 of the
// bundled French election scenario) into the embedded store and into
// Elasticsearch, and checks that searches answer the same pages and
// totals: the semantics the conformance suite pins on small cases, on
// real text with accents, apostrophes, hashtags, links and emoji.
func TestMatchesSQLite(t *testing.T) {
	es := openTest(t)
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vigie.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	f, err := os.Open("../../testdata/scenario/posts.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var ps []post.Post
	for line := 1; sc.Scan() && len(ps) < 3000; line++ {
		p, err := post.DecodePost(fmt.Sprint("posts.jsonl:", line), sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	for i := 0; i < len(ps); i += 500 {
		batch := ps[i:min(i+500, len(ps))]
		if err := db.PutPosts(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if err := es.PutPosts(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if err := es.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2017, 5, 3, 12, 0, 0, 0, time.UTC)
	queries := []store.PostQuery{
		{}, {Limit: 7, Offset: 40},
		{Text: "macron"}, {Text: "Macron"}, {Text: "MACRON pen"}, {Text: "le pen"}, {Text: `"le pen"`},
		{Text: "sécurité"}, {Text: "securite"}, {Text: "élection"}, {Text: "election"}, {Text: "l'élection"},
		{Text: "élect*"}, {Text: "mac*"}, {Text: "m*"}, {Text: `"le p"*`}, {Text: `"marine le"*`},
		{Text: "2ndtour"}, {Text: "#2ndTour"}, {Text: "c'est"}, {Text: "https"}, {Text: "example"},
		{Text: "vote dimanche"}, {Text: "NOT macron"}, {Text: "macron OR vote"}, {Text: "🇫🇷"}, {Text: "!!!"},
		{Hashtag: "2ndtour"}, {Hashtag: "#MacronLeaks"}, {Author: ps[0].AuthorKey()},
		{From: day, To: day.Add(6 * time.Hour)}, {Text: "macron", From: day},
		{Text: "le", Limit: 1000}, {Text: "la", Limit: 20, Offset: 100},
	}
	for _, q := range queries {
		want, wantTotal, err := db.SearchPosts(ctx, q)
		if err != nil {
			t.Fatalf("sqlite %+v: %v", q, err)
		}
		got, gotTotal, err := es.SearchPosts(ctx, q)
		if err != nil {
			t.Fatalf("elastic %+v: %v", q, err)
		}
		keys := func(ps []post.Post) []string {
			out := make([]string, len(ps))
			for i := range ps {
				out[i] = ps[i].Key()
			}
			return out
		}
		if gotTotal != wantTotal || !slices.Equal(keys(got), keys(want)) {
			t.Errorf("SearchPosts(%+v): elastic total %d %v, sqlite total %d %v", q, gotTotal, head(keys(got)), wantTotal, head(keys(want)))
		}
	}
	sqlStats, _ := db.Stats(ctx)
	esStats, err := es.Stats(ctx)
	if err != nil || esStats != sqlStats {
		t.Errorf("Stats: elastic %+v (%v), sqlite %+v", esStats, err, sqlStats)
	}
}

func head(s []string) []string { return s[:min(len(s), 5)] }
