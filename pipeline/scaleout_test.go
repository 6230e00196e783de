package pipeline

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/bus"
	"github.com/vigie-osint/vigie/graph"
	"github.com/vigie-osint/vigie/post"
)

// TestScaleOutEqualsSingleWorker runs the bundled election scenario
// through the scaled-out graph stage on the embedded broker — two Route
// workers, Pair workers over an actions topic of 4 partitions (a second
// joins mid-stream and the first leaves, so partitions change hands), one
// aggregating Graph — and through a single Graph worker, and requires the
// same strong edges and the same clusters.
func TestScaleOutEqualsSingleWorker(t *testing.T) {
	if raceDetector {
		// Under -race the graph stage is about ten times slower on 2 cores.
		t.Skip("full-scenario replay: make test runs it without -race in its second pass")
	}
	e := newEnv(t)
	ctx := context.Background()
	topics := e.topics
	topics.Actions, topics.Coactions = "t.actions", "t.coactions"
	if err := bus.EnsureTopics(ctx, e.cfg,
		bus.TopicSpec{Name: topics.Actions, Partitions: 4, ReplicationFactor: 1},
		bus.TopicSpec{Name: topics.Coactions, Partitions: 1, ReplicationFactor: 1},
		bus.TopicSpec{Name: "t.clusters-single", Partitions: 1, ReplicationFactor: 1},
		bus.TopicSpec{Name: "t.clusters-scaled", Partitions: 1, ReplicationFactor: 1},
	); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	type stage struct {
		cancel context.CancelFunc
		done   chan error
	}
	start := func(run func(context.Context) error) *stage {
		sctx, cancel := context.WithCancel(ctx)
		s := &stage{cancel: cancel, done: make(chan error, 1)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := run(sctx)
			if err != nil && sctx.Err() == nil {
				t.Errorf("a stage stopped early: %v", err)
			}
			s.done <- err
		}()
		return s
	}
	stop := func(s *stage) {
		s.cancel()
		if err := <-s.done; err != nil {
			t.Errorf("stage: %v", err)
		}
	}
	gcfg := graph.Config{}
	newEngine := func() *graph.Engine {
		eng, err := graph.New(gcfg)
		if err != nil {
			t.Fatal(err)
		}
		return eng
	}

	n, actions := produceScenario(t, e, topics, newEngine())

	singleTopics := topics
	singleTopics.Clusters = "t.clusters-single"
	single := newEngine()
	singleStats := &Stats{}
	sg := start((&Graph{Consumer: e.consumer(t, "single", topics.Posts), Producer: e.prod, Topics: singleTopics,
		Checkpoints: e.st, Engine: single, Name: "single", Log: e.log, Stats: singleStats}).Run)

	scaledTopics := topics
	scaledTopics.Clusters = "t.clusters-scaled"
	agg := newEngine()
	aggStats, pStats := &Stats{}, &Stats{}
	ag := start((&Graph{Consumer: e.consumer(t, "agg", topics.Posts), Coactions: e.consumer(t, "agg", topics.Coactions), Sources: 4,
		Producer: e.prod, Topics: scaledTopics, Checkpoints: e.st, Engine: agg, Name: "agg", Log: e.log, Stats: aggStats}).Run)
	var pairConsumers []*bus.Consumer
	pair := func() *stage {
		c := e.consumer(t, "pair", topics.Actions)
		pairConsumers = append(pairConsumers, c)
		return start((&Pair{Consumer: c, Producer: e.prod, Topics: topics,
			Checkpoints: e.st, Graph: gcfg, Log: e.log, Stats: pStats}).Run)
	}
	p1 := pair()
	waitUntil(t, time.Minute, "the first pair worker to start", func() bool { return pStats.Paired.Load() > 1000 })
	p2 := pair()
	waitUntil(t, time.Minute, "the second pair worker to join", func() bool { return pStats.Paired.Load() > 8000 })
	stop(p1) // leaving the group moves its partitions to the second worker
	pairConsumers[0].Close()
	settled := func() bool {
		return pStats.Paired.Load() >= int64(actions) && singleStats.Graphed.Load() == int64(n) &&
			aggStats.Graphed.Load() >= int64(n) && aggStats.Aggregated.Load()+aggStats.DuplicateCoactions.Load() >= pStats.Coactions.Load()
	}
	state := func() string {
		lag, err := bus.Lag(ctx, e.cfg, "pair", topics.Actions)
		return fmt.Sprintf("pair lag %d (%v); single graphed %d of %d; %d action records; aggregator read %d posts, folded %d + %d duplicates of %d co-actions",
			lag, err, singleStats.Graphed.Load(), n, actions, aggStats.Graphed.Load(),
			aggStats.Aggregated.Load(), aggStats.DuplicateCoactions.Load(), pStats.Coactions.Load())
	}
	waitUntil(t, 3*time.Minute, "both graphs to consume the scenario", func() bool {
		ok := settled()
		if !ok && time.Now().Second()%20 == 0 {
			t.Log(state())
			time.Sleep(time.Second)
		}
		return ok
	})
	// Stable for a few seconds: the pair worker's heartbeats have marked
	// every partition idle and the aggregator has released its queue.
	for last, since := pStats.Coactions.Load(), time.Now(); time.Since(since) < 4*time.Second; time.Sleep(200 * time.Millisecond) {
		if c := pStats.Coactions.Load(); c != last || !settled() {
			last, since = c, time.Now()
		}
	}
	time.Sleep(3 * time.Second) // an idle detection on both sides
	for _, s := range []*stage{p2, sg, ag} {
		stop(s)
	}
	wg.Wait()

	minW := single.Config().MinWeight
	want, got := single.Edges(minW), agg.Edges(minW)
	if len(want) == 0 {
		t.Fatal("the single worker found no strong edge: the comparison would prove nothing")
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("scaled-out graph: %d strong edges, single worker %d; they differ", len(got), len(want))
	}
	t.Logf("%d posts; %d action records; %d paired (re-reads after the rebalance included); %d co-actions sent, %d folded in, %d dropped as duplicates; %d strong edges",
		n, actions, pStats.Paired.Load(), pStats.Coactions.Load(),
		aggStats.Aggregated.Load(), aggStats.DuplicateCoactions.Load(), len(got))
	wantC, gotC := lastClusters(t, e, "t.clusters-single"), lastClusters(t, e, "t.clusters-scaled")
	if len(wantC) == 0 {
		t.Fatal("the single worker emitted no active cluster")
	}
	for id, m := range wantC {
		if !reflect.DeepEqual(gotC[id], m) {
			t.Errorf("cluster %s: scaled %v, single %v", id, gotC[id], m)
		}
	}
	for id, m := range gotC {
		if wantC[id] == nil {
			t.Errorf("cluster %s: scaled %v, single has none", id, m)
		}
	}
}

