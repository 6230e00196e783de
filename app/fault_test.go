package app

// Fault tests (issue 11): the pipeline under the failures it must survive,
// each checked against an uninterrupted run of the bundled scenario. No
// post, cluster or alert may be lost; re-deliveries must be harmless
// (deterministic IDs); and Vigie must recover by itself, with no restart
// but the one the fault implies.
//
//   - KafkaBrokerRestart: a private Apache Kafka broker (scripts/kafka.sh
//     with its own ports and data dir, never the shared CI broker) is
//     stopped for VIGIE_FAULT_KAFKA_OUTAGE (25 s) while every stage runs,
//     then resumed on the same data.
//   - ElasticsearchOutage: the index stage writes to the real
//     Elasticsearch node through a TCP proxy that cuts every connection
//     and refuses new ones for VIGIE_FAULT_ES_OUTAGE (60 s).
//   - DiskFull: a `vigie index` process whose file size limit
//     (RLIMIT_FSIZE, set from outside with prlimit) makes its SQLite writes
//     fail with EFBIG, for real, then is lifted.
//   - KilledAtRandom: `vigie run` (the embedded default) killed with
//     SIGKILL at seeded-random points of the replay and restarted.
//
// Webhook receiver failures are in alert/fault_test.go. These tests run
// without the race detector, by `make test-faults` (VIGIE_TEST_FAULTS=1),
// which .ci/run calls.

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/vigie-osint/vigie/bus"
	"github.com/vigie-osint/vigie/pipeline"
	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/scenario"
)

// faultRef is what an uninterrupted run of the bundled scenario ends with.
type faultRef struct {
	clusters map[string][]string // active cluster ID → sorted members
	alerts   []string            // alert IDs, sorted
}

// skipOrFail skips with a reason locally, and fails under CI=true, when a
// server or tool a fault test needs is missing.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but %s: the fault tests must run in CI", why)
	}
	t.Skip(why)
}

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return d
}

func TestFaults(t *testing.T) {
	if raceDetector {
		t.Skip("fault tests run without -race: make test-faults")
	}
	if os.Getenv("VIGIE_TEST_FAULTS") != "1" {
		t.Skip("fault tests take minutes: make test-faults runs them (VIGIE_TEST_FAULTS=1)")
	}
	truth := loadTruth(t)
	bin := buildVigie(t)
	var ref *faultRef
	reference := func(t *testing.T) *faultRef {
		t.Helper()
		if ref == nil {
			ref = referenceRun(t, truth)
		}
		return ref
	}

	t.Run("KafkaBrokerRestart", func(t *testing.T) { testKafkaBrokerRestart(t, truth, reference) })
	t.Run("ElasticsearchOutage", func(t *testing.T) { testElasticsearchOutage(t) })
	t.Run("DiskFull", func(t *testing.T) { testDiskFull(t, bin, truth) })
	t.Run("KilledAtRandom", func(t *testing.T) { testKilledAtRandom(t, bin, truth, reference(t)) })
}

// referenceRun replays the scenario once, uninterrupted, on the embedded
// default with the tests' configuration.
func referenceRun(t *testing.T, truth scenario.Truth) *faultRef {
	t.Helper()
	began := time.Now()
	r := start(t, testConfig(t, t.TempDir()))
	defer r.stop(t)
	r.waitSettled(t, truth.Posts)
	ref := &faultRef{clusters: r.clusters(t), alerts: alertIDs(t, r.url)}
	t.Logf("fault reference: uninterrupted run settled in %s: %d clusters, %d alerts",
		time.Since(began).Round(time.Millisecond), len(ref.clusters), len(ref.alerts))
	return ref
}

// alertIDs lists the stored alerts' IDs through the API, sorted.
func alertIDs(t *testing.T, url string) []string {
	t.Helper()
	var list struct {
		Alerts []post.Alert `json:"alerts"`
	}
	getJSON(t, url+"/api/alerts?limit=1000", &list)
	var ids []string
	for _, a := range list.Alerts {
		ids = append(ids, a.ID)
	}
	slices.Sort(ids)
	return ids
}

