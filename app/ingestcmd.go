package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/vigie-osint/vigie/config"
	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/ingest/sources"
	"github.com/vigie-osint/vigie/pipeline"
)

// ingestUsage documents `vigie ingest` and its sources.
var ingestUsage = `Usage:
  vigie ingest [flags]                           the configured source (ingest.source, ingest.format)
  vigie ingest file PATH --format F [flags]      a file in format F
  vigie ingest twitter-stream --track a,b [--follow IDS] [--credentials FILE] [flags]
  vigie ingest mastodon --server URL --timeline public|hashtag:TAG [--backfill] [flags]
  vigie ingest bluesky [--jetstream URL] [flags]

Reads the source onto the posts topic; files end at their end, live sources
run until Ctrl-C. A restart resumes where the last acknowledged batch ended;
bad records go to the dead-letter topic and file. A progress bar (files) or
live counters (streams) go to stderr unless --quiet; a summary line ends the
run on stdout.

A live source can first read a file (--from-file, --from-format) or, for
Mastodon, its REST timeline (--backfill), then switch to the stream without
a gap; the overlap's duplicates are dropped by platform ID.

Credentials: Twitter from VIGIE_TWITTER_CONSUMER_KEY, _CONSUMER_SECRET,
_ACCESS_TOKEN, _ACCESS_SECRET or --credentials FILE; Mastodon from
VIGIE_MASTODON_TOKEN or the file named by VIGIE_MASTODON_TOKEN_FILE.

File formats:
` + sources.FormatHelp()

// ingestFlags are `vigie ingest`'s own flags, beside commonFlags.
type ingestFlags struct {
	format, objectKind, platform string
	flushTimeout                 time.Duration
	batchSize                    int
	progressEvery                time.Duration
	// live
	track, follow, locations, language, credentials, streamURL string
	server, timeline, endpoint, since                          string
	backfill                                                   bool
	maxPosts                                                   int
	jetstream                                                  string
	fromFile, fromFormat                                       string
}

func (f *ingestFlags) register(fs *flag.FlagSet, sub string) {
	fs.DurationVar(&f.flushTimeout, "flush-timeout", 0, "send a partial batch after this long (ingest.flush_timeout, default 1s)")
	fs.IntVar(&f.batchSize, "batch-size", 0, "posts per produce request (bus.batch_size, default 500)")
	fs.DurationVar(&f.progressEvery, "progress-every", 0, "progress refresh period (default 200ms on a terminal, 2s otherwise)")
	fs.StringVar(&f.platform, "platform", "", "platform of CSV accounts without a tw_/fb_ prefix, or of mapped records (ingest.platform)")
	switch sub {
	case "", "file":
		fs.StringVar(&f.format, "format", "", "file format: "+strings.Join(sources.Formats(), ", ")+" (ingest.format)")
		fs.StringVar(&f.objectKind, "object-kind", "", "what CooRTweet's object_id holds: repost, reply, link, hashtag, mention, media, text (ingest.object_kind)")
		return
	case sources.LiveTwitter:
		fs.StringVar(&f.track, "track", "", "comma-separated keywords to track")
		fs.StringVar(&f.follow, "follow", "", "comma-separated user IDs to follow")
		fs.StringVar(&f.locations, "locations", "", "comma-separated bounding boxes (lon,lat pairs)")
		fs.StringVar(&f.language, "language", "", "comma-separated BCP 47 language codes")
		fs.StringVar(&f.credentials, "credentials", "", "JSON or YAML file of consumer_key, consumer_secret, access_token, access_secret (VIGIE_TWITTER_* override it)")
		fs.StringVar(&f.streamURL, "stream-url", "", "filter stream base URL (default the API's; for tests and proxies)")
	case sources.LiveMastodon:
		fs.StringVar(&f.server, "server", "", "instance URL, https://host")
		fs.StringVar(&f.timeline, "timeline", "public", "public, public:local, public:remote, hashtag:TAG, hashtag:TAG:local, user or list:ID")
		fs.StringVar(&f.endpoint, "endpoint", "", "full streaming endpoint URL (instead of --server and --timeline)")
		fs.BoolVar(&f.backfill, "backfill", false, "first read the timeline back over REST (to --since or --max-posts), then stream")
		fs.StringVar(&f.since, "since", "", "with --backfill: stop at statuses older than this RFC 3339 time")
		fs.IntVar(&f.maxPosts, "max-posts", 0, "with --backfill: stop after this many statuses (0: no limit)")
	case sources.LiveBluesky:
		fs.StringVar(&f.jetstream, "jetstream", "", "Jetstream subscribe URL with its filters (default the public instance, posts and reposts)")
	}
	fs.StringVar(&f.fromFile, "from-file", "", "read this file first, then switch to the live source")
	fs.StringVar(&f.fromFormat, "from-format", "jsonl", "format of --from-file")
}

