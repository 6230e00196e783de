package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store"
)

// read runs fn in one read-only transaction, so that the several queries
// of one answer (a page and its total, an account's parts) see the same
// snapshot even while the writer commits.
func (s *Store) read(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: %s: begin: %w", what, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return nil
}

// ftsQuery turns parsed terms into an FTS5 query in which every term is a
// quoted string, so no user text is read as an operator, a column filter
// or a NEAR group; terms are ANDed.
func ftsQuery(terms []store.TextTerm) string {
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(t.Text, `"`, `""`))
		b.WriteByte('"')
		if t.Prefix {
			b.WriteByte('*')
		}
	}
	return b.String()
}

// SearchPosts implements store.Reader.
func (s *Store) SearchPosts(ctx context.Context, q store.PostQuery) ([]post.Post, int, error) {
	q, err := q.Normalized()
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: search posts: %w", err)
	}
	var match string
	if strings.TrimSpace(q.Text) != "" {
		terms := store.ParseText(q.Text)
		if len(terms) == 0 {
			// Only punctuation: nothing can match, and FTS5 would
			// answer the same at a cost.
			return []post.Post{}, 0, ctx.Err()
		}
		match = ftsQuery(terms)
	}
	posts := []post.Post{}
	var total int
	err = s.read(ctx, "search posts", func(tx *sql.Tx) error {
		// Count the posts each set filter (text, hashtag) selects: a set
		// filter alone gives the total, and the sizes choose the plan.
		nText, nTag := -1, -1
		if match != "" {
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM posts_fts WHERE posts_fts MATCH ?", match).Scan(&nText); err != nil {
				return fmt.Errorf("count text matches: %w", err)
			}
		}
		if q.Hashtag != "" {
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM post_hashtags WHERE tag = ?", q.Hashtag).Scan(&nTag); err != nil {
				return fmt.Errorf("count hashtag matches: %w", err)
			}
		}
		candidates := -1 // the smallest set, -1 when there is none
		for _, n := range []int{nText, nTag} {
			if n >= 0 && (candidates < 0 || n < candidates) {
				candidates = n
			}
		}
		if candidates == 0 {
			return nil
		}

		// SQLite cannot know how many posts a MATCH or hashtag selects,
		// and by default fetches every candidate by rowid (and sorts
		// them, for a page): right for a rare word, slow for a common
		// one. Walking the time index (newest first, stopping once the
		// page is full) and testing each post costs about a fifteenth as
		// much per post visited, so it is used when the candidates are
		// many: for a count when they are a quarter of the posts or more;
		// for a page when the walk, about (offset+limit)*posts/candidates
		// long, is shorter than 15 times the candidates. An author
		// filter has its own time-ordered index, which the planner
		// already prefers.
		countByTime, pageByTime := false, false
		if candidates > 0 && q.Author == "" {
			var n int64
			if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM posts").Scan(&n); err != nil {
				return fmt.Errorf("count posts: %w", err)
			}
			m := int64(candidates)
			countByTime = m*4 >= n
			pageByTime = 15*m*m >= int64(q.Offset+q.Limit)*n
		}
		// With an author, its index drives and a hashtag is best tested.
		tagDrives := nTag == candidates && q.Author == ""
		oneSetFilter := (nText >= 0) != (nTag >= 0) && q.Author == "" && q.Platform == "" && q.From.IsZero() && q.To.IsZero()
		if oneSetFilter {
			total = candidates
		} else {
			from, args := postFilter(q, match, countByTime, tagDrives)
			if err := tx.QueryRowContext(ctx, "SELECT count(*)"+from, args...).Scan(&total); err != nil {
				return fmt.Errorf("count: %w", err)
			}
		}
		if total <= q.Offset {
			return nil
		}
		from, args := postFilter(q, match, pageByTime, tagDrives)
		var err error
		posts, err = queryPosts(ctx, tx, "SELECT body"+from+" ORDER BY time DESC, key LIMIT ? OFFSET ?", append(args, q.Limit, q.Offset)...)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return posts, total, nil
}