// sameAsReference compares a run's outcome with the uninterrupted one's.
func sameAsReference(t *testing.T, what string, ref *faultRef, clusters map[string][]string, alerts []string) {
	t.Helper()
	if fmt.Sprint(clusters) != fmt.Sprint(ref.clusters) {
		t.Errorf("%s: clusters differ from an uninterrupted run:\n got %v\nwant %v", what, clusters, ref.clusters)
	}
	if !slices.Equal(alerts, ref.alerts) {
		t.Errorf("%s: alerts differ from an uninterrupted run:\n got %v\nwant %v", what, alerts, ref.alerts)
	}
}

// ---- a. Kafka broker stopped and restarted mid-stream ----

// privateKafka is a broker of this test's own, run by scripts/kafka.sh
// with its own ports and data dir and the shared jar cache.
type privateKafka struct {
	env  []string
	addr string
}

func startPrivateKafka(t *testing.T) *privateKafka {
	t.Helper()
	if _, err := exec.LookPath("java"); err != nil {
		skipOrFail(t, "java is not installed (scripts/kafka.sh runs Kafka from its jars)")
	}
	cache := os.Getenv("VIGIE_CACHE")
	if cache == "" {
		cache, _ = filepath.Abs("../.ci/cache")
	}
	if _, err := os.Stat(filepath.Join(cache, "kafka-4.4.0", "libs", ".complete")); err != nil && os.Getenv("VIGIE_KAFKA_VERSION") == "" {
		skipOrFail(t, "Kafka jars not installed in "+cache+" (scripts/kafka.sh install)")
	}
	port, cport := freePort(t), freePort(t)
	k := &privateKafka{addr: fmt.Sprintf("127.0.0.1:%d", port), env: append(os.Environ(),
		"VIGIE_CACHE="+cache,
		fmt.Sprintf("VIGIE_KAFKA_PORT=%d", port),
		fmt.Sprintf("VIGIE_KAFKA_CONTROLLER_PORT=%d", cport),
		"VIGIE_KAFKA_RUN_DIR="+filepath.Join(t.TempDir(), "kafka-run"),
		"VIGIE_KAFKA_HEAP=384m")}
	k.run(t, "start")
	t.Cleanup(func() { k.run(t, "stop") })
	return k
}

