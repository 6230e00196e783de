package pipeline

import (
	"context"
	"log/slog"
	"time"

	"github.com/vigie-osint/vigie/store"
)

// Retention deletes posts past privacy.post_retention from the store, by
// post time against the wall clock: personal data is kept for a period of
// real time, whatever stream time a replay is at (so replaying an old
// research dataset with retention on deletes it as it lands; leave
// retention at 0 for that). It runs beside the index stage, which owns the
// store's writes, once at start and then every Every.
type Retention struct {
	Store  store.Retention
	MaxAge time.Duration // > 0
	Every  time.Duration // default 1h
	Log    *slog.Logger
	Stats  *Stats
	// Now is the wall clock (tests); nil means time.Now.
	Now func() time.Time
}

// Cutoff is the time before which posts are expired, or the zero time
// when retention is off.
func (r *Retention) Cutoff() time.Time {
	if r == nil || r.MaxAge <= 0 {
		return time.Time{}
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	return now().Add(-r.MaxAge)
}

// Run deletes expired posts until ctx is done. A failed run is logged and
// retried at the next tick: retention must not stop indexing.
func (r *Retention) Run(ctx context.Context) error {
	every := r.Every
	if every <= 0 {
		every = time.Hour
	}
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log.Info("post retention on", "max_age", r.MaxAge, "every", every)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		r.Once(ctx, log)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Once runs one deletion and returns the number of posts deleted.
func (r *Retention) Once(ctx context.Context, log *slog.Logger) int64 {
	cut := r.Cutoff()
	if cut.IsZero() {
		return 0
	}
	start := time.Now()
	n, err := r.Store.DeletePostsBefore(ctx, cut)
	if r.Stats != nil {
		r.Stats.RetentionDeleted.Add(n)
		if err == nil {
			r.Stats.RetentionRuns.Add(1)
		}
	}
	switch {
	case err != nil && ctx.Err() != nil:
		// Stopping: the next start finishes the job.
	case err != nil:
		log.Error("post retention failed; retrying at the next run", "before", cut.UTC().Format(time.RFC3339), "deleted", n, "err", err)
	default:
		log.Info("post retention", "before", cut.UTC().Format(time.RFC3339), "deleted", n, "took", time.Since(start).Round(time.Millisecond))
	}
	return n
}
