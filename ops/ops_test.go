package ops_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/vigie-osint/vigie/bus"
	"github.com/vigie-osint/vigie/ops"
	"github.com/vigie-osint/vigie/pipeline"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Scrape fetches url and returns each sample line "name{labels}" → value.
func Scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: %s: %s", url, res.Status, b)
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
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// TestMetricsMove runs real traffic through the embedded broker with the
// observer attached, and checks that the bus counters, the stage gauges
// and the consumer lag read from the broker appear and change.
func TestMetricsMove(t *testing.T) {
	e, err := bus.StartEmbedded(bus.EmbeddedConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	stats := &pipeline.Stats{}
	m := ops.New(stats)
	cfg := bus.Config{Brokers: []string{e.Addr()}, Observer: m.Observer()}
	ctx := t.Context()
	if err := bus.EnsureTopics(ctx, cfg, bus.TopicSpec{Name: "t", Partitions: 2, ReplicationFactor: 1}); err != nil {
		t.Fatal(err)
	}
	m.WatchLag(cfg, ops.Consumed{Group: "g", Topic: "t"})

	ready := false
	srv, err := ops.Listen("127.0.0.1:0", m.Handler(func() bool { return ready }), nil)
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	base := "http://" + srv.Addr()

	status := func(path string) int {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := status("/healthz"); got != 200 {
		t.Errorf("/healthz = %d, want 200", got)
	}
	if got := status("/readyz"); got != 503 {
		t.Errorf("/readyz before ready = %d, want 503", got)
	}
	ready = true
	if got := status("/readyz"); got != 200 {
		t.Errorf("/readyz when ready = %d, want 200", got)
	}

	before := Scrape(t, base+"/metrics")
	if v, ok := before[`vigie_consumer_lag_records{group="g",topic="t"}`]; !ok || v != 0 {
		t.Errorf("lag before traffic = %v (present %v), want 0", v, ok)
	}
	p, err := bus.NewProducer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var msgs []bus.Message
	for i := 0; i < 10; i++ {
		msgs = append(msgs, bus.Message{Topic: "t", Key: []byte{byte(i)}, Value: []byte("value")})
	}
	if err := p.Produce(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	c, err := bus.NewConsumer(cfg, "g", "t")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got []bus.Message
	for i := 0; i < 4; i++ {
		msg, err := c.Fetch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, msg)
	}
	if err := c.Commit(ctx, got...); err != nil {
		t.Fatal(err)
	}
	stats.Graphed.Add(4)
	stats.Window.Edges.Store(123)

	after := Scrape(t, base+"/metrics")
	want := map[string]float64{
		`vigie_bus_produced_records_total{topic="t"}`:           10,
		`vigie_bus_produced_bytes_total{topic="t"}`:             60,
		`vigie_bus_consumed_records_total{group="g",topic="t"}`: 4,
		`vigie_bus_produce_seconds_count{topic="t"}`:            1,
		`vigie_graph_posts_total`:                               4,
		`vigie_graph_window_edges`:                              123,
		`vigie_consumer_lag_errors{group="g",topic="t"}`:        0,
	}
	for k, v := range want {
		if after[k] != v {
			t.Errorf("%s = %v, want %v", k, after[k], v)
		}
	}
	// 4 fetched and committed, but on two partitions: each partition's lag
	// counts from its own committed offset.
	if lag := after[`vigie_consumer_lag_records{group="g",topic="t"}`]; lag < 6 || lag > 10 {
		t.Errorf("lag after producing 10 and committing 4 = %v, want 6..10", lag)
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "vigie_ingest_posts_total", "vigie_dead_letters_total"} {
		if _, ok := after[name]; !ok {
			t.Errorf("metric %s missing", name)
		}
	}
}

// TestProfilesOnlyWhenAsked: /debug/pprof/ is served by
// HandlerWithProfiles (ops.pprof) and by nothing else.
func TestProfilesOnlyWhenAsked(t *testing.T) {
	m := ops.New(&pipeline.Stats{})
	for _, tc := range []struct {
		name string
		h    http.Handler
		want int
	}{
		{"default", m.Handler(nil), http.StatusNotFound},
		{"profiles", m.HandlerWithProfiles(nil), http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tc.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/pprof/heap?debug=1", nil))
			if rec.Code != tc.want {
				t.Errorf("GET /debug/pprof/heap = %d, want %d", rec.Code, tc.want)
			}
			rec = httptest.NewRecorder()
			tc.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
			if rec.Code != http.StatusOK {
				t.Errorf("GET /healthz = %d, want 200", rec.Code)
			}
		})
	}
}

// TestLiveHeapMetric: the live heap (what the load test's memory check
// reads) is exported next to the memstats gauges.
func TestLiveHeapMetric(t *testing.T) {
	m := ops.New(&pipeline.Stats{})
	runtime.GC()
	rec := httptest.NewRecorder()
	m.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	var live float64
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "go_gc_heap_live_bytes "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("go_gc_heap_live_bytes %q: %v", v, err)
			}
			live = f
		}
	}
	if live <= 0 {
		t.Fatalf("no positive go_gc_heap_live_bytes in /metrics")
	}
}
