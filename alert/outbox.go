package alert

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// Outbox is the durable queue of webhook deliveries: an SQLite file of its
// own (not the store), so that it works whatever the store backend is and
// holds only this process's sending state. Every write is a transaction
// committed with synchronous=FULL: when Enqueue returns, the deliveries
// survive a crash, which is what lets the alert stage commit its offsets.
//
// A delivery is pending until a 2xx answer (delivered) or until it is
// given up (failed, kept with its last error for inspection). One that
// was being sent when the process stopped is still pending and is sent
// again after the restart: delivery is at least once.
type Outbox struct {
	db   *sql.DB
	wake chan struct{}
}

// Delivery states.
const (
	StatePending   = "pending"
	StateDelivered = "delivered"
	StateFailed    = "failed"
)

const outboxSchema = `
CREATE TABLE IF NOT EXISTS deliveries (
	id           TEXT PRIMARY KEY,
	subscription TEXT    NOT NULL,
	event        TEXT    NOT NULL, -- alert, briefing, test
	cluster      TEXT    NOT NULL, -- "" for briefings
	format       TEXT    NOT NULL,
	body         BLOB    NOT NULL, -- rendered once: retries send the same bytes
	state        TEXT    NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_at      INTEGER NOT NULL, -- Unix ns, wall clock
	created      INTEGER NOT NULL,
	updated      INTEGER NOT NULL,
	last_status  INTEGER NOT NULL DEFAULT 0,
	last_error   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(state, next_at);
CREATE TABLE IF NOT EXISTS cooldowns (
	subscription TEXT    NOT NULL,
	cluster      TEXT    NOT NULL,
	last         INTEGER NOT NULL, -- Unix ns, stream time of the last queued alert
	PRIMARY KEY (subscription, cluster)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS subscriptions (
	name TEXT PRIMARY KEY,
	body TEXT NOT NULL -- Subscription as JSON, secret included
);
`

// OpenOutbox opens or creates the outbox file at path.
func OpenOutbox(ctx context.Context, path string) (*Outbox, error) {
	if path == "" || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("alert: outbox path %q: need a file path without '?'", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("alert: outbox: %w", err)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("alert: open outbox %s: %w", path, err)
	}
	// One connection: SQLite has one writer, and the outbox's traffic is
	// a few rows per alert.
	db.SetMaxOpenConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if _, err := db.ExecContext(ctx, outboxSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("alert: open outbox %s: %w", path, err)
	}
	return &Outbox{db: db, wake: make(chan struct{}, 1)}, nil
}

// Close closes the database.
func (o *Outbox) Close() error { return o.db.Close() }

// Wake is signalled (without blocking) when deliveries are queued.
func (o *Outbox) Wake() <-chan struct{} { return o.wake }

func (o *Outbox) nudge() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Item is one delivery to queue.
type Item struct {
	ID           string
	Subscription string
	Event        string
	Cluster      string    // "" when the delivery is not about a cluster
	StreamTime   time.Time // for the cooldown; zero skips the cooldown
	Format       string
	Body         []byte
}

