package pipeline

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/bus"
	"github.com/vigie-osint/vigie/graph"
	"github.com/vigie-osint/vigie/post"
)

// failingCheckpoints is the real store whose first saves fail, as when the
// store (Elasticsearch, a full disk) is unavailable for a while.
type failingCheckpoints struct {
	Checkpoints
	failures atomic.Int32
}

func (f *failingCheckpoints) SaveCheckpoint(ctx context.Context, name string, data []byte) error {
	if f.failures.Add(-1) >= 0 {
		return errors.New("store unavailable")
	}
	return f.Checkpoints.SaveCheckpoint(ctx, name, data)
}

// TestGraphStageRetriesCheckpoint: a checkpoint that cannot be saved makes
// the graph stage wait and retry, with its offsets uncommitted, instead of
// stopping (which in `vigie run` would stop every stage).
func TestGraphStageRetriesCheckpoint(t *testing.T) {
	e := newEnv(t)
	base := time.Date(2017, 5, 5, 18, 0, 0, 0, time.UTC)
	var msgs []bus.Message
	for a := range 4 {
		p := mkPost("p"+string(rune('0'+a)), "acct"+string(rune('0'+a)), base.Add(time.Duration(a)*time.Second), "orig")
		v, _ := post.Marshal(&p)
		msgs = append(msgs, bus.Message{Topic: e.topics.Posts, Key: []byte(p.AuthorKey()), Value: v})
	}
	if err := e.prod.Produce(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	eng, err := graph.New(graph.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cp := &failingCheckpoints{Checkpoints: e.st}
	cp.failures.Store(2)
	g := &Graph{Consumer: e.consumer(t, "graph", e.topics.Posts), Producer: e.prod, Topics: e.topics, Checkpoints: cp,
		Engine: eng, IdleAfter: 100 * time.Millisecond, Log: e.log, Stats: e.stats}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		lag, err := bus.Lag(context.Background(), e.cfg, "graph", e.topics.Posts)
		if err == nil && lag == 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("graph stage stopped on a failed checkpoint: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("offsets not committed after the store came back (lag %d, %v)", lag, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := e.stats.WriteFailures.Load(); got != 2 {
		t.Errorf("write failures = %d, want the 2 failed saves", got)
	}
	if _, err := e.st.LoadCheckpoint(context.Background(), "graph"); err != nil {
		t.Errorf("no checkpoint once the store came back: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
