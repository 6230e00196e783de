package app

// Integration tests on a real Apache Kafka broker (scripts/kafka.sh starts
// one; `make test-integration` and .ci/run export VIGIE_TEST_KAFKA). They
// run the same stages as the embedded end-to-end test, against the real
// thing: topic provisioning through the admin API, the whole pipeline on
// the bundled scenario, two graph workers in one consumer group, and a
// graph worker process killed with SIGKILL mid-stream.

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/bus"
	"github.com/vigie-osint/vigie/config"
	"github.com/vigie-osint/vigie/pipeline"
	"github.com/vigie-osint/vigie/store"
)

// kafkaBrokers returns the real broker's addresses, or skips (fails in CI).
func kafkaBrokers(t *testing.T) []string {
	t.Helper()
	addr := os.Getenv("VIGIE_TEST_KAFKA")
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but VIGIE_TEST_KAFKA is not set: the real-Kafka integration tests must run in CI")
		}
		t.Skip("VIGIE_TEST_KAFKA not set: no real Kafka broker (start one with scripts/kafka.sh start)")
	}
	return strings.Split(addr, ",")
}

// uniquePrefix keeps topics and groups of this run apart from earlier runs
// on the same broker.
func uniquePrefix(t *testing.T, what string) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "it-" + what + "-" + hex.EncodeToString(b) + "."
}

