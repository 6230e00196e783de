package elastic

import (
	"testing"
	"time"
)

// BenchmarkDeletePostsBefore measures retention on the real server: one
// op stores benchPosts posts over about three days (untimed), then
// deletes those before the middle of the last day: whole daily indices
// are dropped, the last day is trimmed by search and bulk deletes, and
// the accounts of the authors left without posts are deleted. The figure
// is posts deleted per second.
func BenchmarkDeletePostsBefore(b *testing.B) {
	s := openTest(b)
	ctx := b.Context()
	deleted := int64(0)
	for b.Loop() {
		b.StopTimer()
		for i := 0; i < benchPosts; i += benchBatch {
			if err := s.PutPosts(ctx, genPosts(i, benchBatch)); err != nil {
				b.Fatal(err)
			}
		}
		last := genPosts(benchPosts-1, 1)[0].Time
		cut := last.Truncate(24 * time.Hour).Add(last.Sub(last.Truncate(24*time.Hour)) / 2)
		b.StartTimer()
		n, err := s.DeletePostsBefore(ctx, cut)
		if err != nil {
			b.Fatal(err)
		}
		deleted += n
	}
	b.ReportMetric(float64(deleted)/b.Elapsed().Seconds(), "posts/s")
}