// postFilter gives the FROM and WHERE clauses of a search and their
// arguments. byTime forces the walk of the time index. tagDrives says the
// hashtag selects the fewest posts: it is then a list of rowids to fetch,
// and otherwise a test of each post, which saves listing a common hashtag.
func postFilter(q store.PostQuery, match string, byTime, tagDrives bool) (string, []any) {
	from := " FROM posts"
	if byTime {
		from += " INDEXED BY posts_by_time"
	}
	var where []string
	var args []any
	if match != "" {
		where = append(where, "id IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?)")
		args = append(args, match)
	}
	if q.Hashtag != "" {
		if tagDrives && !byTime {
			where = append(where, "id IN (SELECT post FROM post_hashtags WHERE tag = ?)")
		} else {
			where = append(where, "EXISTS (SELECT 1 FROM post_hashtags WHERE tag = ? AND post = posts.id)")
		}
		args = append(args, q.Hashtag)
	}
	if q.Author != "" {
		where = append(where, "author = ?")
		args = append(args, q.Author)
	}
	if q.Platform != "" {
		where = append(where, "platform = ?")
		args = append(args, string(q.Platform))
	}
	if !q.From.IsZero() {
		where = append(where, "time >= ?")
		args = append(args, nanos(q.From))
	}
	if !q.To.IsZero() {
		where = append(where, "time < ?")
		args = append(args, nanos(q.To))
	}
	if len(where) > 0 {
		from += " WHERE " + strings.Join(where, " AND ")
	}
	return from, args
}

// queryPosts decodes the post bodies a query returns.
func queryPosts(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]post.Post, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	posts := []post.Post{}
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var p post.Post
		if err := json.Unmarshal(body, &p); err != nil {
			return nil, fmt.Errorf("decode post: %w", err)
		}
		posts = append(posts, p)
	}
	return posts, rows.Err()
}

// GetPost implements store.Reader.
func (s *Store) GetPost(ctx context.Context, key string) (post.Post, error) {
	var p post.Post
	err := s.getJSON(ctx, "get post "+key, "SELECT body FROM posts WHERE key = ?", key, &p)
	return p, err
}

// GetCluster implements store.Reader.
func (s *Store) GetCluster(ctx context.Context, id string) (post.Cluster, error) {
	var c post.Cluster
	err := s.getJSON(ctx, "get cluster "+id, "SELECT body FROM clusters WHERE id = ?", id, &c)
	return c, err
}

// getJSON decodes the one JSON column query returns into v, or returns
// store.ErrNotFound.
func (s *Store) getJSON(ctx context.Context, what, query, arg string, v any) error {
	var body []byte
	err := s.r.QueryRowContext(ctx, query, arg).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: %s: %w", what, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("sqlite: %s: decode: %w", what, err)
	}
	return nil
}

