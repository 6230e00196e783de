package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/bus"
	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store"
)

func TestRetentionDeletesExpiredPosts(t *testing.T) {
	e := newEnv(t)
	now := time.Date(2017, 6, 5, 12, 0, 0, 0, time.UTC)
	var ps []post.Post
	for i := range 10 { // one post a day, 0 to 9 days old
		ps = append(ps, mkPost(fmt.Sprint(i), fmt.Sprint("u", i), now.Add(-time.Duration(i)*24*time.Hour), "x"))
	}
	if err := e.st.PutPosts(t.Context(), ps); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		maxAge time.Duration
		want   int64 // deleted by this run
		left   int64
	}{
		{0, 0, 10},                 // off
		{7*24*time.Hour + 1, 2, 8}, // posts 8 and 9 days old
		{7*24*time.Hour + 1, 0, 8}, // idempotent
		{36 * time.Hour, 6, 2},     // 2 to 7 days old
	}
	for _, tc := range tests {
		r := &Retention{Store: e.st, MaxAge: tc.maxAge, Stats: e.stats, Now: func() time.Time { return now }}
		if got := r.Once(t.Context(), e.log); got != tc.want {
			t.Errorf("max age %v: deleted %d, want %d", tc.maxAge, got, tc.want)
		}
		st, err := e.st.Stats(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if st.Posts != tc.left || st.Accounts != tc.left {
			t.Errorf("max age %v: %d posts by %d accounts left, want %d", tc.maxAge, st.Posts, st.Accounts, tc.left)
		}
	}
	if e.stats.RetentionDeleted.Load() != 8 || e.stats.RetentionRuns.Load() != 3 {
		t.Errorf("stats: deleted %d in %d runs, want 8 in 3", e.stats.RetentionDeleted.Load(), e.stats.RetentionRuns.Load())
	}
}

// TestRetentionRunStopsWithContext checks that the periodic job runs at
// once, then on its ticker, and returns when its context ends.
func TestRetentionRunStopsWithContext(t *testing.T) {
	e := newEnv(t)
	r := &Retention{Store: e.st, MaxAge: time.Hour, Every: 10 * time.Millisecond, Stats: e.stats, Log: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return time.Date(2017, 6, 5, 12, 0, 0, 0, time.UTC) }}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for e.stats.RetentionRuns.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d retention runs in 10s with a 10ms period", e.stats.RetentionRuns.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil on cancellation", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// TestIndexSkipsExpiredPosts checks that a replay of the posts topic does
// not write back posts retention deleted, and still commits them.
func TestIndexSkipsExpiredPosts(t *testing.T) {
	e := newEnv(t)
	now := time.Date(2017, 6, 5, 12, 0, 0, 0, time.UTC)
	old, fresh := mkPost("old", "a", now.Add(-48*time.Hour), "x"), mkPost("new", "b", now.Add(-time.Hour), "y")
	for _, p := range []post.Post{old, fresh} {
		v, _ := post.Marshal(&p)
		if err := e.prod.Produce(t.Context(), bus.Message{Topic: e.topics.Posts, Value: v}); err != nil {
			t.Fatal(err)
		}
	}
	r := &Retention{MaxAge: 24 * time.Hour, Now: func() time.Time { return now }}
	ix := &Index{Posts: e.consumer(t, "ix", e.topics.Posts), Producer: e.prod, Topics: e.topics, Store: e.st,
		BatchWait: 50 * time.Millisecond, Log: e.log, Stats: e.stats, Expired: r.Cutoff}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if err := ix.RunPosts(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.GetPost(t.Context(), old.Key()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired post written: GetPost error = %v", err)
	}
	if _, err := e.st.GetPost(t.Context(), fresh.Key()); err != nil {
		t.Errorf("fresh post: %v", err)
	}
	if e.stats.RetentionSkipped.Load() != 1 {
		t.Errorf("skipped %d posts, want 1", e.stats.RetentionSkipped.Load())
	}
	if lag, err := bus.Lag(context.Background(), e.cfg, "ix", e.topics.Posts); err != nil || lag != 0 {
		t.Errorf("posts lag = %d, %v; want 0: a skipped post is committed", lag, err)
	}
}
