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
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE p2 (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, platform TEXT, author TEXT, time INTEGER, lang TEXT);
INSERT INTO p2 SELECT id, key, platform, author, time, lang FROM posts;
CREATE INDEX p2_time ON p2(time DESC, key);
CREATE TABLE b2 (id INTEGER PRIMARY KEY, body TEXT);
INSERT INTO b2 SELECT id, body FROM posts; ANALYZE;`); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2017, 5, 5, 18, 0, 0, 0, time.UTC)
	from, to := nanos(base.Add(2*time.Hour)), nanos(base.Add(3*time.Hour))
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`SELECT count(*) FROM post_hashtags WHERE tag = ?`, []any{"macronleaks"}},
		{`SELECT count(*) FROM posts_fts WHERE posts_fts MATCH ?`, []any{`"vote"`}},
		{`SELECT count(*) FROM posts_fts WHERE posts_fts MATCH ?`, []any{`"fraude" "bahamas"`}},
		{`SELECT count(*) FROM posts INDEXED BY posts_by_time WHERE id IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?) AND id IN (SELECT post FROM post_hashtags WHERE tag = ?) AND time >= ? AND time < ?`, []any{`"vote"`, "macronleaks", from, to}},
		{`SELECT count(*) FROM posts INDEXED BY posts_by_time WHERE id IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?) AND time >= ? AND time < ?`, []any{`"vote"`, from, to}},
		{`SELECT count(*) FROM posts INDEXED BY posts_by_time WHERE time >= ? AND time < ? AND id IN (SELECT post FROM post_hashtags WHERE tag = ?)`, []any{from, to, "macronleaks"}},
		{`SELECT count(*) FROM posts WHERE id IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?)`, []any{`"fraude" "bahamas"`}},
		{`SELECT body FROM posts WHERE id IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?) ORDER BY time DESC, key LIMIT 50`, []any{`"fraude" "bahamas"`}},
		{`SELECT body FROM posts INDEXED BY posts_by_time WHERE id IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?) ORDER BY time DESC, key LIMIT 50`, []any{`"fraude" "bahamas"`}},
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