// Enqueue queues items in one durable transaction and returns how many
// were queued. An item whose ID is already in the outbox (a replayed
// event) is skipped; so is an alert for a (subscription, cluster) pair
// that got one less than cooldown ago in stream time.
func (o *Outbox) Enqueue(ctx context.Context, items []Item, cooldown time.Duration, now time.Time) (int, error) {
	if len(items) == 0 {
		return 0, nil
	}
	tx, err := o.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("alert: outbox: begin: %w", err)
	}
	defer tx.Rollback()
	n := 0
	for _, it := range items {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM deliveries WHERE id = ?", it.ID).Scan(&one)
		if err == nil {
			continue // already queued: a replay
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("alert: outbox: delivery %s: %w", it.ID, err)
		}
		if it.Cluster != "" && !it.StreamTime.IsZero() {
			var last int64
			err := tx.QueryRowContext(ctx, "SELECT last FROM cooldowns WHERE subscription = ? AND cluster = ?", it.Subscription, it.Cluster).Scan(&last)
			switch {
			case err == nil:
				if d := it.StreamTime.UnixNano() - last; d < int64(cooldown) {
					continue // within the cooldown (or older than the last one)
				}
			case !errors.Is(err, sql.ErrNoRows):
				return 0, fmt.Errorf("alert: outbox: cooldown %s/%s: %w", it.Subscription, it.Cluster, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO cooldowns(subscription, cluster, last) VALUES (?, ?, ?)
ON CONFLICT(subscription, cluster) DO UPDATE SET last = excluded.last`, it.Subscription, it.Cluster, it.StreamTime.UnixNano()); err != nil {
				return 0, fmt.Errorf("alert: outbox: cooldown %s/%s: %w", it.Subscription, it.Cluster, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries(id, subscription, event, cluster, format, body, state, next_at, created, updated)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, it.ID, it.Subscription, it.Event, it.Cluster, it.Format, it.Body, StatePending,
			now.UnixNano(), now.UnixNano(), now.UnixNano()); err != nil {
			return 0, fmt.Errorf("alert: outbox: queue %s: %w", it.ID, err)
		}
		n++
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("alert: outbox: commit: %w", err)
	}
	if n > 0 {
		o.nudge()
	}
	return n, nil
}

// Delivery is a queued delivery.
type Delivery struct {
	ID           string    `json:"id"`
	Subscription string    `json:"subscription"`
	Event        string    `json:"event"`
	Cluster      string    `json:"cluster,omitempty"`
	Format       string    `json:"format"`
	Body         []byte    `json:"-"`
	State        string    `json:"state"`
	Attempts     int       `json:"attempts"`
	NextAt       time.Time `json:"next_at"`
	Created      time.Time `json:"created"`
	LastStatus   int       `json:"last_status,omitempty"`
	LastError    string    `json:"last_error,omitempty"`
}

const deliveryCols = "id, subscription, event, cluster, format, body, state, attempts, next_at, created, last_status, last_error"

func scanDeliveries(rows *sql.Rows) ([]Delivery, error) {
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		var next, created int64
		if err := rows.Scan(&d.ID, &d.Subscription, &d.Event, &d.Cluster, &d.Format, &d.Body, &d.State, &d.Attempts, &next, &created, &d.LastStatus, &d.LastError); err != nil {
			return nil, err
		}
		d.NextAt, d.Created = time.Unix(0, next).UTC(), time.Unix(0, created).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// Due returns up to n pending deliveries due at now, oldest first, and the
// time the next pending one falls due (zero when none is pending).
func (o *Outbox) Due(ctx context.Context, now time.Time, n int) ([]Delivery, time.Time, error) {
	rows, err := o.db.QueryContext(ctx, "SELECT "+deliveryCols+" FROM deliveries WHERE state = ? AND next_at <= ? ORDER BY next_at, created, id LIMIT ?",
		StatePending, now.UnixNano(), n)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("alert: outbox: due: %w", err)
	}
	ds, err := scanDeliveries(rows)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("alert: outbox: due: %w", err)
	}
	var next sql.NullInt64
	if err := o.db.QueryRowContext(ctx, "SELECT min(next_at) FROM deliveries WHERE state = ?", StatePending).Scan(&next); err != nil {
		return nil, time.Time{}, fmt.Errorf("alert: outbox: due: %w", err)
	}
	var at time.Time
	if next.Valid {
		at = time.Unix(0, next.Int64)
	}
	return ds, at, nil
}

// List returns deliveries, newest first; state "" means every state.
func (o *Outbox) List(ctx context.Context, state string, limit int) ([]Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	q := "SELECT " + deliveryCols + " FROM deliveries WHERE (? = '' OR state = ?) ORDER BY created DESC, id LIMIT ?"
	rows, err := o.db.QueryContext(ctx, q, state, state, limit)
	if err != nil {
		return nil, fmt.Errorf("alert: outbox: list: %w", err)
	}
	ds, err := scanDeliveries(rows)
	if err != nil {
		return nil, fmt.Errorf("alert: outbox: list: %w", err)
	}
	return ds, nil
}

// Counts returns the number of deliveries in each state.
func (o *Outbox) Counts(ctx context.Context) (map[string]int, error) {
	rows, err := o.db.QueryContext(ctx, "SELECT state, count(*) FROM deliveries GROUP BY state")
	if err != nil {
		return nil, fmt.Errorf("alert: outbox: counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{StatePending: 0, StateDelivered: 0, StateFailed: 0}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("alert: outbox: counts: %w", err)
		}
		out[s] = n
	}
	return out, rows.Err()
}

// record stores the outcome of one attempt.
func (o *Outbox) record(ctx context.Context, id, state string, attempts int, next time.Time, status int, errText string, now time.Time) error {
	_, err := o.db.ExecContext(ctx, `UPDATE deliveries SET state = ?, attempts = ?, next_at = ?, last_status = ?, last_error = ?, updated = ? WHERE id = ?`,
		state, attempts, next.UnixNano(), status, truncate(errText, 1000), now.UnixNano(), id)
	if err != nil {
		return fmt.Errorf("alert: outbox: record %s: %w", id, err)
	}
	return nil
}

func (o *Outbox) subscriptions(ctx context.Context) ([]Subscription, error) {
	rows, err := o.db.QueryContext(ctx, "SELECT body FROM subscriptions ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("alert: outbox: subscriptions: %w", err)
	}
	defer rows.Close()
	var out []Subscription
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("alert: outbox: subscriptions: %w", err)
		}
		var s Subscription
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			return nil, fmt.Errorf("alert: outbox: subscription: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (o *Outbox) putSubscription(ctx context.Context, s Subscription) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	_, err = o.db.ExecContext(ctx, `INSERT INTO subscriptions(name, body) VALUES (?, ?)
ON CONFLICT(name) DO UPDATE SET body = excluded.body`, s.Name, string(b))
	if err != nil {
		return fmt.Errorf("alert: outbox: put subscription %s: %w", s.Name, err)
	}
	return nil
}

func (o *Outbox) deleteSubscription(ctx context.Context, name string) error {
	res, err := o.db.ExecContext(ctx, "DELETE FROM subscriptions WHERE name = ?", name)
	if err != nil {
		return fmt.Errorf("alert: outbox: delete subscription %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("subscription %q: %w", name, ErrNotFound)
	}
	return nil
}
