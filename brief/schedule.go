package brief

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/vigie-osint/vigie/privacy"
	"github.com/vigie-osint/vigie/store"
)

// Store is what the schedule needs: reading the output, keeping the
// briefings, and a checkpoint of what it rendered.
type Store interface {
	store.Reader
	store.Briefings
	store.Checkpoints
}

// Announcer sends a briefing's link and summary to subscribers (package
// alert's Notifier.NotifyBriefing, adapted by the app).
type Announcer func(ctx context.Context, date, title, summary string, final bool) error

// Scheduler writes a briefing for each day of stream time: once the
// newest stored post is Grace past a day's end (the day is final), and —
// when the input has gone idle (a replay finished, a quiet night) — for
// every day whose data changed since it was last rendered, the day in
// progress included (marked provisional). Stream time, not the wall
// clock, drives it, so a replay of a past election yields the same
// briefings as the live run did.
type Scheduler struct {
	Store    Store
	Dir      string // files; empty writes none (the store still keeps them)
	BaseURL  string
	Grace    time.Duration
	Every    time.Duration
	Backfill int // days before the newest one to consider; default 7
	// Idle reports whether the input is exhausted (e.g. ingest reached the
	// end of its source); nil means never, so only final days are written.
	Idle func() bool
	// CaughtUp reports whether the stages that produce clusters have
	// caught up with the stored posts (in `vigie run`: the graph stage's
	// lag is within a batch or two). A final briefing waits for it, so a
	// replay whose posts are indexed long before they are graphed does not
	// announce days without their clusters. Nil means always.
	CaughtUp func() bool
	// QuietTicks is how many consecutive ticks the store must stay
	// unchanged before the input counts as idle (default 3): a pipeline
	// that pauses between batches must not trigger re-rendering each
	// time.
	QuietTicks int
	Announce   Announcer
	Log        *slog.Logger
	// Pseudonymizer pseudonymises the briefings written (Options).
	Pseudonymizer *privacy.Pseudonymizer
	// AnnouncePseudonymizer pseudonymises the summary given to Announce
	// (webhooks) when the briefing itself is not pseudonymised.
	AnnouncePseudonymizer *privacy.Pseudonymizer
	// Written counts briefings written (tests and progress).
	Written func(date string, final bool)
}

// checkpointName is the scheduler's checkpoint in the store.
const checkpointName = "brief/schedule"

// state is what the scheduler remembers across restarts: per day, the
// stream time at which it was last rendered and whether that rendering
// was final.
type state struct {
	Days map[string]dayState `json:"days"`
}

type dayState struct {
	At      time.Time `json:"at"`      // newest post time when rendered
	Version string    `json:"version"` // the store's version (see version) when rendered
	Final   bool      `json:"final"`
}

// Run checks every Every until ctx is done. A failed check is logged and
// retried at the next tick: a briefing is not worth stopping detection for.
func (s *Scheduler) Run(ctx context.Context) error {
	if s.Every <= 0 {
		s.Every = 30 * time.Second
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	st, err := s.load(ctx)
	if err != nil {
		return err
	}
	t := time.NewTicker(s.Every)
	defer t.Stop()
	if s.QuietTicks <= 0 {
		s.QuietTicks = 3
	}
	var lastVersion string
	quiet := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		newest, version, err := s.version(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.Log.Warn("briefing schedule: reading the store failed", "err", err)
			continue
		}
		if newest.IsZero() {
			continue
		}
		// Idle: the input is exhausted and the store did not change over
		// QuietTicks ticks, so the graph and index stages have caught up.
		if version == lastVersion {
			quiet++
		} else {
			quiet = 0
		}
		lastVersion = version
		idle := quiet >= s.QuietTicks && s.Idle != nil && s.Idle()
		if err := s.Check(ctx, st, newest, version, idle); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.Log.Warn("briefing schedule: a briefing failed", "err", err)
		}
	}
}

