package pipeline

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/bus"
	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store/sqlite"
)

// failingStore is the real embedded store behind a switch that makes
// every post write fail while it is on, as a store that is unreachable
// or out of space does.
type failingStore struct {
	*sqlite.Store
	down  atomic.Bool
	tries atomic.Int64
}

var errStoreDown = errors.New("store unreachable")

func (s *failingStore) PutPosts(ctx context.Context, ps []post.Post) error {
	s.tries.Add(1)
	if s.down.Load() {
		return errStoreDown
	}
	return s.Store.PutPosts(ctx, ps)
}

// TestIndexRetriesWhileStoreDown: while the store refuses every write the
// index stage keeps its batch uncommitted, counts and retries the
// failures without exiting, and once the store is back it writes the
// batch and commits.
func TestIndexRetriesWhileStoreDown(t *testing.T) {
	defer func(f, m time.Duration) { retryFirst, retryMax = f, m }(retryFirst, retryMax)
	retryFirst, retryMax = 10*time.Millisecond, 40*time.Millisecond

	e := newEnv(t)
	at := time.Date(2017, 5, 5, 18, 0, 0, 0, time.UTC)
	for _, id := range []string{"1", "2", "3"} {
		p := mkPost(id, "a"+id, at, "")
		v, _ := post.Marshal(&p)
		if err := e.prod.Produce(context.Background(), bus.Message{Topic: e.topics.Posts, Value: v}); err != nil {
			t.Fatal(err)
		}
	}
	st := &failingStore{Store: e.st}
	st.down.Store(true)
	ix := &Index{Posts: e.consumer(t, "ix", e.topics.Posts), Producer: e.prod, Topics: e.topics, Store: st,
		BatchWait: 20 * time.Millisecond, Log: e.log, Stats: e.stats}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ix.RunPosts(ctx) }()
	lag := func() int64 {
		n, err := bus.Lag(context.Background(), e.cfg, "ix", e.topics.Posts)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(20 * time.Second)
	for st.tries.Load() < 5 {
		if time.Now().After(deadline) {
			t.Fatal("the index stage did not retry the failed batch")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("the index stage ended while the store was down: %v", err)
	default:
	}
	if n := lag(); n != 3 {
		t.Errorf("lag while the store is down = %d; want 3 (nothing committed)", n)
	}
	if e.stats.Retrying.Load() != 1 || e.stats.WriteFailures.Load() < 4 {
		t.Errorf("retrying = %d, write failures = %d; want 1 and at least 4", e.stats.Retrying.Load(), e.stats.WriteFailures.Load())
	}

	st.down.Store(false)
	for lag() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the index stage did not recover once the store was back")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	stats, err := e.st.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if stats.Posts != 3 || e.stats.Retrying.Load() != 0 {
		t.Errorf("stored posts = %d, retrying = %d; want 3 and 0", stats.Posts, e.stats.Retrying.Load())
	}
}
