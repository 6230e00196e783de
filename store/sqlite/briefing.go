package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/vigie-osint/vigie/store"
)

const upsertBriefingSQL = `
INSERT INTO briefings(date, summary, body) VALUES (?, ?, ?)
ON CONFLICT(date) DO UPDATE SET summary = excluded.summary, body = excluded.body`

// PutBriefing implements store.Briefings.
func (s *Store) PutBriefing(ctx context.Context, b store.Briefing) error {
	if err := b.Validate(); err != nil {
		return fmt.Errorf("sqlite: put briefing: %w", err)
	}
	b.Generated = b.Generated.UTC()
	body, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("sqlite: put briefing %s: %w", b.Date, err)
	}
	sum, err := json.Marshal(b.Summarize())
	if err != nil {
		return fmt.Errorf("sqlite: put briefing %s: %w", b.Date, err)
	}
	return s.write(ctx, "put briefing "+b.Date, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, upsertBriefingSQL, b.Date, string(sum), string(body))
		return err
	})
}

// GetBriefing implements store.Briefings.
func (s *Store) GetBriefing(ctx context.Context, date string) (store.Briefing, error) {
	if _, err := store.ParseBriefingDate(date); err != nil {
		return store.Briefing{}, fmt.Errorf("sqlite: get briefing: %w", err)
	}
	var body string
	err := s.r.QueryRowContext(ctx, "SELECT body FROM briefings WHERE date = ?", date).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Briefing{}, fmt.Errorf("sqlite: get briefing %s: %w", date, store.ErrNotFound)
	}
	if err != nil {
		return store.Briefing{}, fmt.Errorf("sqlite: get briefing %s: %w", date, err)
	}
	var b store.Briefing
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		return store.Briefing{}, fmt.Errorf("sqlite: get briefing %s: decode: %w", date, err)
	}
	return b, nil
}

// ListBriefings implements store.Briefings.
func (s *Store) ListBriefings(ctx context.Context, q store.BriefingQuery) ([]store.BriefingSummary, error) {
	q, err := q.Normalized()
	if err != nil {
		return nil, fmt.Errorf("sqlite: list briefings: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, "SELECT summary FROM briefings ORDER BY date DESC LIMIT ? OFFSET ?", q.Limit, q.Offset)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list briefings: %w", err)
	}
	defer rows.Close()
	out := []store.BriefingSummary{}
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("sqlite: list briefings: %w", err)
		}
		var b store.BriefingSummary
		if err := json.Unmarshal([]byte(raw), &b); err != nil {
			return nil, fmt.Errorf("sqlite: list briefings: decode: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list briefings: %w", err)
	}
	return out, nil
}