func (k *privateKafka) run(t *testing.T, cmd string) {
	t.Helper()
	c := exec.Command("../scripts/kafka.sh", cmd)
	c.Env = k.env
	out, err := c.CombinedOutput()
	t.Logf("kafka.sh %s: %s", cmd, strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("kafka.sh %s: %v", cmd, err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func testKafkaBrokerRestart(t *testing.T, truth scenario.Truth, reference func(*testing.T) *faultRef) {
	ref := reference(t)
	k := startPrivateKafka(t)
	outage := envDuration(t, "VIGIE_FAULT_KAFKA_OUTAGE", 25*time.Second)
	// Paced so that ingest is still reading when the broker goes away:
	// the whole scenario in about 30 s of wall time.
	speed := truth.End.Sub(truth.Start).Seconds() / 30
	cfg := kafkaConfig(t, t.TempDir(), []string{k.addr}, uniquePrefix(t, "brokerdown"), fmt.Sprintf("VIGIE_INGEST_SPEED=%.0f", speed))
	r := start(t, cfg)
	defer r.stop(t)
	waitFor(t, 2*time.Minute, "a fifth of the posts ingested", func() bool { return r.stats.Ingested.Load() >= int64(truth.Posts)/5 })
	before := [3]int64{r.stats.Ingested.Load(), r.stats.EnginePosts.Load(), r.stats.Indexed.Load()}
	k.run(t, "stop")
	stopped := time.Now()
	time.Sleep(outage)
	select {
	case err := <-r.done:
		t.Fatalf("vigie stopped while the broker was away: %v", err)
	default:
	}
	during := [3]int64{r.stats.Ingested.Load(), r.stats.EnginePosts.Load(), r.stats.Indexed.Load()}
	k.run(t, "resume")
	t.Logf("broker away for %s; ingested/graphed/indexed %v when it stopped, %v when it came back",
		time.Since(stopped).Round(time.Millisecond), before, during)
	r.waitSettled(t, truth.Posts) // every post graphed and stored: none lost
	m := scrape(t, r.url+"/metrics")
	var produceErrs, fetchErrs float64
	for k, v := range m {
		if strings.HasPrefix(k, "vigie_bus_produce_errors_total") {
			produceErrs += v
		}
		if strings.HasPrefix(k, "vigie_bus_fetch_errors_total") {
			fetchErrs += v
		}
	}
	t.Logf("kafka broker restart: produce errors %v, fetch errors %v counted while it was away", produceErrs, fetchErrs)
	if produceErrs+fetchErrs == 0 {
		t.Error("no produce or fetch error counted: the broker outage was not seen")
	}
	sameAsReference(t, "after a broker outage", ref, r.clusters(t), alertIDs(t, r.url))
}

// ---- b. Elasticsearch unreachable for minutes ----

// cutProxy forwards TCP to a backend until cut: then it closes every
// open connection and stops listening (new connections are refused),
// until restore listens again on the same port.
type cutProxy struct {
	backend string
	addr    string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func newCutProxy(t *testing.T, backend string) *cutProxy {
	t.Helper()
	p := &cutProxy{backend: backend, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() { p.cut(); p.wg.Wait() })
	return p
}

func (p *cutProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", p.backend)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[b] = true, true
			p.mu.Unlock()
			pipe := func(dst, src net.Conn) {
				defer p.wg.Done()
				io.Copy(dst, src)
				dst.Close()
				src.Close()
				p.mu.Lock()
				delete(p.conns, dst)
				delete(p.conns, src)
				p.mu.Unlock()
			}
			p.wg.Add(2)
			go pipe(b, c)
			go pipe(c, b)
		}
	}()
}

// cut closes the listener and every connection through the proxy.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
}

func (p *cutProxy) restore(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port was ours a moment ago; retry briefly
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// esJSON sends one request to Elasticsearch and decodes the answer.
func esJSON(t *testing.T, method, url, body string, v any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %s: %s", method, url, res.Status, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
	}
}

// esCount refreshes the indices of pattern and counts their documents.
func esCount(t *testing.T, es, pattern string) int64 {
	t.Helper()
	esJSON(t, http.MethodPost, es+"/"+pattern+"/_refresh?allow_no_indices=true&ignore_unavailable=true", "", nil)
	var c struct {
		Count int64 `json:"count"`
	}
	esJSON(t, http.MethodGet, es+"/"+pattern+"/_count?allow_no_indices=true&ignore_unavailable=true", "", &c)
	return c.Count
}

// esIDs returns every document _id of pattern with how many documents
// carry it (a scroll over all of them).
func esIDs(t *testing.T, es, pattern string) (map[string]int, int) {
	t.Helper()
	esJSON(t, http.MethodPost, es+"/"+pattern+"/_refresh?allow_no_indices=true&ignore_unavailable=true", "", nil)
	ids := map[string]int{}
	n := 0
	var page struct {
		ScrollID string `json:"_scroll_id"`
		Hits     struct {
			Hits []struct {
				ID string `json:"_id"`
			} `json:"hits"`
		} `json:"hits"`
	}
	esJSON(t, http.MethodPost, es+"/"+pattern+"/_search?scroll=1m&allow_no_indices=true&ignore_unavailable=true",
		`{"size":5000,"_source":false,"sort":["_doc"],"query":{"match_all":{}}}`, &page)
	for len(page.Hits.Hits) > 0 {
		for _, h := range page.Hits.Hits {
			ids[h.ID]++
			n++
		}
		id := page.ScrollID
		page.Hits.Hits = nil
		esJSON(t, http.MethodPost, es+"/_search/scroll", fmt.Sprintf(`{"scroll":"1m","scroll_id":%q}`, id), &page)
	}
	if page.ScrollID != "" {
		req, _ := http.NewRequest(http.MethodDelete, es+"/_search/scroll", strings.NewReader(fmt.Sprintf(`{"scroll_id":%q}`, page.ScrollID)))
		req.Header.Set("Content-Type", "application/json")
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}
	return ids, n
}

// topicKeys reads a whole topic with a fresh group and returns the
// distinct record keys (cluster or alert IDs).
func topicKeys(t *testing.T, brokers []string, topic string) map[string]bool {
	t.Helper()
	cfg := bus.Config{Brokers: brokers}
	c, err := bus.NewConsumer(cfg, "fault-read-"+topic+"-"+fmt.Sprint(time.Now().UnixNano()), topic)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	keys := map[string]bool{}
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		m, err := c.Fetch(ctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			return keys
		}
		if err != nil {
			t.Fatal(err)
		}
		keys[string(m.Key)] = true
	}
}

