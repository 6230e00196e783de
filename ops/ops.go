// Package ops gives every Vigie process what operators need to run it:
// Prometheus metrics at /metrics, liveness at /healthz and readiness at
// /readyz. `vigie run` serves them on its main HTTP server; a standalone
// stage (`vigie graph`, `vigie index`, ...) serves them on ops.addr
// (--metrics-addr), so that a scaled-out deployment can scrape each
// worker and an orchestrator can restart one that stops answering.
//
// The figures come from three places: the bus client (every produce,
// fetch and commit, through bus.Observer), the stages' live counters
// (pipeline.Stats, read at scrape time), and the broker itself (consumer
// lag, asked at scrape time for the groups this process belongs to).
package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"regexp"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vigie-osint/vigie/bus"
	"github.com/vigie-osint/vigie/pipeline"
)

// Namespace prefixes every Vigie metric.
const Namespace = "vigie"

// Consumed names one topic a consumer group of this process reads, whose
// lag /metrics reports.
type Consumed struct {
	Group, Topic string
}

// Metrics is one process's registry.
type Metrics struct {
	reg *prometheus.Registry

	produced      *prometheus.CounterVec
	producedBytes *prometheus.CounterVec
	produceErrs   *prometheus.CounterVec
	produceSecs   *prometheus.HistogramVec
	consumed      *prometheus.CounterVec
	consumedBytes *prometheus.CounterVec
	fetchErrs     *prometheus.CounterVec
	commits       *prometheus.CounterVec
	commitErrs    *prometheus.CounterVec

	mu       sync.Mutex
	lagCfg   bus.Config
	lagOf    []Consumed
	lagDesc  *prometheus.Desc
	lagErr   *prometheus.Desc
	lagLimit time.Duration
}