func (s *Scheduler) load(ctx context.Context) (*state, error) {
	st := &state{Days: map[string]dayState{}}
	b, err := s.Store.LoadCheckpoint(ctx, checkpointName)
	if errors.Is(err, store.ErrNotFound) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("brief: load schedule: %w", err)
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("brief: checkpoint %s: %w", checkpointName, err)
	}
	if st.Days == nil {
		st.Days = map[string]dayState{}
	}
	return st, nil
}

// version gives the time of the newest stored post (the store's stream
// time) and a version of the store's content: stream time and the
// store's counts. A cluster update that changes no count goes unseen, a
// limit the final rendering at the end of each day makes up for.
func (s *Scheduler) version(ctx context.Context) (time.Time, string, error) {
	ps, _, err := s.Store.SearchPosts(ctx, store.PostQuery{Limit: 1})
	if err != nil || len(ps) == 0 {
		return time.Time{}, "", err
	}
	stats, err := s.Store.Stats(ctx)
	if err != nil {
		return time.Time{}, "", err
	}
	newest := ps[0].Time.UTC()
	return newest, fmt.Sprintf("%s %+v", newest.Format(time.RFC3339Nano), stats), nil
}

// Check renders what is due at stream time newest. Exported for tests and
// for `vigie brief --all`.
func (s *Scheduler) Check(ctx context.Context, st *state, newest time.Time, version string, idle bool) error {
	backfill := s.Backfill
	if backfill <= 0 {
		backfill = 7
	}
	last := newest.Truncate(24 * time.Hour)
	for d := last.AddDate(0, 0, -backfill); !d.After(last); d = d.AddDate(0, 0, 1) {
		date := d.Format(time.DateOnly)
		prev, seen := st.Days[date]
		final := !newest.Before(d.Add(24*time.Hour + s.Grace))
		caughtUp := s.CaughtUp == nil || s.CaughtUp()
		due := (final && !prev.Final && caughtUp) || (idle && (!seen || prev.Version != version))
		if !due {
			continue
		}
		_, n, err := s.Store.SearchPosts(ctx, store.PostQuery{From: d, To: d.Add(24 * time.Hour), Limit: 1})
		if err != nil {
			return err
		}
		if n == 0 {
			continue
		}
		if err := s.write(ctx, date, final, !prev.Final && (final || idle)); err != nil {
			return err
		}
		st.Days[date] = dayState{At: newest, Version: version, Final: final}
		b, _ := json.Marshal(st)
		if err := s.Store.SaveCheckpoint(ctx, checkpointName, b); err != nil {
			return fmt.Errorf("brief: save schedule: %w", err)
		}
	}
	return nil
}

func (s *Scheduler) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func (s *Scheduler) write(ctx context.Context, date string, final, announce bool) error {
	start := time.Now()
	rep, err := Build(ctx, s.Store, Options{Date: date, BaseURL: s.BaseURL, Final: final, Pseudonymizer: s.Pseudonymizer})
	if err != nil {
		return err
	}
	b, err := rep.Briefing()
	if err != nil {
		return err
	}
	if err := s.Store.PutBriefing(ctx, b); err != nil {
		return err
	}
	if s.Dir != "" {
		if _, err := rep.WriteFiles(s.Dir); err != nil {
			return err
		}
	}
	s.log().Info("briefing written", "date", date, "final", final, "clusters", len(rep.Active), "posts", rep.Posts,
		"took", time.Since(start).Round(time.Millisecond))
	if announce && s.Announce != nil {
		summary := rep.Summary
		if s.AnnouncePseudonymizer != nil && !rep.Pseudonymised {
			summary = rep.SummaryFor(s.AnnouncePseudonymizer)
		}
		if err := s.Announce(ctx, date, rep.Title, summary, final); err != nil {
			return err
		}
	}
	if s.Written != nil {
		s.Written(date, final)
	}
	return nil
}
