// Package app wires Vigie's parts into a running process from a
// configuration: the broker (embedded or Kafka), the store, the stages and
// the HTTP server, in one run group with a clean shutdown. cmd/vigie calls
// it; it is the only package that knows every other one, so the arrows of
// the import graph point from here down to the model and never back up.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/oklog/run"

	"github.com/vigie-osint/vigie/bus"
	"github.com/vigie-osint/vigie/config"
	"github.com/vigie-osint/vigie/graph"
	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/ingest/sources"
	"github.com/vigie-osint/vigie/ops"
	"github.com/vigie-osint/vigie/pipeline"
	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/scoring"
	"github.com/vigie-osint/vigie/store"
	"github.com/vigie-osint/vigie/store/sqlite"
	"github.com/vigie-osint/vigie/web"
)

// Stage names.
const (
	StageIngest = "ingest"
	StageGraph  = "graph"
	StageIndex  = "index"
	StageAlert  = "alert"
	StageServe  = "serve"
	// StagePair finds co-actions for the scaled-out graph stage
	// (graph.scale_out); without it, it does nothing.
	StagePair = "pair"
)

// AllStages is what `vigie run` runs.
var AllStages = []string{StageIngest, StagePair, StageGraph, StageIndex, StageAlert, StageServe, StageBrief}

// Options select what one process runs.
type Options struct {
	Config config.Config
	// Stages to run; empty means AllStages.
	Stages []string
	// ExitWhenIngested ends the process once the source is read (the
	// `vigie ingest` command); otherwise ingest idles at the end of its
	// source while the other stages go on.
	ExitWhenIngested bool
	// Progress receives a live status line every ProgressEvery; nil for
	// none.
	Progress      io.Writer
	ProgressEvery time.Duration
	Log           *slog.Logger
	// OnReady is called once the HTTP server listens (with its address)
	// or, without a server, once the stages have started.
	OnReady func(httpAddr string)
	// Stats receives the live counters; nil makes a private set. Tests
	// pass their own to watch progress.
	Stats *pipeline.Stats
	// OnBriefing is called after the schedule wrote a briefing (tests).
	OnBriefing func(date string, final bool)
	// OnOps is called with the bound address of the ops endpoint
	// (ops.addr: /metrics, /healthz, /readyz) when one is served.
	OnOps func(addr string)
	// OpenSource, when set, opens the ingest source instead of
	// ingest.format/ingest.source (`vigie ingest <source>` sets it), and
	// SourceName names it for its checkpoint.
	OpenSource func(ctx context.Context, from ingest.Position) (ingest.Source, error)
	SourceName string
}