// New returns a registry with the Go runtime and process collectors, the
// bus counters, and gauges over stats (nil for none).
func New(stats *pipeline.Stats) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), lagLimit: 3 * time.Second}
	m.reg.MustRegister(collectors.NewGoCollector(
		// go_gc_heap_live_bytes: the heap the last GC marked live, what the
		// process really holds; go_memstats_heap_inuse_bytes also counts
		// garbage not yet collected and swings up to twice as high with
		// GC timing, which hides or fakes growth.
		collectors.WithGoCollectorRuntimeMetrics(collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/live:bytes$`)}),
	), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "bus", Name: name, Help: help}, labels)
		m.reg.MustRegister(c)
		return c
	}
	m.produced = counter("produced_records_total", "Records acknowledged by the brokers, by topic.", "topic")
	m.producedBytes = counter("produced_bytes_total", "Key and value bytes acknowledged by the brokers, by topic.", "topic")
	m.produceErrs = counter("produce_errors_total", "Produce calls that failed after the client's retries, by topic.", "topic")
	m.produceSecs = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "bus", Name: "produce_seconds",
		Help:    "Time from a produce call to the acknowledgement of its last record, by topic.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 10),
	}, []string{"topic"})
	m.reg.MustRegister(m.produceSecs)
	m.consumed = counter("consumed_records_total", "Records fetched, by consumer group and topic.", "group", "topic")
	m.consumedBytes = counter("consumed_bytes_total", "Key and value bytes fetched, by consumer group and topic.", "group", "topic")
	m.fetchErrs = counter("fetch_errors_total", "Failed fetches, by consumer group and topic.", "group", "topic")
	m.commits = counter("committed_records_total", "Records whose offsets were committed (the last of each partition per commit), by group and topic.", "group", "topic")
	m.commitErrs = counter("commit_errors_total", "Failed offset commits, by consumer group and topic.", "group", "topic")
	m.lagDesc = prometheus.NewDesc(Namespace+"_consumer_lag_records", "Records of the topic not yet committed by the group, summed over partitions (asked of the brokers at scrape time).", []string{"group", "topic"}, nil)
	m.lagErr = prometheus.NewDesc(Namespace+"_consumer_lag_errors", "1 when the brokers could not be asked for the group's lag at this scrape.", []string{"group", "topic"}, nil)
	m.reg.MustRegister(lagCollector{m})
	if stats != nil {
		m.registerStats(stats)
	}
	return m
}

// Registry is the underlying Prometheus registry, for extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// WatchLag makes /metrics report the lag of these groups on these topics,
// asking the brokers of cfg at each scrape.
func (m *Metrics) WatchLag(cfg bus.Config, of ...Consumed) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cfg.Observer = nil // lag requests are not traffic to count
	m.lagCfg = cfg
	m.lagOf = append(m.lagOf, of...)
}

func (m *Metrics) registerStats(s *pipeline.Stats) {
	type metric struct {
		name, help string
		counter    bool
		f          func() float64
	}
	i64 := func(p interface{ Load() int64 }) func() float64 { return func() float64 { return float64(p.Load()) } }
	secs := func(p interface{ Load() int64 }) func() float64 {
		return func() float64 { return time.Duration(p.Load()).Seconds() }
	}
	boolean := func() float64 {
		if s.IngestDone.Load() {
			return 1
		}
		return 0
	}
	list := []metric{
		{"ingest_posts_total", "Posts ingest produced to the posts topic.", true, i64(&s.Ingested)},
		{"ingest_read_records_total", "Records ingest read from its source: posts, duplicates and rejects.", true, i64(&s.Read)},
		{"ingest_duplicates_total", "Posts ingest dropped as already seen.", true, i64(&s.Duplicates)},
		{"ingest_source_done", "1 once the source has been read to its end.", false, boolean},
		{"ingest_source_bytes", "Size of a file source.", false, i64(&s.SourceBytes)},
		{"ingest_source_offset_bytes", "Bytes of the source read and acknowledged.", false, i64(&s.SourceOffset)},
		{"ingest_produce_batches_total", "Ingest produce calls acknowledged.", true, i64(&s.ProduceBatches)},
		{"ingest_produce_errors_total", "Ingest produce calls that failed after retries.", true, i64(&s.ProduceErrors)},
		{"ingest_produce_retries_total", "Produce requests the client retried.", true, i64(&s.ProduceRetries)},
		{"ingest_timeout_flushes_total", "Ingest batches sent partial because the flush timeout passed.", true, i64(&s.TimeoutFlushes)},
		{"ingest_last_batch_records", "Records in ingest's last batch.", false, i64(&s.LastBatchSize)},
		{"ingest_last_produce_seconds", "Acknowledgement wait of ingest's last batch.", false, secs(&s.LastProduceNS)},
		{"ingest_delivery_lag_seconds", "For the last batch, time from reading its oldest record to the brokers' acknowledgement.", false, secs(&s.DeliveryLagNS)},
		{"graph_posts_total", "Posts the graph stage consumed in this process.", true, i64(&s.Graphed)},
		{"graph_engine_posts", "Distinct posts in the graph engine, restored state included.", false, i64(&s.EnginePosts)},
		{"graph_cluster_updates_total", "Cluster records the graph stage emitted.", true, i64(&s.Clusters)},
		{"graph_active_clusters", "Active clusters at the last detection.", false, i64(&s.Active)},
		{"graph_last_detect_seconds", "Wall time of the last community detection.", false, secs(&s.LastDetectNS)},
		{"graph_last_checkpoint_seconds", "Wall time of the graph stage's last checkpoint; the next waits ten times as long if that exceeds graph.checkpoint_every.", false, secs(&s.CheckpointNS)},
		{"pair_action_records_total", "Action records the pair stage consumed (graph.scale_out), re-reads after a rebalance included.", true, i64(&s.Paired)},
		{"pair_coactions_total", "Co-action pairs the pair stage produced.", true, i64(&s.Coactions)},
		{"graph_coactions_aggregated_total", "Co-action pairs the aggregating graph stage folded into edges.", true, i64(&s.Aggregated)},
		{"graph_coactions_duplicate_total", "Co-action pairs the aggregating graph stage dropped as already folded in.", true, i64(&s.DuplicateCoactions)},
		{"graph_window_edges", "Edges the graph engine holds.", false, i64(&s.Window.Edges)},
		{"graph_window_strong_edges", "Edges at or above graph.min_weight.", false, i64(&s.Window.StrongEdges)},
		{"graph_window_accounts", "Accounts the graph engine holds.", false, i64(&s.Window.Accounts)},
		{"graph_window_keys", "Objects with a buffer of recent actions.", false, i64(&s.Window.Keys)},
		{"graph_window_actions", "Actions held in the window buffers.", false, i64(&s.Window.Actions)},
		{"graph_seen_posts", "Post keys held for duplicate detection.", false, i64(&s.Window.SeenPosts)},
		{"graph_pairs", "Co-action pairs the engine has recorded (restored state included).", false, i64(&s.Window.Pairs)},
		{"graph_last_detect_edges", "Edges given to the last community detection.", false, i64(&s.Window.LastDetectLen)},
		{"alerts_total", "Alerts raised.", true, i64(&s.Alerts)},
		{"index_records_total", "Records written to the store.", true, i64(&s.Indexed)},
		{"retention_deleted_posts_total", "Posts deleted from the store past privacy.post_retention.", true, i64(&s.RetentionDeleted)},
		{"retention_runs_total", "Successful post retention runs.", true, i64(&s.RetentionRuns)},
		{"retention_skipped_posts_total", "Posts the index stage did not write because they were already past privacy.post_retention.", true, i64(&s.RetentionSkipped)},
		{"stage_write_failures_total", "Failed attempts of a stage to make its output durable (store unreachable or full, broker away); each is retried with backoff.", true, i64(&s.WriteFailures)},
		{"stage_retrying", "Stage loops retrying a write right now: above 0, a stage is stalled and its lag grows.", false, i64(&s.Retrying)},
		{"dead_letters_total", "Records any stage of this process rejected to the dead-letter topic.", true, i64(&s.DeadLetters)},
	}
	for _, x := range list {
		if x.counter {
			m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: Namespace, Name: x.name, Help: x.help}, x.f))
		} else {
			m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Name: x.name, Help: x.help}, x.f))
		}
	}
}

// lagCollector asks the brokers for lag at scrape time: a lag gauge
// refreshed on a timer would be stale exactly when an operator looks.
type lagCollector struct{ m *Metrics }

func (c lagCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.m.lagDesc
	ch <- c.m.lagErr
}

func (c lagCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	cfg, of := c.m.lagCfg, append([]Consumed(nil), c.m.lagOf...)
	c.m.mu.Unlock()
	if len(of) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.m.lagLimit)
	defer cancel()
	for _, o := range of {
		lag, err := bus.Lag(ctx, cfg, o.Group, o.Topic)
		failed := 0.0
		if err != nil {
			failed = 1
		} else {
			ch <- prometheus.MustNewConstMetric(c.m.lagDesc, prometheus.GaugeValue, float64(lag), o.Group, o.Topic)
		}
		ch <- prometheus.MustNewConstMetric(c.m.lagErr, prometheus.GaugeValue, failed, o.Group, o.Topic)
	}
}

// Observer returns the bus observer that feeds the bus metrics.
func (m *Metrics) Observer() bus.Observer { return observer{m} }

type observer struct{ m *Metrics }

func msgBytes(msg bus.Message) int { return len(msg.Key) + len(msg.Value) }

func (o observer) Produced(msgs []bus.Message, took time.Duration) {
	// A produce call may span topics (records and their dead letters):
	// count each record under its own topic.
	for i := 0; i < len(msgs); {
		topic, n, b := msgs[i].Topic, 0, 0
		for ; i < len(msgs) && msgs[i].Topic == topic; i++ {
			n++
			b += msgBytes(msgs[i])
		}
		o.m.produced.WithLabelValues(topic).Add(float64(n))
		o.m.producedBytes.WithLabelValues(topic).Add(float64(b))
	}
	if len(msgs) > 0 {
		o.m.produceSecs.WithLabelValues(msgs[0].Topic).Observe(took.Seconds())
	}
}

func (o observer) ProduceError(topic string) { o.m.produceErrs.WithLabelValues(topic).Inc() }

func (o observer) Fetched(group string, msg bus.Message) {
	o.m.consumed.WithLabelValues(group, msg.Topic).Inc()
	o.m.consumedBytes.WithLabelValues(group, msg.Topic).Add(float64(msgBytes(msg)))
}

func (o observer) FetchError(group, topic string) { o.m.fetchErrs.WithLabelValues(group, topic).Inc() }

func (o observer) Committed(group string, msgs []bus.Message) {
	for _, msg := range msgs {
		o.m.commits.WithLabelValues(group, msg.Topic).Inc()
	}
}

func (o observer) CommitError(group, topic string) {
	o.m.commitErrs.WithLabelValues(group, topic).Inc()
}

// MetricsHandler serves the registry in the Prometheus text format.
func (m *Metrics) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorHandling: promhttp.ContinueOnError})
}

// Handler serves /metrics, /healthz (the process answers) and /readyz
// (ready() is true: the stages are wired and their topics exist; nil
// means always ready).
func (m *Metrics) Handler(ready func() bool) http.Handler {
	return m.handler(ready, false)
}

// HandlerWithProfiles is Handler plus Go's runtime profiles under
// /debug/pprof/ (ops.pprof): how an operator finds where a stage that
// falls behind spends its CPU and memory, on the live process, without a
// rebuild. Off by default, because profiles reveal internals and a CPU
// profile costs a few percent while it runs; the ops address is meant for
// the cluster's network only.
func (m *Metrics) HandlerWithProfiles(ready func() bool) http.Handler {
	return m.handler(ready, true)
}

func (m *Metrics) handler(ready func() bool, profiles bool) http.Handler {
	mux := http.NewServeMux()
	if profiles {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	mux.Handle("GET /metrics", m.MetricsHandler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if ready != nil && !ready() {
			writeStatus(w, http.StatusServiceUnavailable, "starting")
			return
		}
		writeStatus(w, http.StatusOK, "ready")
	})
	return mux
}

func writeStatus(w http.ResponseWriter, code int, status string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": status})
}

// Server serves a Handler on its own address (a standalone stage's
// ops.addr).
type Server struct {
	ln  net.Listener
	srv *http.Server
	log *slog.Logger
}

// Listen binds addr ("127.0.0.1:0" picks a free port).
func Listen(addr string, h http.Handler, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ops: listen %s: %w", addr, err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{ln: ln, log: log, srv: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      30 * time.Second,
	}}, nil
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until ctx ends, then shuts down.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("ops: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := s.srv.Shutdown(sctx)
		<-errc
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("ops: shutdown: %w", err)
		}
		return nil
	}
}
