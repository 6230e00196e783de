package elastic

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store"
)

// benchPosts is the size of one benchmark run: large enough that index
// creation and the first refresh do not dominate, small enough for a
// 2-core machine shared with the rest of `make bench`.
const (
	benchPosts = 20000
	benchBatch = 500
)

var benchWords = []string{"macron", "le", "pen", "vote", "fraude", "bahamas", "élection", "second", "tour", "partagez",
	"silence", "électoral", "médias", "débat", "sondage", "urgent", "vérité", "documents", "fuite", "campagne"}

// genPosts makes n posts from number start on, deterministic, over a few
// days (several daily indices), 200 authors, 20 hashtags.
func genPosts(start, n int) []post.Post {
	base := time.Date(2017, 5, 5, 18, 0, 0, 0, time.UTC)
	ps := make([]post.Post, n)
	for i := range ps {
		k := start + i
		text := fmt.Sprintf("%s %s %s %s n%d https://example.org/%d", benchWords[k%20], benchWords[(k/3)%20],
			benchWords[(k/7)%20], benchWords[(k/11)%20], k, k%97)
		ps[i] = post.Post{
			Schema: post.SchemaVersion, Platform: post.PlatformTwitter, ID: fmt.Sprint(900000000 + k),
			Author: fmt.Sprintf("user%03d", k%200), Time: base.Add(time.Duration(k) * 13 * time.Second),
			Text: text, Lang: "fr", Hashtags: []string{fmt.Sprintf("tag%02d", k%20), "MacronLeaks"},
			URLs: []string{fmt.Sprintf("https://example.org/%d", k%97)},
		}
	}
	return ps
}

// BenchmarkPutPosts measures indexing into the real server: one op is
// benchPosts new posts written in batches of benchBatch, each PutPosts
// returning only once its bulk requests are acknowledged (durable), as
// the index stage uses it. The figure is documents per second.
func BenchmarkPutPosts(b *testing.B) {
	s := openTest(b)
	ctx := b.Context()
	n := 0
	for b.Loop() {
		for i := 0; i < benchPosts; i += benchBatch {
			if err := s.PutPosts(ctx, genPosts(n+i, benchBatch)); err != nil {
				b.Fatal(err)
			}
		}
		n += benchPosts
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkPutPostsReplay measures a replayed batch (Kafka redelivery
// after a restart): every post is stored already.
func BenchmarkPutPostsReplay(b *testing.B) {
	s := openTest(b)
	ctx := b.Context()
	batches := make([][]post.Post, 0, benchPosts/benchBatch)
	for i := 0; i < benchPosts; i += benchBatch {
		batches = append(batches, genPosts(i, benchBatch))
		if err := s.PutPosts(ctx, batches[len(batches)-1]); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Refresh(ctx); err != nil {
		b.Fatal(err)
	}
	n := 0
	for b.Loop() {
		for _, batch := range batches {
			if err := s.PutPosts(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		n += benchPosts
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkSearchPosts measures typical UI queries over benchPosts posts.
func BenchmarkSearchPosts(b *testing.B) {
	s := openTest(b)
	ctx := b.Context()
	for i := 0; i < benchPosts; i += benchBatch {
		if err := s.PutPosts(ctx, genPosts(i, benchBatch)); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Refresh(ctx); err != nil {
		b.Fatal(err)
	}
	base := time.Date(2017, 5, 5, 18, 0, 0, 0, time.UTC)
	for _, bc := range []struct {
		name string
		q    store.PostQuery
	}{
		{"newest", store.PostQuery{}},
		{"common-word", store.PostQuery{Text: "macron"}},
		{"two-words", store.PostQuery{Text: "fraude bahamas"}},
		{"prefix", store.PostQuery{Text: "élect*"}},
		{"phrase", store.PostQuery{Text: `"second tour"`}},
		{"hashtag", store.PostQuery{Hashtag: "tag07"}},
		{"author", store.PostQuery{Author: "twitter:user042"}},
		{"hour", store.PostQuery{From: base.Add(2 * time.Hour), To: base.Add(3 * time.Hour)}},
		{"deep-page", store.PostQuery{Offset: 15000}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := s.SearchPosts(ctx, bc.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
