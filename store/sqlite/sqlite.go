// Package sqlite is Vigie's embedded store: a store.Store in one SQLite
// file, for a single machine, a laptop demo or CI, with no service to run.
//
// Why SQLite, and why modernc.org/sqlite:
//
//   - One file holds posts, clusters, alerts and stage checkpoints, so a
//     stage can save its state and its output in the same durable place and
//     then commit its Kafka offsets; copying the file is a backup.
//   - Transactions are durable when they return (WAL journal with
//     synchronous=FULL fsyncs every commit), which is what makes
//     "commit offsets after Put returns" safe across a power cut.
//   - FTS5 gives full-text search over post text and hashtags, with a
//     Unicode tokenizer that folds case and diacritics (French content).
//   - modernc.org/sqlite is SQLite translated to Go: no cgo, so the binary
//     cross-compiles and builds in a plain Go toolchain, at the price of
//     CPU-bound queries running roughly 1.3-2x slower than C SQLite.
//
// Concurrency: SQLite allows one writer at a time, so writes go through a
// pool of exactly one connection (writers queue in database/sql, honouring
// their contexts, instead of failing with SQLITE_BUSY), while reads use a
// separate pool of query-only connections that, in WAL mode, see the last
// committed snapshot without blocking or being blocked by the writer.
//
// Layout: every record is stored whole as JSON (so a round trip returns
// exactly what was put, and new fields need no migration) next to the
// columns that queries filter and sort on. Times are UTC Unix nanoseconds,
// so time filters are exact; the few times outside 1678-2262 (only zero
// times in practice) are clamped, which keeps their order.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/vigie-osint/vigie/store"
)

// Store is a store.Store backed by one SQLite file. It is safe for
// concurrent use.
type Store struct {
	w   *sql.DB // one connection: SQLite has one writer at a time
	r   *sql.DB // query-only connections
	log *slog.Logger

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

type options struct {
	log         *slog.Logger
	readers     int
	busyTimeout time.Duration
	migrations  []migration
}

// Option configures Open.
type Option func(*options)

// WithLogger sets the logger; the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithReaders sets the number of read connections (default 4). Each holds
// its own page cache, so more than the number of concurrent readers wastes
// memory.
func WithReaders(n int) Option { return func(o *options) { o.readers = n } }

// WithBusyTimeout sets how long a connection waits for a lock held by
// another process (another Vigie on the same file, a backup) before
// failing with SQLITE_BUSY. Default 10s.
func WithBusyTimeout(d time.Duration) Option { return func(o *options) { o.busyTimeout = d } }

// withMigrations replaces the schema migrations, for tests of the
// migration machinery.
func withMigrations(ms []migration) Option { return func(o *options) { o.migrations = ms } }

// Open opens or creates the database at path and brings its schema up to
// date. A database whose schema is newer than this build is refused rather
// than misread.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{log: slog.Default(), readers: 4, busyTimeout: 10 * time.Second, migrations: migrations}
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case path == "" || path == ":memory:" || strings.HasPrefix(path, "file::memory:"):
		// Readers and the writer use separate connections, which would
		// each get their own empty in-memory database.
		return nil, fmt.Errorf("sqlite: open %q: an in-memory database is not supported, use a file in a temporary directory", path)
	case strings.ContainsRune(path, '?'):
		return nil, fmt.Errorf("sqlite: open %q: path must not contain '?' (it starts the driver's parameters)", path)
	case o.readers < 1:
		return nil, fmt.Errorf("sqlite: open %q: %d readers, need at least 1", path, o.readers)
	}
	log := o.log.With("db", path)

	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", o.busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	common := q.Encode()

	// The writer's transactions start with BEGIN IMMEDIATE so that a write
	// transaction takes the lock up front, when busy_timeout can still wait
	// for it, instead of failing to upgrade a read lock half-way.
	wq := url.Values{}
	wq.Set("_journal_mode", "WAL")
	wq.Set("_synchronous", "FULL")
	wq.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", path+"?"+common+"&"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	if mode != "wal" {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %q: journal mode is %q, want wal (is the file on a network file system?)", path, mode)
	}
	// A new database frees the pages of deleted posts (retention) back to
	// the file system: auto_vacuum is chosen before the migrations create
	// the first table, and the VACUUM that applies it to the file (WAL
	// mode has already written its header) is instant on an empty one.
	if err := incrementalVacuumIfEmpty(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %q: auto_vacuum: %w", path, err)
	}
	if err := migrate(ctx, w, o.migrations, log); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}

	// Let SQLite gather the statistics its planner lacks, as its
	// documentation advises for long-lived connections; it costs little
	// and only analyzes what needs it.
	if _, err := w.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %q: optimize: %w", path, err)
	}

	r, err := sql.Open("sqlite", path+"?"+common+"&_query_only=1")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	r.SetMaxOpenConns(o.readers)
	r.SetMaxIdleConns(o.readers)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	return &Store{w: w, r: r, log: log}, nil
}

// Close closes both connection pools. It first refreshes the planner's
// statistics (PRAGMA optimize, as SQLite advises before closing); the last
// connection to close checkpoints the WAL into the main file.
// Closing twice is harmless and returns the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Store) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.w.ExecContext(ctx, "PRAGMA optimize"); err != nil {
		s.log.Warn("sqlite: optimize before close", "err", err)
	}
	return errors.Join(s.r.Close(), s.w.Close())
}

// Nanosecond bounds of the int64 columns. Times beyond them are clamped.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// nanos gives t as UTC Unix nanoseconds, clamped to the int64 range: the
// zero time becomes math.MinInt64 and still sorts first.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// fromNanos inverts nanos for times in range.
func fromNanos(n int64) time.Time {
	if n == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
