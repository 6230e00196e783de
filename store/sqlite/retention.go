package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// retentionBatch is how many posts one deletion transaction removes. The
// writer is shared with the index stage: small transactions let its
// batches in between instead of stalling it for a whole retention run.
const retentionBatch = 2000

// DeletePostsBefore implements store.Retention. Posts go oldest first, in
// transactions of retentionBatch posts, each deleting the posts' FTS rows
// (posts_fts has no foreign key to cascade from), the posts (their
// hashtag rows cascade) and the account rows of authors left without a
// post. Then the freed pages are given back to the file system: by
// incremental vacuum on a database created with auto_vacuum=incremental
// (every database this version creates), and a WAL checkpoint that
// truncates the log. An older database keeps its size, its free pages
// are reused by new posts; `VACUUM` run by hand (with Vigie stopped)
// shrinks it.
func (s *Store) DeletePostsBefore(ctx context.Context, t time.Time) (int64, error) {
	cut := nanos(t)
	var total int64
	for {
		n, err := s.deleteBatch(ctx, cut)
		total += n
		if err != nil {
			return total, err
		}
		if n < retentionBatch {
			break
		}
	}
	if total > 0 {
		s.releaseSpace(ctx)
	}
	return total, nil
}

func (s *Store) deleteBatch(ctx context.Context, cut int64) (int64, error) {
	var n int64
	err := s.write(ctx, "delete posts", func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT id, author FROM posts WHERE time < ? ORDER BY time LIMIT ?", cut, retentionBatch)
		if err != nil {
			return err
		}
		var ids []int64
		authors := map[string]bool{}
		var authorList []string
		for rows.Next() {
			var id int64
			var author string
			if err := rows.Scan(&id, &author); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
			if !authors[author] {
				authors[author] = true
				authorList = append(authorList, author)
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		// One JSON array parameter instead of thousands of placeholders.
		idJSON, _ := json.Marshal(ids)            // []int64: cannot fail
		authorJSON, _ := json.Marshal(authorList) // []string: cannot fail
		if _, err := tx.ExecContext(ctx, "DELETE FROM posts_fts WHERE rowid IN (SELECT value FROM json_each(?))", string(idJSON)); err != nil {
			return fmt.Errorf("text index: %w", err)
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM posts WHERE id IN (SELECT value FROM json_each(?))", string(idJSON))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
DELETE FROM accounts WHERE key IN (SELECT value FROM json_each(?))
	AND NOT EXISTS (SELECT 1 FROM posts WHERE author = accounts.key)`, string(authorJSON)); err != nil {
			return fmt.Errorf("accounts: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// releaseSpace returns free pages to the file system where the database
// allows it. Failures are logged, not returned: the posts are deleted
// either way, and the pages are reused by later writes.
func (s *Store) releaseSpace(ctx context.Context) {
	var mode int
	if err := s.w.QueryRowContext(ctx, "PRAGMA auto_vacuum").Scan(&mode); err != nil {
		s.log.Warn("sqlite: retention: read auto_vacuum", "err", err)
		return
	}
	if mode == 2 { // incremental
		// incremental_vacuum returns a row per page freed; the driver
		// runs it to completion when the rows are drained.
		rows, err := s.w.QueryContext(ctx, "PRAGMA incremental_vacuum")
		if err != nil {
			s.log.Warn("sqlite: retention: incremental vacuum", "err", err)
			return
		}
		for rows.Next() {
		}
		rows.Close()
	}
	if _, err := s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		s.log.Warn("sqlite: retention: checkpoint", "err", err)
	}
}

// incrementalVacuumIfEmpty turns auto_vacuum=incremental on for a
// database with no table yet. An existing database keeps its mode:
// converting it needs a full VACUUM, a rewrite of the whole file that an
// operator runs by hand (docs/privacy.md).
func incrementalVacuumIfEmpty(ctx context.Context, w *sql.DB) error {
	var tables int
	if err := w.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
		return err
	}
	if tables > 0 {
		return nil
	}
	if _, err := w.ExecContext(ctx, "PRAGMA auto_vacuum = INCREMENTAL"); err != nil {
		return err
	}
	_, err := w.ExecContext(ctx, "VACUUM")
	return err
}