// kafkaConfig is testConfig on the real broker, under a fresh prefix.
func kafkaConfig(t *testing.T, dataDir string, brokers []string, prefix string, extra ...string) config.Config {
	t.Helper()
	env := []string{
		"VIGIE_DATA_DIR=" + dataDir,
		"VIGIE_INGEST_SOURCE=" + filepath.Join(bundled, "posts.jsonl"),
		"VIGIE_HTTP_ADDR=127.0.0.1:0",
		"VIGIE_GRAPH_CHECKPOINT_EVERY=500ms",
		"VIGIE_BUS_BROKERS=" + strings.Join(brokers, ","),
		"VIGIE_BUS_TOPIC_PREFIX=" + prefix,
		"VIGIE_BUS_GROUP_PREFIX=" + prefix,
	}
	cfg, err := config.Parse(strings.NewReader(""), append(env, extra...))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// scrape reads a Prometheus text page into "name{labels}" → value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, res.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// TestKafka runs the pipeline on the real broker. The first subtest's
// clusters are the reference the fault-tolerance subtests must reach.
func TestKafka(t *testing.T) {
	brokers := kafkaBrokers(t)
	if raceDetector {
		// Not a missing server: these tests run, without the detector, in
		// `make test-kafka` (called by test-integration and .ci/run). Under
		// it, three full pipeline runs through a real broker take over ten
		// minutes on 2 cores; the same stages run under -race in
		// TestEndToEnd on the embedded broker.
		t.Skip("real-Kafka pipeline tests run without -race: make test-kafka")
	}
	truth := loadTruth(t)
	var want map[string][]string

	t.Run("TopicsProvisioned", func(t *testing.T) {
		prefix := uniquePrefix(t, "topics")
		cfg := kafkaConfig(t, t.TempDir(), brokers, prefix, "VIGIE_BUS_PARTITIONS=3", "VIGIE_BUS_RETENTION=36h")
		r := startStages(t, cfg, &pipeline.Stats{}, StageAlert)
		defer r.stop(t)
		// As the brokers see them, through the admin API.
		busCfg := bus.Config{Brokers: brokers}
		for _, topic := range pipeline.TopicsWithPrefix(prefix).All() {
			info, err := bus.DescribeTopic(t.Context(), busCfg, topic)
			if err != nil {
				t.Fatal(err)
			}
			if info.Partitions != 3 || info.Replicas != 1 || info.Configs["retention.ms"] != strconv.Itoa(36*3600*1000) {
				t.Errorf("topic %s: %d partitions, %d replicas, retention.ms %q; want 3, 1 and %d",
					topic, info.Partitions, info.Replicas, info.Configs["retention.ms"], 36*3600*1000)
			}
		}
	})

	t.Run("EndToEnd", func(t *testing.T) {
		// One partition: a replay at full speed over several partitions
		// interleaves them hours apart in stream time, and the engine
		// drops posts later than graph.lateness (see docs/scale-out.md).
		prefix := uniquePrefix(t, "e2e")
		cfg := kafkaConfig(t, t.TempDir(), brokers, prefix)
		began := time.Now()
		r := start(t, cfg)
		defer r.stop(t)
		waitFor(t, 10*time.Minute, "the graph engine to hold every post", func() bool { return r.stats.EnginePosts.Load() == int64(truth.Posts) })
		graphed := time.Since(began)
		r.waitSettled(t, truth.Posts)
		elapsed := time.Since(began)
		got := r.clusters(t)
		want = got
		eval := truth.Score(memberLists(got))
		t.Logf("kafka e2e: %d posts graphed in %s (%.0f posts/s from source through the real broker into the graph engine); settled in %s (%.0f posts/s end to end, 4 s quiet period included); %d clusters, precision %.3f recall %.3f",
			truth.Posts, graphed.Round(time.Millisecond), float64(truth.Posts)/graphed.Seconds(),
			elapsed.Round(time.Millisecond), float64(truth.Posts)/elapsed.Seconds(), len(got), eval.Precision, eval.Recall)
		if eval.Precision < 0.9 || eval.Recall < 0.9 {
			t.Errorf("account-level precision %.3f recall %.3f; want both >= 0.9", eval.Precision, eval.Recall)
		}

		// The main server's /metrics: traffic counted per topic, lag drained.
		m := scrape(t, r.url+"/metrics")
		topics := pipeline.TopicsWithPrefix(prefix)
		checks := map[string]float64{
			fmt.Sprintf(`vigie_bus_produced_records_total{topic=%q}`, topics.Posts):                             float64(truth.Posts),
			fmt.Sprintf(`vigie_bus_consumed_records_total{group=%q,topic=%q}`, prefix+StageGraph, topics.Posts): float64(truth.Posts),
			fmt.Sprintf(`vigie_consumer_lag_records{group=%q,topic=%q}`, prefix+StageGraph, topics.Posts):       0,
			fmt.Sprintf(`vigie_consumer_lag_records{group=%q,topic=%q}`, prefix+StageIndex, topics.Posts):       0,
			"vigie_graph_engine_posts": float64(truth.Posts),
		}
		for k, v := range checks {
			if m[k] != v {
				t.Errorf("/metrics %s = %v, want %v", k, m[k], v)
			}
		}
		if m["vigie_graph_window_edges"] <= 0 || m["vigie_graph_active_clusters"] <= 0 || m["vigie_index_records_total"] <= 0 {
			t.Errorf("/metrics graph and index figures did not move: edges %v active %v indexed %v",
				m["vigie_graph_window_edges"], m["vigie_graph_active_clusters"], m["vigie_index_records_total"])
		}
	})

	t.Run("GraphWorkerKilled", func(t *testing.T) {
		if want == nil {
			t.Skip("no reference clusters")
		}
		bin := buildVigie(t)
		prefix := uniquePrefix(t, "kill")
		cfg := kafkaConfig(t, t.TempDir(), brokers, prefix)
		// This process runs everything but the graph stage.
		stats := &pipeline.Stats{}
		r := startStages(t, cfg, stats, StageIngest, StageIndex, StageAlert, StageServe)
		defer r.stop(t)

		graphDir := t.TempDir()
		metricsAddr := freeAddr(t)
		args := []string{"graph", "--kafka", strings.Join(brokers, ","), "--data-dir", graphDir, "--quiet", "--log-level", "warn", "--metrics-addr", metricsAddr}
		env := append(os.Environ(), "VIGIE_BUS_TOPIC_PREFIX="+prefix, "VIGIE_BUS_GROUP_PREFIX="+prefix, "VIGIE_GRAPH_CHECKPOINT_EVERY=500ms")
		busCfg := bus.Config{Brokers: brokers}
		group, topic := prefix+StageGraph, prefix+"posts"

		// Wait for the whole source on the posts topic, so that progress is
		// the graph worker's alone.
		waitFor(t, 5*time.Minute, "ingest to finish", func() bool { return stats.IngestDone.Load() })

		p1 := startProcess(t, bin, args, env)
		var killedAt int64
		waitFor(t, 5*time.Minute, "the graph worker to commit a third of the posts", func() bool {
			lag, err := bus.Lag(t.Context(), busCfg, group, topic)
			if err != nil {
				return false
			}
			killedAt = int64(truth.Posts) - lag
			return killedAt >= int64(truth.Posts)/3
		})
		// Its ops endpoint answers while it works.
		m := scrape(t, "http://"+metricsAddr+"/metrics")
		if m["vigie_graph_posts_total"] <= 0 || m[fmt.Sprintf(`vigie_bus_consumed_records_total{group=%q,topic=%q}`, group, topic)] <= 0 {
			t.Errorf("standalone graph worker's /metrics did not count its posts: %v / %v", m["vigie_graph_posts_total"],
				m[fmt.Sprintf(`vigie_bus_consumed_records_total{group=%q,topic=%q}`, group, topic)])
		}
		if _, ok := m[fmt.Sprintf(`vigie_consumer_lag_records{group=%q,topic=%q}`, group, topic)]; !ok {
			t.Error("standalone graph worker's /metrics has no consumer lag")
		}
		p1.kill(t)
		if killedAt >= int64(truth.Posts) {
			t.Fatalf("killed after %d of %d posts were committed: not mid-stream", killedAt, truth.Posts)
		}

		p2 := startProcess(t, bin, args, env)
		defer p2.stop(t)
		waitFor(t, 10*time.Minute, "the restarted worker to drain the posts topic", func() bool {
			lag, err := bus.Lag(t.Context(), busCfg, group, topic)
			return err == nil && lag == 0
		})
		waitStoreStable(t, r.url, truth.Posts)
		got := r.clusters(t)
		t.Logf("kafka kill -9: killed with %d of %d posts committed; %d clusters after restart, %d in the reference", killedAt, truth.Posts, len(got), len(want))
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("clusters after SIGKILL and restart differ from an uninterrupted run:\n got %v\nwant %v", got, want)
		}
	})

	t.Run("ScaleOut", func(t *testing.T) {
		testScaleOut(t, brokers, truth.Posts, want)
	})
}

