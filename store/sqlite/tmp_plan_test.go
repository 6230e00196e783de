package sqlite

import (
	"testing"
	"time"
)

func TestTmpPlan(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	for i := 0; i < 20000; i += 500 {
		if err := s.PutPosts(ctx, genPosts(i, 500)); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Date(2017, 5, 5, 18, 0, 0, 0, time.UTC)
	from, to := nanos(base.Add(2*time.Hour)), nanos(base.Add(3*time.Hour))
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`SELECT count(*) FROM posts WHERE id IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?)`, []any{`"macron"`}},
		{`SELECT count(*) FROM posts_fts WHERE posts_fts MATCH ?`, []any{`"macron"`}},
		{`SELECT body FROM posts WHERE id IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?) ORDER BY time DESC, key LIMIT 50 OFFSET 0`, []any{`"macron"`}},
		{`SELECT count(*) FROM posts WHERE id IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?) AND id IN (SELECT post FROM post_hashtags WHERE tag = ?) AND time >= ? AND time < ?`, []any{`"vote"`, "macronleaks", from, to}},
		{`SELECT body FROM posts WHERE id IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?) AND id IN (SELECT post FROM post_hashtags WHERE tag = ?) AND time >= ? AND time < ? ORDER BY time DESC, key LIMIT 50`, []any{`"vote"`, "macronleaks", from, to}},
		{`SELECT count(*) FROM posts WHERE id IN (SELECT post FROM post_hashtags WHERE tag = ?)`, []any{"tag07"}},
	} {
		rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q.sql, q.args...)
		if err != nil {
			t.Fatal(err)
		}
		t.Log(q.sql)
		for rows.Next() {
			var id, parent, notused int
			var detail string
			rows.Scan(&id, &parent, &notused, &detail)
			t.Logf("   %d %d %s", id, parent, detail)
		}
		rows.Close()
		start := time.Now()
		for range 5 {
			r, err := s.r.QueryContext(ctx, q.sql, q.args...)
			if err != nil {
				t.Fatal(err)
			}
			for r.Next() {
			}
			r.Close()
		}
		t.Logf("   => %v per query", time.Since(start)/5)
	}
}