// ingestCmd is `vigie ingest`.
func ingestCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "", "file", sources.LiveTwitter, sources.LiveMastodon, sources.LiveBluesky:
	default:
		fmt.Fprintf(stderr, "vigie ingest: unknown source %q\n\n%s", sub, ingestUsage)
		return errUsage
	}
	name := "ingest"
	if sub != "" {
		name += " " + sub
	}
	fs := flag.NewFlagSet("vigie "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s\nFlags of vigie %s:\n", ingestUsage, name)
		fs.PrintDefaults()
	}
	var cf commonFlags
	cf.register(fs)
	var inf ingestFlags
	inf.register(fs, sub)
	// A file path may come before or after the flags.
	var path string
	if sub == "file" && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		path, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return errUsage
	}
	rest := fs.Args()
	if sub == "file" && path == "" && len(rest) > 0 {
		path, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "vigie %s: unexpected arguments %q\n", name, rest)
		return errUsage
	}
	if sub == "file" {
		if path == "" {
			fmt.Fprintf(stderr, "vigie ingest file: a PATH is required\n\n%s", ingestUsage)
			return errUsage
		}
		if inf.format == "" {
			fmt.Fprintf(stderr, "vigie ingest file: --format is required (one of %s)\n", strings.Join(sources.Formats(), ", "))
			return errUsage
		}
		cf.source = path
	}

	extra := map[string]string{
		"ingest.format":      inf.format,
		"ingest.object_kind": inf.objectKind,
		"ingest.platform":    inf.platform,
	}
	if inf.flushTimeout > 0 {
		extra["ingest.flush_timeout"] = inf.flushTimeout.String()
	}
	if inf.batchSize > 0 {
		extra["bus.batch_size"] = fmt.Sprint(inf.batchSize)
	}
	cfg, err := loadIngestConfig(&cf, extra)
	if err != nil {
		return err
	}

	// The progress bar and the log share stderr: a log line first clears
	// the bar, which is redrawn on the next tick.
	term := isTerminal(stderr)
	out := &lineWriter{w: stderr, term: term}
	log := NewLogger(cfg.Log, out)
	stats := &pipeline.Stats{}
	o := Options{Config: cfg, Stages: []string{StageIngest}, ExitWhenIngested: true, Log: log, Stats: stats}

	live := sub != "" && sub != "file"
	srcName := cfg.Ingest.Source
	if live {
		lo, err := liveOptions(sub, &inf, cfg)
		if err != nil {
			return err
		}
		lo.Log = log.With("stage", StageIngest)
		if srcName, err = lo.Name(); err != nil {
			return err
		}
		o.SourceName = srcName
		o.OpenSource = func(ctx context.Context, from ingest.Position) (ingest.Source, error) {
			src, err := sources.OpenLive(ctx, lo, from)
			if c, ok := src.(*sources.Chain); ok && err == nil {
				c.Switched = func(h sources.Handoff) {
					lo.Log.Info("first phase read; switching to the live source", "posts", h.Posts, "newest", h.Newest, "max_id", h.MaxID)
				}
			}
			return src, err
		}
	} else if sources.IsLive(cfg.Ingest.Format) {
		live = true
	}

	var wg sync.WaitGroup
	pctx, stopProgress := context.WithCancel(ctx)
	if !cf.quiet {
		every := inf.progressEvery
		if every <= 0 {
			every = 2 * time.Second
			if term {
				every = 200 * time.Millisecond
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			showProgress(pctx, out, every, stats, live)
		}()
	}
	start := time.Now()
	err = Run(ctx, o)
	stopProgress()
	wg.Wait()
	out.clear()
	elapsed := time.Since(start)
	fmt.Fprintln(stdout, Summary(srcName, stats, elapsed, cfg.Ingest.DeadLetterFile, cfg.Bus.TopicPrefix+"deadletter"))
	return err
}

// loadIngestConfig is commonFlags.load with more keys set from flags.
func loadIngestConfig(cf *commonFlags, extra map[string]string) (config.Config, error) {
	env := os.Environ()
	set := func(key, v string) {
		if v != "" {
			env = append(env, config.EnvName(key)+"="+v)
		}
	}
	set("bus.brokers", cf.kafka)
	if cf.es != "" {
		set("store.kind", "elasticsearch")
		set("store.elasticsearch", cf.es)
	}
	set("ingest.source", cf.source)
	set("http.addr", cf.httpAddr)
	set("data_dir", cf.dataDir)
	set("log.level", cf.logLevel)
	if cf.speed >= 0 {
		set("ingest.speed", fmt.Sprint(cf.speed))
	}
	for k, v := range extra {
		set(k, v)
	}
	return config.Load(cf.configPath, env)
}