// Run runs the selected stages until ctx is done or one of them fails.
func Run(ctx context.Context, o Options) error {
	cfg := o.Config
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	stages := o.Stages
	if len(stages) == 0 {
		stages = AllStages
	}
	has := func(s string) bool { return slices.Contains(stages, s) }
	needsBus := slices.ContainsFunc(stages, func(s string) bool { return s != StageServe && s != StageBrief })
	// Access control first: a server that must not start should say so
	// before anything else starts (docs/security.md).
	var access *web.Access
	if has(StageServe) {
		if err := cfg.HTTP.CheckExposure(); err != nil {
			return err
		}
		var err error
		if access, err = web.AccessFromConfig(cfg.HTTP, cfg.Alerts.APIToken, log.With("stage", StageServe)); err != nil {
			return err
		}
		defer access.Close()
	}

	// The store first: every stage but serve-alone writes to it, and the
	// checkpoints live there.
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()

	var brokers []string
	if needsBus {
		brokers = cfg.Bus.Brokers
		if len(brokers) == 0 {
			emb, err := bus.StartEmbedded(bus.EmbeddedConfig{
				Dir:        filepath.Join(cfg.DataDir, "broker"),
				Addr:       cfg.Bus.EmbeddedAddr,
				Partitions: cfg.Bus.Partitions,
			})
			if err != nil {
				return err
			}
			defer emb.Close()
			brokers = []string{emb.Addr()}
			log.Info("embedded Kafka-protocol broker started", "addr", emb.Addr(), "dir", filepath.Join(cfg.DataDir, "broker"))
		}
	}
	busCfg := bus.Config{Brokers: brokers, BatchSize: cfg.Bus.BatchSize, Log: log.With("component", "bus")}
	if err := secureBus(&busCfg, cfg, log); err != nil {
		return err
	}
	topics := pipeline.TopicsWithPrefix(cfg.Bus.TopicPrefix)
	if needsBus {
		var specs []bus.TopicSpec
		retention := map[string]string{"retention.ms": strconv.FormatInt(cfg.Bus.Retention.D().Milliseconds(), 10)}
		for _, t := range topics.All() {
			specs = append(specs, bus.TopicSpec{Name: t, Partitions: cfg.Bus.Partitions, ReplicationFactor: cfg.Bus.ReplicationFactor,
				Configs: retention})
		}
		if cfg.Graph.ScaleOut {
			// Co-actions go to the one aggregating worker: one partition.
			specs = append(specs,
				bus.TopicSpec{Name: topics.Actions, Partitions: cfg.Bus.Partitions, ReplicationFactor: cfg.Bus.ReplicationFactor, Configs: retention},
				bus.TopicSpec{Name: topics.Coactions, Partitions: 1, ReplicationFactor: cfg.Bus.ReplicationFactor, Configs: retention})
		}
		if err := bus.EnsureTopics(ctx, busCfg, specs...); err != nil {
			return err
		}
	}

	stats := o.Stats
	if stats == nil {
		stats = &pipeline.Stats{}
	}
	metrics := ops.New(stats)
	busCfg.Observer = metrics.Observer()
	var consumed []ops.Consumed
	var g run.Group
	var closers []io.Closer
	defer func() {
		for _, c := range slices.Backward(closers) {
			c.Close()
		}
	}()
	// actor adds a stage that runs until its context ends.
	actor := func(name string, fn func(ctx context.Context) error) {
		actx, cancel := context.WithCancel(ctx)
		g.Add(func() error {
			err := fn(actx)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if actx.Err() == nil && !(name == StageIngest && o.ExitWhenIngested) {
				return fmt.Errorf("%s: stopped unexpectedly", name)
			}
			return nil
		}, func(error) { cancel() })
	}
	var producer *bus.Producer
	if needsBus {
		producer, err = bus.NewProducer(busCfg)
		if err != nil {
			return err
		}
		closers = append(closers, producer)
	}
	consumer := func(stage, topic string) (*bus.Consumer, error) {
		c, err := bus.NewConsumer(busCfg, cfg.Bus.GroupPrefix+stage, topic)
		if err != nil {
			return nil, err
		}
		consumed = append(consumed, ops.Consumed{Group: c.Group(), Topic: topic})
		closers = append(closers, c)
		return c, nil
	}
	batchWait := cfg.Bus.BatchTimeout.D()

	if has(StageIngest) {
		norm := ingest.NewNormaliser(cfg.Ingest.Dedupe)
		norm.DetectLanguage = *cfg.Ingest.DetectLanguage
		if cfg.Ingest.ResolveShorteners {
			norm.Resolver = &ingest.Resolver{}
		}
		var router *graph.Engine
		if cfg.Graph.ScaleOut {
			if router, err = graph.New(GraphConfig(cfg)); err != nil {
				return err
			}
		}
		in := &pipeline.Ingest{
			Router: router,
			Source: cfg.Ingest.Source, Normaliser: norm, Topics: topics, Producer: producer, Checkpoints: st,
			DeadLetterFile: cfg.Ingest.DeadLetterFile, BatchSize: cfg.Bus.BatchSize, Speed: cfg.Ingest.Speed,
			StayAfterEOF: !o.ExitWhenIngested, Log: log.With("stage", StageIngest), Stats: stats,
			Format: cfg.Ingest.Format, FlushTimeout: cfg.Ingest.FlushTimeout.D(), Open: o.OpenSource,
		}
		if o.SourceName != "" {
			in.Source = o.SourceName
		}
		if in.Open == nil {
			ilog := log.With("stage", StageIngest)
			in.Open = func(ctx context.Context, from ingest.Position) (ingest.Source, error) {
				return sources.OpenNamed(ctx, cfg.Ingest.Format, cfg.Ingest.Source, FileOptions(cfg), ilog, from)
			}
		}
		actor(StageIngest, in.Run)
	}
	if has(StageGraph) {
		eng, err := graph.New(GraphConfig(cfg))
		if err != nil {
			return err
		}
		c, err := consumer(StageGraph, topics.Posts)
		if err != nil {
			return err
		}
		gs := &pipeline.Graph{
			Consumer: c, Producer: producer, Topics: topics, Checkpoints: st, Engine: eng,
			Scoring: scoring.Config{Window: cfg.Graph.Window.D(), Election: cfg.Scoring.Election}, Name: cfg.Bus.GroupPrefix + StageGraph,
			DetectEvery: cfg.Graph.DetectEvery.D(), CheckpointEvery: cfg.Graph.CheckpointEvery.D(),
			Log: log.With("stage", StageGraph), Stats: stats,
		}
		if cfg.Graph.ScaleOut {
			// The aggregating worker: edges from the pair workers'
			// co-actions; posts feed only the scorer.
			if gs.Coactions, err = consumer(StageGraph, topics.Coactions); err != nil {
				return err
			}
			gs.Sources = cfg.Bus.Partitions
		}
		actor(StageGraph, gs.Run)
	}
	if has(StagePair) && cfg.Graph.ScaleOut {
		pc, err := consumer(StagePair, topics.Actions)
		if err != nil {
			return err
		}
		pr := &pipeline.Pair{Consumer: pc, Producer: producer, Topics: topics, Checkpoints: st, Graph: GraphConfig(cfg),
			Name: cfg.Bus.GroupPrefix + StagePair, Log: log.With("stage", StagePair), Stats: stats}
		actor(StagePair, pr.Run)
	}
	if has(StageIndex) {
		var cs [3]*bus.Consumer
		for i, t := range []string{topics.Posts, topics.Clusters, topics.Alerts} {
			if cs[i], err = consumer(StageIndex, t); err != nil {
				return err
			}
		}
		ix := &pipeline.Index{Posts: cs[0], Clusters: cs[1], Alerts: cs[2], Producer: producer, Topics: topics, Store: st,
			BatchSize: cfg.Bus.BatchSize, BatchWait: batchWait, Log: log.With("stage", StageIndex), Stats: stats}
		actor(StageIndex+"-posts", ix.RunPosts)
		actor(StageIndex+"-clusters", ix.RunClusters)
		actor(StageIndex+"-alerts", ix.RunAlerts)
		// privacy.post_retention (app/privacy.go): expired posts are
		// deleted periodically and not written again.
		ret, err := retention(cfg, st, log.With("stage", StageIndex, "job", "retention"), stats)
		if err != nil {
			return err
		}
		if ret != nil {
			ix.Expired = ret.Cutoff
			actor(StageIndex+"-retention", ret.Run)
		}
	}
	// Webhooks (alertscmd.go): the outbox serves the alert stage, the
	// briefing schedule and the subscriptions API.
	var ap *alertParts
	if has(StageAlert) || has(StageServe) || (has(StageBrief) && *cfg.Brief.Enabled) {
		if ap, err = openAlerts(ctx, cfg, log); err != nil {
			return err
		}
		defer ap.Close()
	}
	if has(StageAlert) {
		c, err := consumer(StageAlert, topics.Clusters)
		if err != nil {
			return err
		}
		al := &pipeline.Alert{Consumer: c, Producer: producer, Topics: topics, MinRisk: cfg.Alerts.MinRisk,
			BatchSize: cfg.Bus.BatchSize, BatchWait: batchWait, Log: log.With("stage", StageAlert), Stats: stats,
			Notifier: ap.Notifier}
		actor(StageAlert, al.Run)
		actor(StageAlert+"-deliver", ap.Dispatcher.Run)
	}
	if has(StageBrief) && *cfg.Brief.Enabled {
		// Idle: the source is read and the graph stage has consumed it.
		idle := func() bool {
			return (!has(StageIngest) || stats.IngestDone.Load()) && (!has(StageGraph) || stats.Graphed.Load() >= stats.Ingested.Load())
		}
		bs, err := briefScheduler(o, st, ap, idle, o.OnBriefing)
		if err != nil {
			return err
		}
		if has(StageGraph) {
			bs.CaughtUp = func() bool { return stats.Ingested.Load()-stats.Graphed.Load() <= 2*int64(cfg.Bus.BatchSize) }
		}
		actor(StageBrief, bs.Run)
	}
	var ready atomic.Bool
	var httpAddr string
	if has(StageServe) {
		srv := &web.Server{Addr: cfg.HTTP.Addr, Store: st, Log: log.With("stage", StageServe), Ready: ready.Load,
			Subscriptions: ap.Registry, APIToken: cfg.Alerts.APIToken, Access: access,
			Metrics: metrics.MetricsHandler()}
		if needsBus {
			srv.Live = func() map[string]any { return liveStats(stats) }
		}
		if err := srv.Listen(); err != nil {
			return err
		}
		httpAddr = srv.BoundAddr()
		log.Info("serving the API and UI", "url", "http://"+httpAddr)
		actor(StageServe, srv.Serve)
	}
	if o.Progress != nil && needsBus {
		every := o.ProgressEvery
		if every <= 0 {
			every = 2 * time.Second
		}
		actor("progress", func(ctx context.Context) error {
			reportProgress(ctx, o.Progress, every, busCfg, cfg.Bus.GroupPrefix, topics, stats, has)
			return nil
		})
	}
	metrics.WatchLag(busCfg, consumed...)
	if cfg.Ops.Addr != "" {
		if err := serveOps(cfg.Ops.Addr, cfg.Ops.Pprof, metrics, ready.Load, log.With("component", "ops"), actor, o.OnOps); err != nil {
			return err
		}
	}
	// Stop on the caller's context, too.
	// Interruptible, so that `vigie ingest` ends when its source does.
	stopWait := make(chan struct{})
	g.Add(func() error {
		select {
		case <-ctx.Done():
		case <-stopWait:
		}
		return nil
	}, func(error) { close(stopWait) })
	ready.Store(true)
	if o.OnReady != nil {
		o.OnReady(httpAddr) // the listener is bound: requests queue until Serve runs
	}
	err = g.Run()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// FileOptions maps the ingest configuration onto a file source's options
// (format and path aside).
func FileOptions(cfg config.Config) sources.FileOptions {
	m := cfg.Ingest.Mapping
	return sources.FileOptions{
		ObjectKind: post.Kind(cfg.Ingest.ObjectKind),
		Platform:   post.Platform(cfg.Ingest.Platform),
		Mapping: ingest.FieldMapping{
			ID: m.ID, Author: m.Author, Time: m.Time, Text: m.Text, Lang: m.Lang, URLs: m.URLs,
			Hashtags: m.Hashtags, Mentions: m.Mentions, ReplyTo: m.ReplyTo, RepostOf: m.RepostOf,
			QuoteOf: m.QuoteOf, MediaHashes: m.MediaHashes, Platform: m.Platform, Handle: m.Handle,
			TimeFormat: m.TimeFormat, ListSeparator: m.ListSeparator,
		},
	}
}

// GraphConfig maps the configuration onto the graph engine's.
func GraphConfig(cfg config.Config) graph.Config {
	var kinds []post.Kind
	for _, s := range cfg.Graph.Signals {
		kinds = append(kinds, post.Kind(s))
	}
	return graph.Config{
		Window:           cfg.Graph.Window.D(),
		KeyCap:           cfg.Graph.KeyCap,
		MinWeight:        cfg.Graph.MinWeight,
		MinClusterSize:   cfg.Graph.MinClusterSize,
		Retention:        cfg.Graph.Retention.D(),
		WeakRetention:    cfg.Graph.WeakRetention.D(),
		Algorithm:        cfg.Graph.Algorithm,
		DiscountPopular:  cfg.Graph.DiscountPopular,
		HyperactiveAt:    cfg.Graph.HyperactiveAt,
		NullModelAlpha:   cfg.Graph.NullModelAlpha,
		BackboneAlpha:    cfg.Graph.BackboneAlpha,
		Lateness:         cfg.Graph.Lateness.D(),
		Signals:          kinds,
		MaxEvidence:      cfg.Graph.MaxEvidence,
		Level:            cfg.Graph.Level,
		Rejoin:           cfg.Graph.Rejoin,
		TextThreshold:    cfg.Graph.TextThreshold,
		TextMinWords:     cfg.Graph.TextMinWords,
		MediaMaxDistance: cfg.Graph.MediaMaxDistance,
		IDOverlap:        cfg.Graph.IDOverlap,
		HashtagSeqMin:    cfg.Graph.HashtagSeqMin,
		MinCohesion:      cfg.Graph.MinCohesion,
	}
}

func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (store.Store, error) {
	switch cfg.Store.Kind {
	case "embedded":
		if err := os.MkdirAll(filepath.Dir(cfg.Store.Path), 0o755); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return sqlite.Open(ctx, cfg.Store.Path, sqlite.WithLogger(log.With("component", "store")))
	case "elasticsearch":
		// Templates are installed at every start (idempotent), so a new
		// version's fields exist before its first write (app/escmd.go).
		return openElastic(ctx, cfg, log, true)
	default:
		return nil, fmt.Errorf("store.kind %q: must be embedded or elasticsearch", cfg.Store.Kind)
	}
}

func liveStats(s *pipeline.Stats) map[string]any {
	return map[string]any{
		"ingested":        s.Ingested.Load(),
		"graphed":         s.Graphed.Load(),
		"cluster_updates": s.Clusters.Load(),
		"active_clusters": s.Active.Load(),
		"alerts":          s.Alerts.Load(),
		"indexed":         s.Indexed.Load(),
		"dead_letters":    s.DeadLetters.Load(),
		"duplicates":      s.Duplicates.Load(),
		"ingest_done":     s.IngestDone.Load(),
		"last_detect_ms":  time.Duration(s.LastDetectNS.Load()).Milliseconds(),
	}
}

func reportProgress(ctx context.Context, w io.Writer, every time.Duration, busCfg bus.Config, groupPrefix string, topics pipeline.Topics, s *pipeline.Stats, has func(string) bool) {
	t := time.NewTicker(every)
	defer t.Stop()
	last, lastAt := s.Ingested.Load(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			in := s.Ingested.Load()
			rate := float64(in-last) / now.Sub(lastAt).Seconds()
			last, lastAt = in, now
			line := fmt.Sprintf("posts in %d (%.0f/s)", in, rate)
			if size, off := s.SourceBytes.Load(), s.SourceOffset.Load(); size > 0 && off < size && !s.IngestDone.Load() {
				line += fmt.Sprintf(" %.0f%%", 100*float64(off)/float64(size))
				if rate > 0 && off > 0 {
					eta := time.Duration(float64(size-off) / float64(off) * float64(in) / rate * float64(time.Second))
					line += fmt.Sprintf(" ETA %s", eta.Round(time.Second))
				}
			}
			if d := s.Duplicates.Load(); d > 0 {
				line += fmt.Sprintf(", %d duplicates dropped", d)
			}
			if has(StageGraph) {
				lctx, cancel := context.WithTimeout(ctx, time.Second)
				lag, err := bus.Lag(lctx, busCfg, groupPrefix+StageGraph, topics.Posts)
				cancel()
				lagS := fmt.Sprint(lag)
				if err != nil {
					lagS = "?"
				}
				line += fmt.Sprintf(" · graphed %d, lag %s · clusters %d active (%d updates)", s.Graphed.Load(), lagS, s.Active.Load(), s.Clusters.Load())
			}
			line += fmt.Sprintf(" · alerts %d · indexed %d · dead letters %d", s.Alerts.Load(), s.Indexed.Load(), s.DeadLetters.Load())
			if s.IngestDone.Load() {
				line += " · source fully read"
			}
			fmt.Fprintln(w, line)
		}
	}
}
