package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Retry bounds for output a stage cannot make durable yet (the store is
// unreachable, its disk is full, a checkpoint cannot be saved). The stage
// does not exit on such a failure: exiting would lose nothing (offsets
// are not committed) but would heal nothing either, and in `vigie run` it
// would stop every other stage with it. It retries the same work, with a
// backoff doubling from retryFirst to retryMax, until it succeeds or the
// run ends; every failure is logged and counted (Stats.WriteFailures,
// Stats.Retrying), so an operator sees a stalled stage and its cause.
var (
	retryFirst = 500 * time.Millisecond
	retryMax   = 30 * time.Second
)

// retryDurable runs fn until it returns nil or ctx ends, waiting between
// attempts. fn must be safe to repeat: stages only retry writes keyed by
// deterministic IDs, so a write that half-succeeded is overwritten, not
// doubled. It returns ctx's error (wrapped with the last failure) when
// the run ends first, and nil once fn succeeded.
func retryDurable(ctx context.Context, log *slog.Logger, stats *Stats, stage, what string, fn func(ctx context.Context) error) error {
	err := fn(ctx)
	if err == nil || ctx.Err() != nil {
		return err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if stats == nil {
		stats = &Stats{}
	}
	stats.Retrying.Add(1)
	defer stats.Retrying.Add(-1)
	began := time.Now()
	wait := retryFirst
	for attempt := 1; ; attempt++ {
		stats.WriteFailures.Add(1)
		log.Error(stage+" could not make its output durable; retrying (offsets are not committed, nothing is lost)",
			"what", what, "attempt", attempt, "failing_for", time.Since(began).Round(time.Millisecond), "retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %s: stopped while retrying: %w", stage, what, err)
		case <-t.C:
		}
		wait = min(2*wait, retryMax)
		if err = fn(ctx); err == nil {
			log.Info(stage+" recovered", "what", what, "attempts", attempt+1, "failed_for", time.Since(began).Round(time.Millisecond))
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
	}
}
