package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store"
)

// The upserts skip rows whose JSON is unchanged, so a replayed batch (the
// normal case after a restart) costs reads, not index rewrites, and their
// RETURNING/rows-affected tell whether the dependent rows must change.
const (
	upsertPostSQL = `
INSERT INTO posts(key, platform, author, time, lang, body) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT(key) DO UPDATE SET
	platform = excluded.platform, author = excluded.author, time = excluded.time,
	lang = excluded.lang, body = excluded.body
WHERE posts.body IS NOT excluded.body
RETURNING id`
	putFTSSQL        = `INSERT OR REPLACE INTO posts_fts(rowid, text, hashtags) VALUES (?, ?, ?)`
	deleteTagsSQL    = `DELETE FROM post_hashtags WHERE post = ?`
	insertTagSQL     = `INSERT OR IGNORE INTO post_hashtags(tag, post) VALUES (?, ?)`
	upsertAccountSQL = `
INSERT INTO accounts(key, observed, snapshot) VALUES (?, ?, ?)
ON CONFLICT(key) DO UPDATE SET observed = excluded.observed, snapshot = excluded.snapshot
WHERE excluded.snapshot IS NOT NULL
	AND (accounts.snapshot IS NULL OR excluded.observed >= accounts.observed)`

	upsertClusterSQL = `
INSERT INTO clusters(id, status, risk, size, detected, first_seen, last_seen, summary, body)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(id) DO UPDATE SET
	status = excluded.status, risk = excluded.risk, size = excluded.size,
	detected = excluded.detected, first_seen = excluded.first_seen,
	last_seen = excluded.last_seen, summary = excluded.summary, body = excluded.body
WHERE excluded.detected >= clusters.detected AND clusters.body IS NOT excluded.body`
	deleteMembersSQL = `DELETE FROM cluster_members WHERE cluster = ?`
	insertMemberSQL  = `INSERT OR IGNORE INTO cluster_members(account, cluster) VALUES (?, ?)`

	upsertAlertSQL = `
INSERT INTO alerts(id, cluster, time, body) VALUES (?, ?, ?, ?)
ON CONFLICT(id) DO UPDATE SET cluster = excluded.cluster, time = excluded.time, body = excluded.body
WHERE excluded.time >= alerts.time AND alerts.body IS NOT excluded.body`

	saveCheckpointSQL = `
INSERT INTO checkpoints(name, data, updated) VALUES (?, ?, ?)
ON CONFLICT(name) DO UPDATE SET data = excluded.data, updated = excluded.updated`
)

// write runs fn in one write transaction and commits it. With
// synchronous=FULL the commit has reached the disk when write returns.
//
// fn's statements run under a context without ctx's cancellation: the
// driver watches a cancellable context with one goroutine per statement,
// a quarter of the cost of a batch of posts, and cancelling ctx still
// aborts the batch, since database/sql rolls back a transaction when its
// context is done and every later statement then fails.
func (s *Store) write(ctx context.Context, what string, fn func(ctx context.Context, tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: %s: begin: %w", what, err)
	}
	defer tx.Rollback() // no-op after Commit
	if err := fn(context.WithoutCancel(ctx), tx); err != nil {
		if ctx.Err() != nil {
			// The rollback made err an opaque sql.ErrTxDone.
			return fmt.Errorf("sqlite: %s: %w", what, context.Cause(ctx))
		}
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: %s: commit: %w", what, err)
	}
	return nil
}

// stmts prepares statements on tx and returns them with a closer.
func stmts(ctx context.Context, tx *sql.Tx, queries ...string) ([]*sql.Stmt, func(), error) {
	out := make([]*sql.Stmt, 0, len(queries))
	closeAll := func() {
		for _, st := range out {
			st.Close()
		}
	}
	for _, q := range queries {
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("prepare: %w", err)
		}
		out = append(out, st)
	}
	return out, closeAll, nil
}

// PutPosts implements store.Writer.
func (s *Store) PutPosts(ctx context.Context, posts []post.Post) error {
	if len(posts) == 0 {
		return nil
	}
	// Validate and encode everything before the transaction, so a bad
	// record fails the batch without holding the write lock.
	type row struct {
		p        post.Post
		body     []byte
		tags     []string
		observed any // int64 or nil
		snapshot any // string or nil
	}
	rows := make([]row, len(posts))
	for i := range posts {
		p := store.UTCPost(posts[i])
		if err := p.Validate(); err != nil {
			return fmt.Errorf("sqlite: put posts: post %d: %w", i, err)
		}
		body, err := json.Marshal(&p)
		if err != nil {
			return fmt.Errorf("sqlite: put posts: post %s: %w", p.Key(), err)
		}
		r := row{p: p, body: body, tags: store.NormalizeTags(p.Hashtags)}
		if a := p.Account; a != nil {
			snap, err := json.Marshal(a)
			if err != nil {
				return fmt.Errorf("sqlite: put posts: post %s: account: %w", p.Key(), err)
			}
			at := a.ObservedAt
			if at.IsZero() {
				at = p.Time
			}
			r.observed, r.snapshot = nanos(at), string(snap)
		}
		rows[i] = r
	}
	return s.write(ctx, "put posts", func(ctx context.Context, tx *sql.Tx) error {
		st, closeAll, err := stmts(ctx, tx, upsertPostSQL, putFTSSQL, deleteTagsSQL, insertTagSQL, upsertAccountSQL)
		if err != nil {
			return err
		}
		defer closeAll()
		upsert, fts, delTags, addTag, account := st[0], st[1], st[2], st[3], st[4]
		ids := make([]int64, len(rows)) // 0: unchanged
		for i, r := range rows {
			p := &r.p
			var id int64
			err := upsert.QueryRowContext(ctx, p.Key(), string(p.Platform), p.AuthorKey(), nanos(p.Time), p.Lang, string(r.body)).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				continue // stored already, unchanged
			}
			if err != nil {
				return fmt.Errorf("post %s: %w", p.Key(), err)
			}
			ids[i] = id
			if _, err := delTags.ExecContext(ctx, id); err != nil {
				return fmt.Errorf("post %s: hashtags: %w", p.Key(), err)
			}
			for _, t := range r.tags {
				if _, err := addTag.ExecContext(ctx, t, id); err != nil {
					return fmt.Errorf("post %s: hashtag %q: %w", p.Key(), t, err)
				}
			}
			if _, err := account.ExecContext(ctx, p.AuthorKey(), r.observed, r.snapshot); err != nil {
				return fmt.Errorf("post %s: account: %w", p.Key(), err)
			}
		}
		// FTS5 writes its pending terms to disk whenever another statement
		// opens a savepoint (every upsert does), so indexing each post
		// between the other statements would flush one post at a time.
		// Indexing them all last lets FTS5 merge the batch in memory and
		// flush it once, at commit: 1.7 times the throughput.
		for i, r := range rows {
			if ids[i] == 0 {
				continue
			}
			if _, err := fts.ExecContext(ctx, ids[i], r.p.Text, strings.Join(r.tags, " ")); err != nil {
				return fmt.Errorf("post %s: index text: %w", r.p.Key(), err)
			}
		}
		return nil
	})
}