func liveOptions(kind string, f *ingestFlags, cfg config.Config) (sources.LiveOptions, error) {
	split := func(s string) []string {
		var out []string
		for p := range strings.SplitSeq(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	lo := sources.LiveOptions{
		Kind: kind, Server: f.server, Timeline: f.timeline, Endpoint: f.endpoint, Backfill: f.backfill,
		MaxPosts: f.maxPosts, Jetstream: f.jetstream, Track: split(f.track), Follow: split(f.follow),
		Locations: split(f.locations), Language: split(f.language), CredentialsFile: f.credentials,
		StreamURL: f.streamURL, FromFile: f.fromFile, FromFormat: f.fromFormat, File: FileOptions(cfg),
	}
	if f.since != "" {
		t, err := time.Parse(time.RFC3339, f.since)
		if err != nil {
			return lo, fmt.Errorf("--since: want an RFC 3339 time like 2024-06-01T00:00:00Z: %w", err)
		}
		lo.Since = t
	}
	return lo, nil
}

// Summary is the line `vigie ingest` ends with: what was read, produced,
// dropped and dead-lettered, and the producer's figures.
func Summary(source string, s *pipeline.Stats, elapsed time.Duration, dlqFile, dlqTopic string) string {
	produced := s.Ingested.Load()
	rate := 0.0
	if sec := elapsed.Seconds(); sec > 0 {
		rate = float64(produced) / sec
	}
	line := fmt.Sprintf("ingest %s: read %d, produced %d, duplicates %d, dead-lettered %d",
		source, s.Read.Load(), produced, s.Duplicates.Load(), s.DeadLetters.Load())
	if s.DeadLetters.Load() > 0 {
		where := "topic " + dlqTopic
		if dlqFile != "" {
			where = dlqFile + " and " + where
		}
		line += " (" + where + ")"
	}
	line += fmt.Sprintf(" in %s (%.0f posts/s)", elapsed.Round(time.Millisecond), rate)
	if b := s.ProduceBatches.Load(); b > 0 {
		line += fmt.Sprintf("; %d batches (mean %d records, %s mean ack), %s sent, max delivery lag %s, %d retries, %d errors",
			b, s.ProducedRecords.Load()/b, (time.Duration(s.ProduceNS.Load() / b)).Round(10*time.Microsecond),
			humanBytes(s.ProducedBytes.Load()), time.Duration(s.MaxDeliveryLagNS.Load()).Round(time.Millisecond),
			s.ProduceRetries.Load(), s.ProduceErrors.Load())
	}
	return line
}

// showProgress draws a bar for a file (rows/s, bytes done and total, ETA,
// dead letters) or counters for a stream, until ctx ends.
func showProgress(ctx context.Context, w *lineWriter, every time.Duration, s *pipeline.Stats, live bool) {
	t := time.NewTicker(every)
	defer t.Stop()
	start := time.Now()
	lastRead, lastAt := int64(0), start
	rate := 0.0
	for {
		select {
		case <-ctx.Done():
			// The final state, so the bar ends at 100 % with the counts
			// the summary gives.
			w.status(progressLine(s, float64(s.Read.Load())/time.Since(start).Seconds(), time.Since(start), live))
			return
		case now := <-t.C:
			read := s.Read.Load()
			if d := now.Sub(lastAt).Seconds(); d > 0 {
				inst := float64(read-lastRead) / d
				if rate == 0 {
					rate = inst
				} else {
					rate = 0.7*rate + 0.3*inst // smoothed, so the ETA does not jump
				}
			}
			lastRead, lastAt = read, now
			w.status(progressLine(s, rate, now.Sub(start), live))
		}
	}
}

func progressLine(s *pipeline.Stats, rate float64, elapsed time.Duration, live bool) string {
	read, produced, dlq, dup := s.Read.Load(), s.Ingested.Load(), s.DeadLetters.Load(), s.Duplicates.Load()
	size, off := s.SourceBytes.Load(), s.SourceOffset.Load()
	if live || size <= 0 {
		return fmt.Sprintf("read %d (%.0f/s) · produced %d · duplicates %d · dead letters %d · batches %d · delivery lag %s · %s",
			read, rate, produced, dup, dlq, s.ProduceBatches.Load(),
			time.Duration(s.DeliveryLagNS.Load()).Round(time.Millisecond), elapsed.Round(time.Second))
	}
	frac := float64(off) / float64(size)
	frac = min(max(frac, 0), 1)
	const width = 24
	n := int(frac * width)
	bar := strings.Repeat("█", n) + strings.Repeat("░", width-n)
	eta := "?"
	if frac > 0 && frac < 1 {
		eta = time.Duration(float64(elapsed) * (1 - frac) / frac).Round(time.Second).String()
	} else if frac >= 1 {
		eta = "0s"
	}
	return fmt.Sprintf("%s %3.0f%% %s/%s · %d rows (%.0f/s) · ETA %s · duplicates %d · dead letters %d",
		bar, frac*100, humanBytes(off), humanBytes(size), read, rate, eta, dup, dlq)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// lineWriter shares stderr between log lines and a status line. On a
// terminal the status line is redrawn in place and a log line first
// erases it; elsewhere each status is a line of its own.
type lineWriter struct {
	mu    sync.Mutex
	w     io.Writer
	term  bool
	shown bool
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.eraseLocked()
	return l.w.Write(p)
}

func (l *lineWriter) status(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.term {
		fmt.Fprint(l.w, "\r\033[K"+s)
		l.shown = true
		return
	}
	fmt.Fprintln(l.w, s)
}

func (l *lineWriter) eraseLocked() {
	if l.shown {
		fmt.Fprint(l.w, "\r\033[K")
		l.shown = false
	}
}

// clear ends the status line, keeping its last state on screen.
func (l *lineWriter) clear() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.shown {
		fmt.Fprintln(l.w)
		l.shown = false
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
