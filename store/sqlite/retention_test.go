package sqlite

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// TestRetentionReleasesSpace checks that deleting posts gives the disk
// back on a database this version created (auto_vacuum=incremental, then
// a truncating WAL checkpoint), instead of only growing the free list.
func TestRetentionReleasesSpace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var mode int
	if err := s.w.QueryRowContext(t.Context(), "PRAGMA auto_vacuum").Scan(&mode); err != nil || mode != 2 {
		t.Fatalf("auto_vacuum = %d, %v; want 2 (incremental) on a new database", mode, err)
	}
	t0 := time.Date(2017, 5, 1, 0, 0, 0, 0, time.UTC)
	text := strings.Repeat("un message assez long pour occuper de la place ", 40)
	const n = 3000
	ps := make([]post.Post, 0, 500)
	for i := range n {
		ps = append(ps, post.Post{Platform: post.PlatformTwitter, ID: fmt.Sprint(i), Author: fmt.Sprintf("u%d", i%300),
			Time: t0.Add(time.Duration(i) * time.Minute), Text: fmt.Sprintf("%s %d", text, i), Hashtags: []string{"Tag", fmt.Sprint("t", i%50)}})
		if len(ps) == cap(ps) {
			if err := s.PutPosts(t.Context(), ps); err != nil {
				t.Fatal(err)
			}
			ps = ps[:0]
		}
	}
	size := func() int64 {
		t.Helper()
		var total int64
		for _, suffix := range []string{"", "-wal"} {
			if fi, err := os.Stat(path + suffix); err == nil {
				total += fi.Size()
			}
		}
		return total
	}
	if _, err := s.w.ExecContext(t.Context(), "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	full := size()
	deleted, err := s.DeletePostsBefore(t.Context(), t0.Add(time.Duration(n-100)*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if deleted != n-100 {
		t.Errorf("deleted %d posts, want %d", deleted, n-100)
	}
	after := size()
	t.Logf("database and WAL: %d bytes with %d posts, %d bytes after deleting %d (%.0f%% released)",
		full, n, after, deleted, 100*(1-float64(after)/float64(full)))
	if after > full/3 {
		t.Errorf("after deleting %d of %d posts the files hold %d of %d bytes: space was not released", deleted, n, after, full)
	}
	var accounts int
	if err := s.r.QueryRowContext(t.Context(), "SELECT count(*) FROM accounts").Scan(&accounts); err != nil {
		t.Fatal(err)
	}
	if accounts != 100 {
		t.Errorf("%d accounts left, want the 100 authors of the kept posts", accounts)
	}
}

// BenchmarkDeletePostsBefore measures retention on the embedded store:
// 20,000 posts by 2,000 authors are stored, then all deleted (with their
// text index, hashtags and accounts) and the space released; it reports
// posts deleted per second.
func BenchmarkDeletePostsBefore(b *testing.B) {
	const n = 20_000
	t0 := time.Date(2017, 5, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		b.StopTimer()
		s, err := Open(b.Context(), filepath.Join(b.TempDir(), "vigie.db"))
		if err != nil {
			b.Fatal(err)
		}
		ps := make([]post.Post, 0, 1000)
		for i := range n {
			ps = append(ps, post.Post{Platform: post.PlatformTwitter, ID: fmt.Sprint(i), Author: fmt.Sprintf("u%d", i%2000),
				Time: t0.Add(time.Duration(i) * time.Second), Text: fmt.Sprintf("Le compte offshore de #Macron, lisez avant le silence %d", i),
				Hashtags: []string{"Macron", fmt.Sprint("t", i%50)}})
			if len(ps) == cap(ps) {
				if err := s.PutPosts(b.Context(), ps); err != nil {
					b.Fatal(err)
				}
				ps = ps[:0]
			}
		}
		b.StartTimer()
		deleted, err := s.DeletePostsBefore(b.Context(), t0.Add(n*time.Second))
		b.StopTimer()
		if err != nil || deleted != n {
			b.Fatalf("deleted %d, %v; want %d", deleted, err, n)
		}
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "posts/s")
}