// produceScenario writes the bundled scenario's posts to the posts topic
// and, as ingest does with graph.scale_out, their actions by route.
func produceScenario(t *testing.T, e *env, topics Topics, router *graph.Engine) (posts, actions int) {
	t.Helper()
	f, err := os.Open("../testdata/scenario/posts.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var batch []bus.Message
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		p, err := post.DecodePost("scenario", sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		v, err := post.Marshal(&p)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, bus.Message{Topic: e.topics.Posts, Key: []byte(p.AuthorKey()), Value: v})
		for _, r := range router.Routes(&p) {
			batch = append(batch, bus.Message{Topic: topics.Actions, Key: []byte(r), Value: v})
			actions++
		}
		n++
		if len(batch) >= 2000 {
			if err := e.prod.Produce(context.Background(), batch...); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := e.prod.Produce(context.Background(), batch...); err != nil {
		t.Fatal(err)
	}
	return n, actions
}

// lastClusters reads a clusters topic to its end and returns each active
// cluster's members as last emitted.
func lastClusters(t *testing.T, e *env, topic string) map[string][]string {
	t.Helper()
	c := e.consumer(t, "read-"+topic, topic)
	out := map[string][]string{}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		m, err := c.Fetch(ctx)
		cancel()
		if err != nil {
			return out
		}
		cl, err := post.DecodeCluster(topic, m.Value)
		if err != nil {
			t.Fatal(err)
		}
		if cl.Status == post.StatusActive {
			out[cl.ID] = cl.Members
		} else {
			delete(out, cl.ID)
		}
	}
}

func waitUntil(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
