package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/post"
)

// slowSource is a quiet live stream: it yields a few posts, then blocks
// in Next until its context ends, as a stream with no traffic does.
type slowSource struct {
	mu    sync.Mutex
	posts []post.Post
	pos   ingest.Position
}

func (s *slowSource) Next(ctx context.Context) (post.Post, error) {
	s.mu.Lock()
	if len(s.posts) > 0 {
		p := s.posts[0]
		s.posts = s.posts[1:]
		s.pos.Line++
		s.pos.Cursor = p.ID
		s.mu.Unlock()
		return p, nil
	}
	s.mu.Unlock()
	<-ctx.Done()
	return post.Post{}, ctx.Err()
}

func (s *slowSource) Position() ingest.Position { return s.pos }
func (s *slowSource) Close() error              { return nil }

// TestIngestFlushTimeout: a partial batch from a source that then goes
// quiet is delivered after FlushTimeout, while Next is still blocked, and
// its position is saved with it.
func TestIngestFlushTimeout(t *testing.T) {
	e := newEnv(t)
	src := &slowSource{}
	for i := range 3 {
		src.posts = append(src.posts, post.Post{Schema: post.SchemaVersion, Platform: post.PlatformMastodon,
			ID: fmt.Sprintf("m.social:%d", i+1), Author: "a", Time: time.Date(2024, 6, 1, 10, 0, i, 0, time.UTC), Text: "hi"})
	}
	in := &Ingest{Source: "https://m.social/api/v1/streaming/public", Topics: e.topics, Producer: e.prod, Checkpoints: e.st,
		BatchSize: 500, FlushTimeout: 100 * time.Millisecond, Log: e.log, Stats: e.stats,
		Normaliser: ingest.NewNormaliser(100),
		Open:       func(context.Context, ingest.Position) (ingest.Source, error) { return src, nil }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	got := e.drain(t, e.topics.Posts, 3) // fails after 20 s if the batch waits for more
	if string(got[2].Key) != "mastodon:a" {
		t.Errorf("third record key %q", got[2].Key)
	}
	// The records are visible before the stage has counted its ack and
	// saved the checkpoint; wait for that.
	waitFor(t, func() bool { return e.stats.Ingested.Load() == 3 })
	if n := e.stats.TimeoutFlushes.Load(); n < 1 {
		t.Errorf("timeout flushes = %d, want at least 1", n)
	}
	if b, r := e.stats.ProduceBatches.Load(), e.stats.ProducedRecords.Load(); b < 1 || r != 3 || e.stats.ProducedBytes.Load() == 0 {
		t.Errorf("batches %d, records %d, bytes %d", b, r, e.stats.ProducedBytes.Load())
	}
	if e.stats.DeliveryLagNS.Load() < int64(100*time.Millisecond) {
		t.Errorf("delivery lag %v is below the flush timeout that delayed the batch", time.Duration(e.stats.DeliveryLagNS.Load()))
	}
	data, err := e.st.LoadCheckpoint(context.Background(), in.CheckpointName())
	if err != nil || string(data) != `{"offset":0,"line":3,"cursor":"m.social:3"}` {
		t.Errorf("checkpoint %s, %v", data, err)
	}
	select {
	case err := <-done:
		t.Fatalf("ingest ended while its source was still open: %v", err)
	default:
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestIngestFlushOnShutdown: records read but not yet sent when the run is
// cancelled are sent and checkpointed, not dropped.
func TestIngestFlushOnShutdown(t *testing.T) {
	e := newEnv(t)
	src := &slowSource{posts: []post.Post{{Schema: post.SchemaVersion, Platform: post.PlatformBluesky,
		ID: "at://did:plc:a/app.bsky.feed.post/1", Author: "did:plc:a", Time: time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC)}}}
	in := &Ingest{Source: "wss://jetstream.example/subscribe", Topics: e.topics, Producer: e.prod, Checkpoints: e.st,
		BatchSize: 500, FlushTimeout: time.Hour, Log: e.log, Stats: e.stats,
		Open: func(context.Context, ingest.Position) (ingest.Source, error) { return src, nil }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	waitFor(t, func() bool { return e.stats.Read.Load() == 1 })
	time.Sleep(200 * time.Millisecond) // the record reaches the stage's batch
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := e.stats.Ingested.Load(); got != 1 {
		t.Fatalf("ingested %d on shutdown, want 1", got)
	}
	e.drain(t, e.topics.Posts, 1)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 20 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestIngestCheckpointsTrailingDuplicates: a file ending in duplicates
// is checkpointed at its end, so a restart (whose dedupe memory is empty)
// does not send them again.
func TestIngestCheckpointsTrailingDuplicates(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(t.TempDir(), "dups.jsonl")
	line := `{"schema":1,"platform":"twitter","id":"1","author":"a","time":"2024-06-01T10:00:00Z","text":"x"}` + "\n"
	if err := os.WriteFile(path, []byte(line+line+line), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func() {
		in := &Ingest{Source: path, Topics: e.topics, Producer: e.prod, Checkpoints: e.st, BatchSize: 1,
			Normaliser: ingest.NewNormaliser(10), Log: e.log, Stats: e.stats}
		if err := in.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	run()
	if got, dup := e.stats.Ingested.Load(), e.stats.Duplicates.Load(); got != 1 || dup != 2 {
		t.Fatalf("ingested %d, duplicates %d; want 1 and 2", got, dup)
	}
	run()
	if got := e.stats.Ingested.Load(); got != 1 {
		t.Errorf("a restart at the end re-sent %d posts", got-1)
	}
}