// testScaleOut runs the scaled-out graph stage (graph.scale_out,
// docs/scale-out.md) on the real broker: ingest writes posts and their
// actions by object onto topics of 4 partitions, two pair workers share
// the actions partitions, and one graph worker aggregates their
// co-actions. The first pair worker leaves mid-stream, so the group
// rebalances and the second takes its partitions over from their
// committed offsets. The clusters must equal the single worker's (want).
func testScaleOut(t *testing.T, brokers []string, posts int, want map[string][]string) {
	prefix := uniquePrefix(t, "scale")
	cfg := kafkaConfig(t, t.TempDir(), brokers, prefix, "VIGIE_BUS_PARTITIONS=4", "VIGIE_GRAPH_SCALE_OUT=true")
	stats := &pipeline.Stats{}
	r := startStages(t, cfg, stats, StageIngest, StageGraph, StageIndex, StageAlert, StageServe)
	defer r.stop(t)

	var workers [2]*runner
	var wstats [2]*pipeline.Stats
	for i := range workers {
		wcfg := cfg
		wcfg.DataDir = t.TempDir()
		wcfg.Store.Path = filepath.Join(wcfg.DataDir, "vigie.db")
		wstats[i] = &pipeline.Stats{}
		workers[i] = startStages(t, wcfg, wstats[i], StagePair)
		waitFor(t, time.Minute, "the pair worker to receive actions", func() bool { return wstats[i].Paired.Load() > 0 })
	}
	// Both in the group: the first leaves, its partitions move.
	waitFor(t, time.Minute, "the second pair worker to take partitions", func() bool {
		a := wstats[1].Paired.Load()
		time.Sleep(300 * time.Millisecond)
		return wstats[1].Paired.Load() > a
	})
	workers[0].stop(t)
	leftAt := wstats[0].Paired.Load()
	waitStoreStable(t, r.url, posts)
	waitFor(t, 5*time.Minute, "the aggregator to fold in every co-action", func() bool {
		sent := wstats[0].Coactions.Load() + wstats[1].Coactions.Load()
		return stats.Aggregated.Load()+stats.DuplicateCoactions.Load() >= sent
	})
	waitStoreStable(t, r.url, posts)
	got := r.clusters(t)
	eval := loadTruth(t).Score(memberLists(got))
	t.Logf("scaled-out graph on Kafka: pair workers read %d (left mid-stream) and %d action records; %d co-actions folded, %d dropped as re-sent; %d clusters, precision %.3f recall %.3f",
		leftAt, wstats[1].Paired.Load(), stats.Aggregated.Load(), stats.DuplicateCoactions.Load(), len(got), eval.Precision, eval.Recall)
	if leftAt == 0 || wstats[1].Paired.Load() == 0 {
		t.Errorf("the group did not split the work: %d and %d", leftAt, wstats[1].Paired.Load())
	}
	if eval.Precision < 0.9 || eval.Recall < 0.9 {
		t.Errorf("account-level precision %.3f recall %.3f; want both >= 0.9", eval.Precision, eval.Recall)
	}
	if want != nil && fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("scaled-out clusters differ from the single worker's:\n got %v\nwant %v", got, want)
	}
	workers[1].stop(t)
}

