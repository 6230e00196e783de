package sqlite

import (
	"testing"
	"time"

	"github.com/vigie-osint/vigie/store"
)

const benchBatch = 500

// BenchmarkPutPosts measures ingest throughput: one op is one batch of 500
// new posts in one durable transaction.
func BenchmarkPutPosts(b *testing.B) {
	s := openTemp(b)
	ctx := b.Context()
	n := 0
	for b.Loop() {
		b.StopTimer()
		batch := genPosts(n, benchBatch)
		n += benchBatch
		b.StartTimer()
		if err := s.PutPosts(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkPutPostsReplay measures a replayed batch (Kafka redelivery after
// a restart): every post is stored already and unchanged.
func BenchmarkPutPostsReplay(b *testing.B) {
	s := openTemp(b)
	ctx := b.Context()
	batch := genPosts(0, benchBatch)
	if err := s.PutPosts(ctx, batch); err != nil {
		b.Fatal(err)
	}
	n := 0
	for b.Loop() {
		if err := s.PutPosts(ctx, batch); err != nil {
			b.Fatal(err)
		}
		n += benchBatch
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkSearchPosts measures typical UI queries over 20,000 posts.
func BenchmarkSearchPosts(b *testing.B) {
	s := openTemp(b)
	ctx := b.Context()
	const total = 20000
	for i := 0; i < total; i += benchBatch {
		if err := s.PutPosts(ctx, genPosts(i, benchBatch)); err != nil {
			b.Fatal(err)
		}
	}
	base := time.Date(2017, 5, 5, 18, 0, 0, 0, time.UTC)
	for _, bc := range []struct {
		name string
		q    store.PostQuery
	}{
		{"newest", store.PostQuery{}},
		{"common-word", store.PostQuery{Text: "macron"}},
		{"two-words", store.PostQuery{Text: "fraude bahamas"}},
		{"rare-word", store.PostQuery{Text: "n12345"}},
		{"prefix", store.PostQuery{Text: "élect*"}},
		{"phrase", store.PostQuery{Text: `"second tour"`}},
		{"hashtag", store.PostQuery{Hashtag: "tag07"}},
		{"author", store.PostQuery{Author: "twitter:user042"}},
		{"hour", store.PostQuery{From: base.Add(2 * time.Hour), To: base.Add(3 * time.Hour)}},
		{"text-hashtag-hour", store.PostQuery{Text: "vote", Hashtag: "macronleaks", From: base.Add(2 * time.Hour), To: base.Add(3 * time.Hour)}},
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
