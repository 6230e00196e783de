package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vigie-osint/vigie/bus"
	"github.com/vigie-osint/vigie/graph"
	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store"
	"github.com/vigie-osint/vigie/store/sqlite"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"))
}

// env is a real embedded broker and a real embedded store: the stages are
// tested against the parts they run on, not against fakes.
type env struct {
	cfg    bus.Config
	topics Topics
	prod   *bus.Producer
	st     *sqlite.Store
	stats  *Stats
	log    *slog.Logger
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e, err := bus.StartEmbedded(bus.EmbeddedConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	cfg := bus.Config{Brokers: []string{e.Addr()}}
	topics := TopicsWithPrefix("t.")
	var specs []bus.TopicSpec
	for _, n := range topics.All() {
		specs = append(specs, bus.TopicSpec{Name: n, Partitions: 1, ReplicationFactor: 1})
	}
	if err := bus.EnsureTopics(context.Background(), cfg, specs...); err != nil {
		t.Fatal(err)
	}
	p, err := bus.NewProducer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &env{cfg: cfg, topics: topics, prod: p, st: st, stats: &Stats{}, log: slog.New(slog.DiscardHandler)}
}

func (e *env) consumer(t *testing.T, group, topic string) *bus.Consumer {
	t.Helper()
	c, err := bus.NewConsumer(e.cfg, group, topic)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// drain reads n records from topic with a fresh group.
func (e *env) drain(t *testing.T, topic string, n int) []bus.Message {
	t.Helper()
	c := e.consumer(t, "drain-"+topic+"-"+t.Name(), topic)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []bus.Message
	for len(out) < n {
		m, err := c.Fetch(ctx)
		if err != nil {
			t.Fatalf("drain %s: got %d of %d: %v", topic, len(out), n, err)
		}
		out = append(out, m)
	}
	return out
}

func TestIngestDeadLettersAndResumes(t *testing.T) {
	e := newEnv(t)
	dlqFile := filepath.Join(t.TempDir(), "dlq.jsonl")
	in := &Ingest{Source: "../ingest/testdata/mixed.jsonl", Topics: e.topics, Producer: e.prod, Checkpoints: e.st,
		DeadLetterFile: dlqFile, BatchSize: 2, Log: e.log, Stats: e.stats}
	if err := in.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.stats.Ingested.Load(); got != 3 {
		t.Errorf("ingested %d posts, want 3", got)
	}
	dead := e.drain(t, e.topics.DeadLetter, 5)
	if src := bus.HeaderValue(dead[0], bus.HeaderSource); !strings.HasSuffix(src, "mixed.jsonl:3") {
		t.Errorf("first dead letter source = %q, want line 3", src)
	}
	if string(dead[0].Value) != "this is not json" {
		t.Errorf("dead letter lost the raw record: %q", dead[0].Value)
	}
	f, err := os.Open(dlqFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := 0
	for sc := bufio.NewScanner(f); sc.Scan(); lines++ {
		var rec struct {
			Line  int    `json:"line"`
			Error string `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil || rec.Line == 0 || rec.Error == "" {
			t.Errorf("dead-letter file line %q: %v", sc.Text(), err)
		}
	}
	if lines != 5 {
		t.Errorf("dead-letter file has %d lines, want 5", lines)
	}
	// A second run resumes at the saved end: nothing is sent again.
	e.stats.Ingested.Store(0)
	if err := in.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.stats.Ingested.Load(); got != 0 {
		t.Errorf("a restarted ingest re-sent %d posts", got)
	}
	posts := e.drain(t, e.topics.Posts, 3)
	if string(posts[0].Key) != "twitter:100" {
		t.Errorf("posts must be keyed by author: key %q", posts[0].Key)
	}
}

func mkPost(id, author string, at time.Time, repost string) post.Post {
	return post.Post{Schema: 1, Platform: post.PlatformTwitter, ID: id, Author: author, Time: at, RepostOf: repost}
}

// TestGraphStageCheckpointsBeforeCommit runs the graph stage over a small
// ring, stops it, and checks that the checkpoint holds the engine state
// and that offsets were committed; a bad record is dead-lettered.
func TestGraphStageCheckpointsBeforeCommit(t *testing.T) {
	e := newEnv(t)
	base := time.Date(2017, 5, 5, 18, 0, 0, 0, time.UTC)
	var msgs []bus.Message
	n := 0
	for obj := 0; obj < 5; obj++ {
		for a := 0; a < 4; a++ {
			n++
			p := mkPost("p"+string(rune('a'+obj))+string(rune('0'+a)), "acct"+string(rune('0'+a)), base.Add(time.Duration(obj)*time.Hour+time.Duration(a)*time.Second), "orig"+string(rune('a'+obj)))
			v, _ := post.Marshal(&p)
			msgs = append(msgs, bus.Message{Topic: e.topics.Posts, Key: []byte(p.AuthorKey()), Value: v})
		}
	}
	msgs = append(msgs, bus.Message{Topic: e.topics.Posts, Value: []byte(`{"platform":"twitter"`)})
	if err := e.prod.Produce(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	eng, err := graph.New(graph.Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := e.consumer(t, "graph", e.topics.Posts)
	g := &Graph{Consumer: c, Producer: e.prod, Topics: e.topics, Checkpoints: e.st, Engine: eng,
		IdleAfter: 200 * time.Millisecond, CheckpointEvery: time.Hour, Log: e.log, Stats: e.stats}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	clusters := e.drain(t, e.topics.Clusters, 1)
	// Let it read everything and go idle once (the idle checkpoint
	// produces the dead letter), then stop it.
	for deadline := time.Now().Add(20 * time.Second); e.stats.DeadLetters.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cl, err := post.DecodeCluster("x", clusters[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	if len(cl.Members) != 4 || cl.Scores.Risk <= 0 || cl.EdgeCount != 6 {
		t.Errorf("cluster = %d members, risk %v, %d edges; want the 4-account ring, scored, 6 edges", len(cl.Members), cl.Scores.Risk, cl.EdgeCount)
	}
	if _, err := e.st.LoadCheckpoint(context.Background(), "graph"); err != nil {
		t.Fatalf("no checkpoint after a clean stop: %v", err)
	}
	lag, err := bus.Lag(context.Background(), e.cfg, "graph", e.topics.Posts)
	if err != nil || lag != 0 {
		t.Errorf("lag after a clean stop = %d, %v; want everything committed", lag, err)
	}
	dead := e.drain(t, e.topics.DeadLetter, 1)
	if !strings.Contains(bus.HeaderValue(dead[0], bus.HeaderError), "t.posts/0/20") {
		t.Errorf("dead letter error does not name the record: %q", bus.HeaderValue(dead[0], bus.HeaderError))
	}

	// A new worker restores the checkpoint: the same cluster comes out
	// without any input.
	eng2, _ := graph.New(graph.Config{})
	g2 := &Graph{Consumer: e.consumer(t, "graph", e.topics.Posts), Producer: e.prod, Topics: e.topics, Checkpoints: e.st,
		Engine: eng2, IdleAfter: 100 * time.Millisecond, Log: e.log, Stats: &Stats{}}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	if err := g2.Run(ctx2); err != nil {
		t.Fatal(err)
	}
	if got := g2.Stats.EnginePosts.Load(); got != int64(n) {
		t.Errorf("restored engine holds %d posts, want %d", got, n)
	}
}

func TestIndexIsIdempotentAndDeadLetters(t *testing.T) {
	e := newEnv(t)
	at := time.Date(2017, 5, 5, 18, 0, 0, 0, time.UTC)
	p := mkPost("1", "a", at, "")
	v, _ := post.Marshal(&p)
	c := post.Cluster{ID: "c-1", Status: post.StatusActive, Detected: at, Members: []string{"twitter:a", "twitter:b"}}
	cv, _ := post.Marshal(&c)
	a := post.Alert{ID: "a-1", ClusterID: "c-1", Time: at}
	av, _ := post.Marshal(&a)
	// Each record twice, as after a crash before the commit.
	for i := 0; i < 2; i++ {
		if err := e.prod.Produce(context.Background(),
			bus.Message{Topic: e.topics.Posts, Value: v},
			bus.Message{Topic: e.topics.Clusters, Value: cv},
			bus.Message{Topic: e.topics.Alerts, Value: av},
		); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.prod.Produce(context.Background(), bus.Message{Topic: e.topics.Clusters, Value: []byte(`{"id":""}`)}); err != nil {
		t.Fatal(err)
	}
	ix := &Index{Posts: e.consumer(t, "ix", e.topics.Posts), Clusters: e.consumer(t, "ix", e.topics.Clusters),
		Alerts: e.consumer(t, "ix", e.topics.Alerts), Producer: e.prod, Topics: e.topics, Store: e.st,
		BatchWait: 50 * time.Millisecond, Log: e.log, Stats: e.stats}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	errs := make(chan error, 3)
	for _, run := range []func(context.Context) error{ix.RunPosts, ix.RunClusters, ix.RunAlerts} {
		go func() { errs <- run(ctx) }()
	}
	for i := 0; i < 3; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	st, err := e.st.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st != (store.Stats{Posts: 1, Accounts: 1, Clusters: 1, ActiveClusters: 1, Alerts: 1}) {
		t.Errorf("store after duplicate deliveries = %+v; want one of each", st)
	}
	dead := e.drain(t, e.topics.DeadLetter, 1)
	if bus.HeaderValue(dead[0], bus.HeaderStage) != "index" {
		t.Errorf("dead letter stage = %q", bus.HeaderValue(dead[0], bus.HeaderStage))
	}
	for _, topic := range []string{e.topics.Posts, e.topics.Clusters, e.topics.Alerts} {
		if lag, err := bus.Lag(context.Background(), e.cfg, "ix", topic); err != nil || lag != 0 {
			t.Errorf("%s lag = %d, %v; want 0", topic, lag, err)
		}
	}
}

func TestEvaluate(t *testing.T) {
	at := time.Date(2017, 5, 5, 18, 0, 0, 0, time.UTC)
	base := post.Cluster{ID: "c-1", Status: post.StatusActive, Detected: at, FirstSeen: at, Members: []string{"a", "b", "c"},
		Signals: map[post.Kind]int{post.KindRepost: 4}, Scores: post.Scores{Risk: 60, Reasons: []string{"r"}}}
	tests := []struct {
		name   string
		edit   func(*post.Cluster)
		min    float64
		raised bool
	}{
		{"above", func(*post.Cluster) {}, 50, true},
		{"equal", func(*post.Cluster) {}, 60, true},
		{"below", func(*post.Cluster) {}, 61, false},
		{"merged", func(c *post.Cluster) { c.Status = post.StatusMerged }, 10, false},
	}
	for _, tt := range tests {
		c := base
		tt.edit(&c)
		a, ok := Evaluate(c, tt.min)
		if ok != tt.raised {
			t.Errorf("%s: raised = %v, want %v", tt.name, ok, tt.raised)
			continue
		}
		if ok && (a.ID != post.StableID("a-", "c-1", RuleMinRisk) || !strings.Contains(a.Summary, "3 accounts") || !strings.Contains(a.Summary, "4 repost")) {
			t.Errorf("%s: alert = %+v", tt.name, a)
		}
	}
}

func TestTrimForWire(t *testing.T) {
	c := post.Cluster{}
	for i := 0; i < MaxWireEdges+50; i++ {
		c.Edges = append(c.Edges, post.Edge{A: "a", B: string(rune(0x4e00 + i)), Weight: i % 7, Evidence: []post.Evidence{{Key: "k"}}})
	}
	trimForWire(&c)
	if c.EdgeCount != MaxWireEdges+50 || len(c.Edges) != MaxWireEdges {
		t.Fatalf("EdgeCount %d, edges %d", c.EdgeCount, len(c.Edges))
	}
	if c.Edges[0].Weight != 6 || c.Edges[len(c.Edges)-1].Weight > c.Edges[0].Weight {
		t.Errorf("strongest edges not kept first")
	}
	if c.Edges[MaxWireEvidenceEdges-1].Evidence == nil || c.Edges[MaxWireEvidenceEdges].Evidence != nil {
		t.Errorf("evidence not bounded to the first %d edges", MaxWireEvidenceEdges)
	}
	if errors.Is(nil, context.Canceled) {
		t.Fatal("unreachable")
	}
}

// refusal is the shape of a store error that names the records refused for
// good (store/elastic's BulkError): the rest of the write is durable.
type refusal struct{ kind, key string }

func (r refusal) Error() string { return "refused " + r.kind + " " + r.key }
func (r refusal) Refused(kind, key string) (string, bool) {
	return "mapping conflict", kind == r.kind && key == r.key
}

// refusingStore writes through to the real embedded store, except one post
// it refuses the way Elasticsearch refuses a document its mapping rejects.
type refusingStore struct {
	*sqlite.Store
	refuse string // post key
	other  bool   // name a record the batch does not hold
}

func (s *refusingStore) PutPosts(ctx context.Context, ps []post.Post) error {
	var keep []post.Post
	for _, p := range ps {
		if p.Key() != s.refuse {
			keep = append(keep, p)
		}
	}
	if err := s.Store.PutPosts(ctx, keep); err != nil {
		return err
	}
	if s.other {
		return fmt.Errorf("bulk: %w", refusal{"post", "twitter:none"})
	}
	return fmt.Errorf("bulk: %w", refusal{"post", s.refuse})
}

func TestIndexDeadLettersRefusedRecords(t *testing.T) {
	for _, tc := range []struct {
		name      string
		other     bool
		wantPosts int64
		// wantRetry: the batch failed and is retried (not committed) until
		// the run ends, which then returns nil (see retryDurable).
		wantRetry bool
	}{
		{name: "refused post dead-lettered, rest committed", wantPosts: 2},
		{name: "refusal naming no record of the batch fails it", other: true, wantPosts: 2, wantRetry: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			at := time.Date(2017, 5, 5, 18, 0, 0, 0, time.UTC)
			// One produce call: the three posts arrive in one batch.
			var msgs []bus.Message
			for _, id := range []string{"1", "2", "3"} {
				p := mkPost(id, "a"+id, at, "")
				v, _ := post.Marshal(&p)
				msgs = append(msgs, bus.Message{Topic: e.topics.Posts, Value: v})
			}
			if err := e.prod.Produce(context.Background(), msgs...); err != nil {
				t.Fatal(err)
			}
			st := &refusingStore{Store: e.st, refuse: "twitter:2", other: tc.other}
			ix := &Index{Posts: e.consumer(t, "ix", e.topics.Posts), Producer: e.prod, Topics: e.topics, Store: st,
				BatchWait: 50 * time.Millisecond, Log: e.log, Stats: e.stats}
			// Run until the batch is committed, or (wantRetry) has failed
			// twice: a failed batch is retried until the run ends.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- ix.RunPosts(ctx) }()
			deadline := time.Now().Add(30 * time.Second)
			for time.Now().Before(deadline) {
				if tc.wantRetry && e.stats.WriteFailures.Load() >= 2 {
					break
				}
				if lag, err := bus.Lag(context.Background(), e.cfg, "ix", e.topics.Posts); err == nil && lag == 0 {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("RunPosts err = %v; want nil at the end of the run", err)
			}
			if retried := e.stats.WriteFailures.Load() > 0; retried != tc.wantRetry {
				t.Errorf("write failures = %d; want retries %v", e.stats.WriteFailures.Load(), tc.wantRetry)
			}
			stats, err := e.st.Stats(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if stats.Posts != tc.wantPosts {
				t.Errorf("stored posts = %d; want %d", stats.Posts, tc.wantPosts)
			}
			lag, err := bus.Lag(context.Background(), e.cfg, "ix", e.topics.Posts)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantRetry {
				if lag != 3 {
					t.Errorf("lag after a failed batch = %d; want 3 (nothing committed)", lag)
				}
				return
			}
			if lag != 0 {
				t.Errorf("lag = %d; want 0", lag)
			}
			dead := e.drain(t, e.topics.DeadLetter, 1)
			got, err := post.DecodePost("dlq", dead[0].Value)
			if err != nil || got.ID != "2" {
				t.Errorf("dead letter = %+v, %v; want post 2", got, err)
			}
			if e.stats.DeadLetters.Load() != 1 {
				t.Errorf("dead letters counted = %d; want 1", e.stats.DeadLetters.Load())
			}
		})
	}
}