// startStages runs some stages in this process (no progress line).
func startStages(t *testing.T, cfg config.Config, stats *pipeline.Stats, stages ...string) *runner {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{stats: stats, addr: make(chan string, 1), done: make(chan error, 1), cancel: cancel}
	log := newTestLogger(t)
	go func() {
		r.done <- Run(ctx, Options{Config: cfg, Stages: stages, Stats: stats, Log: log, OnReady: func(a string) { r.addr <- a }})
	}()
	select {
	case a := <-r.addr:
		if a != "" {
			r.url = "http://" + a
		}
	case err := <-r.done:
		t.Fatalf("Run ended before it was ready: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("not ready after 60 s")
	}
	return r
}

// waitStoreStable waits until the store holds every post and its cluster
// figures have not changed for a few seconds.
func waitStoreStable(t *testing.T, url string, posts int) {
	t.Helper()
	var last store.Stats
	stableSince := time.Now()
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		var st struct {
			Store store.Stats `json:"store"`
		}
		getJSON(t, url+"/api/stats", &st)
		if st.Store != last {
			last, stableSince = st.Store, time.Now()
		}
		if st.Store.Posts == int64(posts) && st.Store.ActiveClusters > 0 && time.Since(stableSince) > 4*time.Second {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("store did not settle: %+v", last)
}

func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// buildVigie compiles cmd/vigie into the test's temporary directory.
func buildVigie(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "vigie")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/vigie").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process is a vigie subprocess whose output goes to the test log.
type process struct {
	cmd  *exec.Cmd
	done chan error
}

func startProcess(t *testing.T, bin string, args, env []string) *process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			t.Log("vigie graph:", sc.Text())
		}
	}()
	p := &process{cmd: cmd, done: make(chan error, 1)}
	go func() {
		err := cmd.Wait()
		pw.Close()
		p.done <- err
	}()
	return p
}

// kill sends SIGKILL: no final checkpoint, no clean leave of the group.
func (p *process) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("process did not die after SIGKILL")
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (p *process) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("vigie graph exited with %v after SIGTERM", err)
		}
	case <-time.After(60 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Error("vigie graph did not stop within 60 s of SIGTERM")
	}
}

func newTestLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