func testElasticsearchOutage(t *testing.T) {
	es := os.Getenv("VIGIE_TEST_ELASTICSEARCH")
	if es == "" {
		skipOrFail(t, "VIGIE_TEST_ELASTICSEARCH not set: no Elasticsearch node (scripts/elasticsearch.sh start)")
	}
	es = strings.TrimRight(strings.Split(es, ",")[0], "/")
	outage := envDuration(t, "VIGIE_FAULT_ES_OUTAGE", 60*time.Second)
	host := strings.TrimPrefix(strings.TrimPrefix(es, "http://"), "https://")
	proxy := newCutProxy(t, host)

	// The broker and the stages upstream of the store are this test's
	// own, on a store of their own: only the index stage talks to
	// Elasticsearch, through the proxy.
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	brokers := []string{emb.Addr()}
	var truth scenario.Truth
	// A smaller scenario than the bundled one (same generator, fixed
	// seed): Elasticsearch indexes a few hundred posts a second here, and
	// the outage, not the volume, is what is under test.
	small := scenario.Compact()
	small.OrganicUsers = 250
	src := filepath.Join(t.TempDir(), "posts.jsonl")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	truth, err = scenario.WriteJSONL(t.Context(), small, f)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	up := testConfig(t, t.TempDir())
	up.Bus.Brokers = brokers
	up.Ingest.Source = src
	upStats := &pipeline.Stats{}
	upstream := startStages(t, up, upStats, StageIngest, StageGraph, StageAlert)
	defer upstream.stop(t)

	prefix := strings.TrimSuffix(uniquePrefix(t, "esdown"), ".")
	ixCfg := testConfig(t, t.TempDir())
	ixCfg.Bus.Brokers = brokers
	ixCfg.Ingest.Source = src
	ixCfg.Store.Kind = "elasticsearch"
	ixCfg.Store.Elasticsearch = []string{"http://" + proxy.addr}
	ixCfg.Store.ElasticsearchPrefix = prefix
	ixStats := &pipeline.Stats{}
	index := startStages(t, ixCfg, ixStats, StageIndex)
	defer index.stop(t)

	topics := pipeline.TopicsWithPrefix(up.Bus.TopicPrefix)
	group := up.Bus.GroupPrefix + StageIndex
	busCfg := bus.Config{Brokers: brokers}
	lag := func(topic string) int64 {
		n, err := bus.Lag(t.Context(), busCfg, group, topic)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitFor(t, 2*time.Minute, "ingest to finish", func() bool { return upStats.IngestDone.Load() })
	posts := upStats.Ingested.Load()
	waitFor(t, 5*time.Minute, "a fifth of the posts indexed", func() bool { return posts-lag(topics.Posts) >= posts/5 })

	proxy.cut()
	cutAt := time.Now()
	var maxCommitted, minStoredAbove int64 = 0, -1
	checks := 0
	for time.Since(cutAt) < outage {
		// Offsets first, then the documents: the documents only grow, so
		// committed <= stored must hold whatever happens in between.
		committed := posts - lag(topics.Posts)
		stored := esCount(t, es, prefix+"-posts-*")
		if committed > stored {
			t.Errorf("during the outage: %d posts committed but only %d in Elasticsearch: offsets ran ahead of the store", committed, stored)
		}
		maxCommitted = max(maxCommitted, committed)
		if d := stored - committed; minStoredAbove < 0 || d < minStoredAbove {
			minStoredAbove = d
		}
		checks++
		select {
		case err := <-index.done:
			t.Fatalf("the index stage stopped while Elasticsearch was away: %v", err)
		default:
		}
		time.Sleep(2 * time.Second)
	}
	failures, retrying := ixStats.WriteFailures.Load(), ixStats.Retrying.Load()
	proxy.restore(t)
	t.Logf("elasticsearch cut for %s: %d checks of committed <= stored; %d posts committed at most; %d write failures, %d loops retrying at the end of the cut",
		time.Since(cutAt).Round(time.Millisecond), checks, maxCommitted, failures, retrying)
	if failures == 0 || retrying == 0 {
		t.Errorf("write failures %d, retrying %d during the outage: the cut was not seen or not reported", failures, retrying)
	}

	// Recovery: the graph stage has gone idle and the index stage has
	// committed every topic.
	waitFor(t, 5*time.Minute, "the graph engine to hold every post", func() bool { return upStats.EnginePosts.Load() == int64(truth.Posts) })
	stable := time.Time{}
	waitFor(t, 5*time.Minute, "the index stage to commit every topic", func() bool {
		if lag(topics.Posts)+lag(topics.Clusters)+lag(topics.Alerts) != 0 {
			stable = time.Time{}
			return false
		}
		if stable.IsZero() {
			stable = time.Now()
		}
		return time.Since(stable) > 5*time.Second
	})
	if ixStats.Retrying.Load() != 0 {
		t.Errorf("%d index loops still retrying after the outage", ixStats.Retrying.Load())
	}

	// Every post, cluster and alert exactly once, by _id.
	for _, c := range []struct {
		what, pattern string
		want          map[string]bool
		wantN         int
	}{
		{"posts", prefix + "-posts-*", nil, truth.Posts},
		{"clusters", prefix + "-clusters", topicKeys(t, brokers, topics.Clusters), 0},
		{"alerts", prefix + "-alerts", topicKeys(t, brokers, topics.Alerts), 0},
	} {
		ids, n := esIDs(t, es, c.pattern)
		want := c.wantN
		if c.want != nil {
			want = len(c.want)
			for id := range c.want {
				if ids[id] == 0 {
					t.Errorf("%s %s is on its topic but not in Elasticsearch", c.what, id)
				}
			}
		}
		t.Logf("elasticsearch outage: %s: %d documents, %d distinct _id, %d expected", c.what, n, len(ids), want)
		if n != len(ids) || n != want || want == 0 {
			t.Errorf("%s: %d documents with %d distinct _id; want %d, each once", c.what, n, len(ids), want)
		}
	}
}

// ---- d. the embedded store's disk full ----

// setFileSizeLimit sets the soft RLIMIT_FSIZE of another process
// (prlimit(2)); the hard limit is left as it is, so the soft one can be
// raised again. A Go process ignores SIGXFSZ, so its writes past the
// limit fail with EFBIG instead of killing it.
func setFileSizeLimit(pid int, soft uint64) error {
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		return err
	}
	lim := syscall.Rlimit{Cur: min(soft, old.Max), Max: old.Max}
	_, _, errno := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), uintptr(syscall.RLIMIT_FSIZE),
		uintptr(unsafe.Pointer(&lim)), 0, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// logTail keeps a process's output for the test to search and show.
