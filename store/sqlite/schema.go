package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
)

// A migration moves the schema from version i to i+1, where i is its index
// in the list. Migrations are append-only: a released one is never edited,
// since databases in the field already ran it.
type migration struct {
	name string
	sql  string
}

// migrations is the schema history. PRAGMA user_version holds the number of
// migrations a database has run.
var migrations = []migration{
	{name: "initial schema", sql: schemaV1},
	{name: "briefings", sql: schemaV2},
}

// schemaV2 adds the daily briefings (store.Briefings): one row per UTC
// day, the documents whole in body, the list fields in summary so that a
// list does not read megabytes of HTML.
const schemaV2 = `
CREATE TABLE briefings (
	date    TEXT PRIMARY KEY, -- "YYYY-MM-DD", so text order is date order
	summary TEXT NOT NULL,    -- store.BriefingSummary as JSON
	body    TEXT NOT NULL     -- store.Briefing as JSON
);
`

// schemaV1 is the first schema. Notes on choices:
//
//   - posts.id is the rowid shared with posts_fts, so a re-put post keeps
//     its FTS row and replaces it, and the old text stops matching.
//   - posts_fts is contentless (the text lives in posts.body already) with
//     contentless_delete=1, which lets an upsert replace a row by rowid
//     without supplying the old text, as an external-content table would
//     require. snippet() and highlight() are unavailable as a result.
//   - Deleting posts (retention, later) must delete from posts_fts too:
//     the FTS table has no foreign key to cascade from.
//   - Hashtags are stored normalized (store.NormalizeHashtag) in their own
//     table for exact filtering, and in posts_fts for text search.
//   - accounts has a row for every author seen, with the latest profile
//     snapshot when any post carried one.
const schemaV1 = `
CREATE TABLE posts (
	id       INTEGER PRIMARY KEY,
	key      TEXT    NOT NULL UNIQUE, -- "platform:id"
	platform TEXT    NOT NULL,
	author   TEXT    NOT NULL,        -- "platform:author"
	time     INTEGER NOT NULL,        -- Unix ns, UTC
	lang     TEXT    NOT NULL,
	body     TEXT    NOT NULL         -- post.Post as JSON
);
CREATE INDEX posts_by_time     ON posts(time DESC, key);
CREATE INDEX posts_by_author   ON posts(author, time DESC, key);
CREATE INDEX posts_by_platform ON posts(platform, time DESC, key);

CREATE VIRTUAL TABLE posts_fts USING fts5(
	text, hashtags,
	content = '', contentless_delete = 1,
	tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE post_hashtags (
	tag  TEXT    NOT NULL,
	post INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
	PRIMARY KEY (tag, post)
) WITHOUT ROWID;
CREATE INDEX post_hashtags_by_post ON post_hashtags(post);

CREATE TABLE accounts (
	key      TEXT PRIMARY KEY, -- "platform:author"
	observed INTEGER,          -- Unix ns: snapshot's ObservedAt, else its post's time
	snapshot TEXT              -- post.Account as JSON, NULL when no post carried one
);

CREATE TABLE clusters (
	id         TEXT    PRIMARY KEY,
	status     TEXT    NOT NULL,
	risk       REAL    NOT NULL,
	size       INTEGER NOT NULL,
	detected   INTEGER NOT NULL, -- Unix ns
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	summary    TEXT    NOT NULL, -- store.ClusterSummary as JSON, for lists
	body       TEXT    NOT NULL  -- post.Cluster as JSON
);
CREATE INDEX clusters_by_status_rank ON clusters(status, risk DESC, size DESC, id);
CREATE INDEX clusters_by_rank        ON clusters(risk DESC, size DESC, id);

CREATE TABLE cluster_members (
	account TEXT NOT NULL,
	cluster TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
	PRIMARY KEY (account, cluster)
) WITHOUT ROWID;
CREATE INDEX cluster_members_by_cluster ON cluster_members(cluster);

-- No foreign key to clusters: alerts and clusters arrive on different
-- topics, in no guaranteed order.
CREATE TABLE alerts (
	id      TEXT    PRIMARY KEY,
	cluster TEXT    NOT NULL,
	time    INTEGER NOT NULL, -- Unix ns
	body    TEXT    NOT NULL  -- post.Alert as JSON
);
CREATE INDEX alerts_by_time    ON alerts(time DESC, id);
CREATE INDEX alerts_by_cluster ON alerts(cluster, time DESC, id);

CREATE TABLE checkpoints (
	name    TEXT    PRIMARY KEY,
	data    BLOB    NOT NULL,
	updated INTEGER NOT NULL -- Unix ns, wall clock of the save
);
`

// migrate runs the migrations db has not run yet, each in its own
// transaction together with the user_version bump, so a crash leaves the
// schema at a version it really has. The version is read inside each
// (immediate, so write-locked) transaction: two processes opening a new
// file at once cannot both run the same migration.
func migrate(ctx context.Context, db *sql.DB, ms []migration, log *slog.Logger) error {
	for {
		done, err := migrateOne(ctx, db, ms, log)
		if err != nil || done {
			return err
		}
	}
}

func migrateOne(ctx context.Context, db *sql.DB, ms []migration, log *slog.Logger) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	switch {
	case version > len(ms):
		return false, fmt.Errorf("schema version %d is newer than this build supports (%d): upgrade Vigie", version, len(ms))
	case version == len(ms):
		return true, nil
	}
	m := ms[version]
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("migration %d (%s): %w", version+1, m.name, err)
	}
	// PRAGMA takes no bound parameters; version is an int, so formatting
	// is safe.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version+1)); err != nil {
		return false, fmt.Errorf("migration %d (%s): set version: %w", version+1, m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %d (%s): commit: %w", version+1, m.name, err)
	}
	log.Info("applied schema migration", "version", version+1, "name", m.name)
	return false, nil
}