// PutClusters implements store.Writer.
func (s *Store) PutClusters(ctx context.Context, cs []post.Cluster) error {
	if len(cs) == 0 {
		return nil
	}
	type row struct {
		c             post.Cluster
		body, summary []byte
	}
	rows := make([]row, len(cs))
	for i := range cs {
		c := store.UTCCluster(cs[i])
		if c.ID == "" {
			return fmt.Errorf("sqlite: put clusters: cluster %d: %w", i, &post.FieldError{Field: "id", Reason: "missing"})
		}
		body, err := json.Marshal(&c)
		if err != nil {
			return fmt.Errorf("sqlite: put clusters: cluster %s: %w", c.ID, err)
		}
		sum := store.Summarize(&c)
		summary, err := json.Marshal(&sum)
		if err != nil {
			return fmt.Errorf("sqlite: put clusters: cluster %s: %w", c.ID, err)
		}
		rows[i] = row{c: c, body: body, summary: summary}
	}
	return s.write(ctx, "put clusters", func(ctx context.Context, tx *sql.Tx) error {
		st, closeAll, err := stmts(ctx, tx, upsertClusterSQL, deleteMembersSQL, insertMemberSQL)
		if err != nil {
			return err
		}
		defer closeAll()
		upsert, delMembers, addMember := st[0], st[1], st[2]
		for _, r := range rows {
			c := &r.c
			res, err := upsert.ExecContext(ctx, c.ID, c.Status, c.Scores.Risk, len(c.Members),
				nanos(c.Detected), nanos(c.FirstSeen), nanos(c.LastSeen), string(r.summary), string(r.body))
			if err != nil {
				return fmt.Errorf("cluster %s: %w", c.ID, err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return fmt.Errorf("cluster %s: %w", c.ID, err)
			} else if n == 0 {
				continue // older than the stored one, or unchanged
			}
			if _, err := delMembers.ExecContext(ctx, c.ID); err != nil {
				return fmt.Errorf("cluster %s: members: %w", c.ID, err)
			}
			for _, m := range c.Members {
				if _, err := addMember.ExecContext(ctx, m, c.ID); err != nil {
					return fmt.Errorf("cluster %s: member %q: %w", c.ID, m, err)
				}
			}
		}
		return nil
	})
}

// PutAlerts implements store.Writer.
func (s *Store) PutAlerts(ctx context.Context, as []post.Alert) error {
	if len(as) == 0 {
		return nil
	}
	bodies := make([][]byte, len(as))
	alerts := make([]post.Alert, len(as))
	for i := range as {
		a := as[i]
		a.Time = a.Time.UTC()
		if a.ID == "" {
			return fmt.Errorf("sqlite: put alerts: alert %d: %w", i, &post.FieldError{Field: "id", Reason: "missing"})
		}
		b, err := json.Marshal(&a)
		if err != nil {
			return fmt.Errorf("sqlite: put alerts: alert %s: %w", a.ID, err)
		}
		alerts[i], bodies[i] = a, b
	}
	return s.write(ctx, "put alerts", func(ctx context.Context, tx *sql.Tx) error {
		st, closeAll, err := stmts(ctx, tx, upsertAlertSQL)
		if err != nil {
			return err
		}
		defer closeAll()
		for i, a := range alerts {
			if _, err := st[0].ExecContext(ctx, a.ID, a.ClusterID, nanos(a.Time), string(bodies[i])); err != nil {
				return fmt.Errorf("alert %s: %w", a.ID, err)
			}
		}
		return nil
	})
}

// SaveCheckpoint implements store.Checkpoints.
func (s *Store) SaveCheckpoint(ctx context.Context, name string, data []byte) error {
	if name == "" {
		return errors.New("sqlite: save checkpoint: empty name")
	}
	if data == nil {
		data = []byte{} // the column is NOT NULL; nil and empty mean the same
	}
	return s.write(ctx, "save checkpoint "+name, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, saveCheckpointSQL, name, data, time.Now().UnixNano())
		return err
	})
}