// ListClusters implements store.Reader.
func (s *Store) ListClusters(ctx context.Context, q store.ClusterQuery) ([]store.ClusterSummary, error) {
	q, err := q.Normalized()
	if err != nil {
		return nil, fmt.Errorf("sqlite: list clusters: %w", err)
	}
	var where []string
	var args []any
	if q.Status != store.StatusAll {
		where = append(where, "status = ?")
		args = append(args, q.Status)
	}
	if q.MinRisk != 0 {
		where = append(where, "risk >= ?")
		args = append(args, q.MinRisk)
	}
	if !q.Since.IsZero() {
		where = append(where, "last_seen >= ?")
		args = append(args, nanos(q.Since))
	}
	if q.Account != "" {
		where = append(where, "id IN (SELECT cluster FROM cluster_members WHERE account = ?)")
		args = append(args, q.Account)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, q.Limit, q.Offset)
	var out []store.ClusterSummary
	err = s.read(ctx, "list clusters", func(tx *sql.Tx) error {
		var err error
		out, err = querySummaries(ctx, tx, "SELECT summary FROM clusters"+cond+" ORDER BY risk DESC, size DESC, id LIMIT ? OFFSET ?", args...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func querySummaries(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]store.ClusterSummary, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.ClusterSummary{}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		var c store.ClusterSummary
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("decode cluster summary: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// GetAccount implements store.Reader.
func (s *Store) GetAccount(ctx context.Context, key string) (store.AccountView, error) {
	v := store.AccountView{Key: key}
	err := s.read(ctx, "get account "+key, func(tx *sql.Tx) error {
		var first, last sql.NullInt64
		if err := tx.QueryRowContext(ctx, "SELECT count(*), min(time), max(time) FROM posts WHERE author = ?", key).
			Scan(&v.Posts, &first, &last); err != nil {
			return fmt.Errorf("count posts: %w", err)
		}
		if first.Valid {
			v.FirstPost, v.LastPost = fromNanos(first.Int64), fromNanos(last.Int64)
		}
		var snap []byte
		err := tx.QueryRowContext(ctx, "SELECT snapshot FROM accounts WHERE key = ?", key).Scan(&snap)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("snapshot: %w", err)
		case snap != nil:
			v.Account = new(post.Account)
			if err := json.Unmarshal(snap, v.Account); err != nil {
				return fmt.Errorf("decode snapshot: %w", err)
			}
		}
		if v.Clusters, err = querySummaries(ctx, tx, `
SELECT c.summary FROM cluster_members m JOIN clusters c ON c.id = m.cluster
WHERE m.account = ? ORDER BY c.risk DESC, c.size DESC, c.id LIMIT ?`, key, store.AccountClusters); err != nil {
			return fmt.Errorf("clusters: %w", err)
		}
		if v.Recent, err = queryPosts(ctx, tx, "SELECT body FROM posts WHERE author = ? ORDER BY time DESC, key LIMIT ?", key, store.AccountRecentPosts); err != nil {
			return fmt.Errorf("recent posts: %w", err)
		}
		return nil
	})
	if err != nil {
		return store.AccountView{}, err
	}
	if v.Posts == 0 && len(v.Clusters) == 0 {
		return store.AccountView{}, fmt.Errorf("sqlite: get account %s: %w", key, store.ErrNotFound)
	}
	return v, nil
}

// ListAlerts implements store.Reader.
func (s *Store) ListAlerts(ctx context.Context, q store.AlertQuery) ([]post.Alert, error) {
	q, err := q.Normalized()
	if err != nil {
		return nil, fmt.Errorf("sqlite: list alerts: %w", err)
	}
	var where []string
	var args []any
	if q.ClusterID != "" {
		where = append(where, "cluster = ?")
		args = append(args, q.ClusterID)
	}
	if !q.Since.IsZero() {
		where = append(where, "time >= ?")
		args = append(args, nanos(q.Since))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, q.Limit, q.Offset)
	out := []post.Alert{}
	err = s.read(ctx, "list alerts", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT body FROM alerts"+cond+" ORDER BY time DESC, id LIMIT ? OFFSET ?", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				return err
			}
			var a post.Alert
			if err := json.Unmarshal(b, &a); err != nil {
				return fmt.Errorf("decode alert: %w", err)
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Stats implements store.Reader.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	var st store.Stats
	err := s.r.QueryRowContext(ctx, `SELECT
	(SELECT count(*) FROM posts),
	(SELECT count(*) FROM accounts),
	(SELECT count(*) FROM clusters),
	(SELECT count(*) FROM clusters WHERE status = ?),
	(SELECT count(*) FROM alerts)`, post.StatusActive).
		Scan(&st.Posts, &st.Accounts, &st.Clusters, &st.ActiveClusters, &st.Alerts)
	if err != nil {
		return store.Stats{}, fmt.Errorf("sqlite: stats: %w", err)
	}
	return st, nil
}

// LoadCheckpoint implements store.Checkpoints.
func (s *Store) LoadCheckpoint(ctx context.Context, name string) ([]byte, error) {
	var data []byte
	err := s.r.QueryRowContext(ctx, "SELECT data FROM checkpoints WHERE name = ?", name).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: load checkpoint %s: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: load checkpoint %s: %w", name, err)
	}
	if data == nil {
		data = []byte{} // an empty checkpoint exists; nil would read as "none"
	}
	return data, nil
}