type logTail struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logTail) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func testDiskFull(t *testing.T, bin string, truth scenario.Truth) {
	// The posts on a broker of this test's own.
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	brokers := []string{emb.Addr()}
	cfg := testConfig(t, t.TempDir())
	cfg.Bus.Brokers = brokers
	if err := Run(t.Context(), Options{Config: cfg, Stages: []string{StageIngest}, ExitWhenIngested: true, Log: newTestLogger(t)}); err != nil {
		t.Fatal(err)
	}
	topics := pipeline.TopicsWithPrefix(cfg.Bus.TopicPrefix)
	group := cfg.Bus.GroupPrefix + StageIndex
	busCfg := bus.Config{Brokers: brokers}
	posts := int64(truth.Posts)
	lag := func() int64 {
		n, err := bus.Lag(t.Context(), busCfg, group, topics.Posts)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	// `vigie index` in a process of its own, whose file size limit the
	// test sets from outside.
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "vigie.db")
	metricsAddr := freeAddr(t)
	cmd := exec.Command(bin, "index", "--kafka", emb.Addr(), "--data-dir", dir, "--quiet", "--log-level", "info", "--metrics-addr", metricsAddr)
	out := &logTail{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	}()
	waitFor(t, 2*time.Minute, "the index process to store a tenth of the posts", func() bool { return posts-lag() >= posts/10 })

	// Only a little room left in every file it writes.
	var largest int64
	for _, f := range []string{dbPath, dbPath + "-wal"} {
		if fi, err := os.Stat(f); err == nil {
			largest = max(largest, fi.Size())
		}
	}
	limit := uint64(largest + 256<<10)
	if err := setFileSizeLimit(cmd.Process.Pid, limit); err != nil {
		t.Fatalf("prlimit: %v", err)
	}
	t.Logf("disk full: file size limit of the index process set to %d bytes (largest file %d)", limit, largest)

	db, err := sql.Open("sqlite", dbPath+"?_pragma=busy_timeout(10000)&_query_only=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stored := func() int64 {
		var n int64
		if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM posts").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var failures float64
	waitFor(t, 2*time.Minute, "write failures to be reported on /metrics", func() bool {
		select {
		case err := <-exited:
			t.Fatalf("the index process exited when its disk filled: %v\n%s", err, out)
		default:
		}
		m := scrape(t, "http://"+metricsAddr+"/metrics")
		failures = m["vigie_stage_write_failures_total"]
		return failures >= 3 && m["vigie_stage_retrying"] >= 1
	})
	// The stage is stalled, not dead, and its offsets stay behind the store.
	var stalledAt int64 = -1
	for range 10 {
		committed := posts - lag()
		if s := stored(); committed > s {
			t.Errorf("disk full: %d posts committed but only %d stored: offsets ran ahead of the store", committed, s)
		}
		if stalledAt >= 0 && committed != stalledAt {
			t.Errorf("disk full: committed offset moved from %d to %d while every write fails", stalledAt, committed)
		}
		stalledAt = committed
		select {
		case err := <-exited:
			t.Fatalf("the index process exited while its disk was full: %v\n%s", err, out)
		default:
		}
		time.Sleep(500 * time.Millisecond)
	}
	if stalledAt >= posts {
		t.Fatalf("every post was committed before the disk filled: the test did not exercise a full disk")
	}
	logged := out.String()
	for _, line := range strings.Split(logged, "\n") {
		if strings.Contains(line, "could not make its output durable") {
			t.Logf("disk full: the index process says: %s", line)
			break
		}
	}
	if !strings.Contains(logged, "could not make its output durable") ||
		!(strings.Contains(logged, "too large") || strings.Contains(logged, "full") || strings.Contains(logged, "I/O error")) {
		t.Errorf("the index process did not log the write failure clearly:\n%s", logged)
	}

	// Space comes back: everything is written, nothing twice.
	if err := setFileSizeLimit(cmd.Process.Pid, ^uint64(0)); err != nil {
		t.Fatalf("prlimit: %v", err)
	}
	freed := time.Now()
	waitFor(t, 3*time.Minute, "the index process to commit every post after space came back", func() bool { return lag() == 0 })
	t.Logf("disk full: stalled at %d of %d posts committed with %v write failures; drained %s after space came back",
		stalledAt, posts, failures, time.Since(freed).Round(time.Millisecond))
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the index process exited with %v after SIGTERM\n%s", err, out)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the index process did not stop within 60 s of SIGTERM")
	}
	if n := stored(); n != posts {
		t.Errorf("disk full: %d posts stored after recovery; want %d", n, posts)
	}
	var integrity string
	if err := db.QueryRowContext(t.Context(), "PRAGMA quick_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Errorf("database after the disk-full episode: quick_check %q, %v", integrity, err)
	}
}

// ---- e. the process killed at random points ----

func testKilledAtRandom(t *testing.T, bin string, truth scenario.Truth, ref *faultRef) {
	kills := 5
	dir := t.TempDir()
	httpAddr := freeAddr(t)
	args := []string{"run", "--data-dir", dir, "--http", httpAddr, "--source", filepath.Join(bundled, "posts.jsonl"), "--quiet", "--log-level", "warn"}
	env := append(os.Environ(), "VIGIE_GRAPH_CHECKPOINT_EVERY=500ms")
	url := "http://" + httpAddr
	enginePosts := func() float64 {
		res, err := http.Get(url + "/metrics")
		if err != nil {
			return -1
		}
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "vigie_graph_engine_posts "); ok {
				var f float64
				fmt.Sscan(v, &f)
				return f
			}
		}
		return -1
	}
	// Seeded: the same kill points every run. Each is a share of the
	// posts in the graph engine, drawn after the previous one; the first
	// falls early, while ingest still reads.
	rng := rand.New(rand.NewPCG(11, 2017))
	var at []float64
	lo := 0.0
	for i := range kills {
		hi := 0.1 + 0.8*float64(i+1)/float64(kills)
		at = append(at, lo+rng.Float64()*(hi-lo))
		lo = at[i] + 0.02
	}
	var killedAt []float64
	for i, share := range at {
		p := startProcess(t, bin, args, env)
		waitFor(t, 3*time.Minute, fmt.Sprintf("run %d to serve", i+1), func() bool { return enginePosts() >= 0 })
		target := share * float64(truth.Posts)
		waitFor(t, 5*time.Minute, fmt.Sprintf("%.0f posts in the graph engine", target), func() bool { return enginePosts() >= target })
		// A random extra delay, so that the kill does not always fall just
		// after a metrics scrape.
		time.Sleep(time.Duration(rng.Int64N(int64(300 * time.Millisecond))))
		killedAt = append(killedAt, enginePosts())
		p.kill(t)
	}
	p := startProcess(t, bin, args, env)
	defer p.stop(t)
	waitFor(t, 3*time.Minute, "the last run to serve", func() bool { return enginePosts() >= 0 })
	waitFor(t, 5*time.Minute, "every post in the graph engine", func() bool { return enginePosts() == float64(truth.Posts) })
	waitStoreStable(t, url, truth.Posts)
	clusters := (&runner{url: url}).clusters(t)
	t.Logf("killed with SIGKILL %d times, at %v posts in the graph engine (targets %.3f of %d); %d clusters after the last restart, %d uninterrupted",
		kills, killedAt, at, truth.Posts, len(clusters), len(ref.clusters))
	sameAsReference(t, "after SIGKILLs", ref, clusters, alertIDs(t, url))
}
