package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/config"
	"github.com/vigie-osint/vigie/scenario"
)

// Version is set at build time with -ldflags "-X ...app.Version=...".
var Version = "dev"

const usage = `Vigie finds coordinated influence networks on social media as they happen.

Usage: vigie <command> [flags]

Commands:
  run            run every stage in one process: ingest, graph, index, alert
                 and the HTTP API/UI. With no flags it starts the embedded
                 broker and store and replays the bundled election scenario.
  ingest         read a source onto the posts topic: the configured one, or
                 'ingest file PATH --format F', 'ingest twitter-stream',
                 'ingest mastodon', 'ingest bluesky' (live, until Ctrl-C)
  graph          build the co-action graph and emit clusters (one worker; with
                 graph.scale_out it aggregates the pair workers' co-actions)
  pair           with graph.scale_out: find co-actions by object (start as
                 many as bus.partitions on real Kafka; docs/scale-out.md)
  graph export   write stored clusters as GraphML, GEXF or CSV (Gephi, networkx)
  index          write posts, clusters and alerts into the store
  alert          raise alerts on risky clusters
  serve          serve the HTTP API and UI from the store
  alerts test    send a signed sample alert to a webhook (--url, --format
                 slack|teams|json); 'alerts list' shows subscriptions and deliveries
  brief          write the daily influence briefing of a day (--date YYYY-MM-DD)
                 as HTML and Markdown with charts, from the store
  detect         compute the co-action network of a whole file (CooRTweet or
                 Coordination Network Toolkit exact with --compat)
  gen            write a synthetic election scenario with planted networks
  eval           score detection against a scenario's planted networks: precision,
                 recall, ARI/NMI, stance, time to detection, false alerts per day
  config check   validate a configuration file and print its effective values
  kibana import  install Vigie's Kibana data views, searches and dashboards
  es setup       install Vigie's Elasticsearch index templates and indices
  version        print the version

Run 'vigie <command> --help' for a command's flags. Configuration comes from
a YAML file (--config), then VIGIE_* environment variables, then flags.
`

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "run":
		err = runStages(ctx, cmd, rest, AllStages, false, stdout, stderr,
			"Run every stage in one process. Without --kafka it starts the embedded\nKafka-protocol broker; without --elasticsearch it uses the embedded store\nunder --data-dir. It replays --source and serves http://"+config.Default().HTTP.Addr+".")
	case "ingest":
		err = ingestCmd(ctx, rest, stdout, stderr) // app/ingestcmd.go
	case "graph":
		if len(rest) > 0 && rest[0] == "export" {
			err = graphExport(ctx, rest[1:], stdout, stderr)
		} else {
			err = runStages(ctx, cmd, rest, []string{StageGraph}, false, stdout, stderr,
				"Consume posts, pair co-actions in time windows, detect communities and emit\nscored clusters. State is checkpointed to the store before offsets are\ncommitted, so a restarted worker reaches the same clusters.")
		}
	case "pair":
		err = runStages(ctx, cmd, rest, []string{StagePair}, false, stdout, stderr,
			"With graph.scale_out: route posts onto the actions topic by object and find\nthe co-actions of the actions partitions this worker owns (run as many as\nbus.partitions); one `vigie graph` aggregates them and detects clusters.")
	case "index":
		err = runStages(ctx, cmd, rest, []string{StageIndex}, false, stdout, stderr,
			"Write posts, clusters and alerts from their topics into the store, committing\noffsets only after each write is durable.")
	case "alert":
		err = runStages(ctx, cmd, rest, []string{StageAlert}, false, stdout, stderr,
			"Raise an alert when an active cluster's risk reaches alerts.min_risk.")
	case "serve":
		err = runStages(ctx, cmd, rest, []string{StageServe}, false, stdout, stderr,
			"Serve the HTTP API and UI from the store.")
	case "detect":
		err = detect(ctx, rest, stdout, stderr)
	case "alerts":
		err = alertsCmd(ctx, rest, stdout, stderr) // app/alertscmd.go
	case "brief":
		err = briefCmd(ctx, rest, stdout, stderr) // app/briefcmd.go
	case "gen":
		err = gen(ctx, rest, stdout, stderr)
	case "eval":
		err = evalCmd(ctx, rest, stdout, stderr) // app/evalcmd.go
	case "kibana":
		err = kibanaCmd(ctx, rest, stdout, stderr)
	case "es":
		err = esCmd(ctx, rest, stdout, stderr) // app/escmd.go
	case "config":
		err = configCmd(rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "vigie", Version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "vigie: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintln(stderr, "vigie:", err)
		return 1
	}
}

var errUsage = errors.New("usage")

// commonFlags are shared by the commands that run stages.
type commonFlags struct {
	configPath, kafka, es, source, httpAddr, dataDir, logLevel string
	speed                                                      float64
	quiet                                                      bool
	metricsAddr                                                string
}

func (f *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.configPath, "config", "", "YAML configuration file (see 'vigie config check --print' for every key)")
	fs.StringVar(&f.kafka, "kafka", "", "comma-separated Kafka bootstrap brokers (bus.brokers); empty starts the embedded broker")
	fs.StringVar(&f.es, "elasticsearch", "", "comma-separated Elasticsearch URLs; sets store.kind=elasticsearch")
	fs.StringVar(&f.source, "source", "", "posts file to replay (ingest.source)")
	fs.StringVar(&f.httpAddr, "http", "", "HTTP listen address (http.addr)")
	fs.StringVar(&f.dataDir, "data-dir", "", "directory of the embedded broker and store (data_dir)")
	fs.StringVar(&f.logLevel, "log-level", "", "debug, info, warn or error (log.level)")
	fs.Float64Var(&f.speed, "speed", -1, "replay speed factor over event time; 0 = as fast as possible (ingest.speed)")
	fs.BoolVar(&f.quiet, "quiet", false, "no live progress line")
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "serve /metrics, /healthz and /readyz on this address (ops.addr), e.g. :9100")
}

// load applies flags over file and env. A flag given explicitly wins.
func (f *commonFlags) load() (config.Config, error) {
	env := os.Environ()
	// Flags are applied as env overrides so they pass through the same
	// parsing, defaults and validation as everything else.
	set := func(key, v string) {
		if v != "" {
			env = append(env, config.EnvName(key)+"="+v)
		}
	}
	set("bus.brokers", f.kafka)
	if f.es != "" {
		set("store.kind", "elasticsearch")
		set("store.elasticsearch", f.es)
	}
	set("ingest.source", f.source)
	set("http.addr", f.httpAddr)
	set("data_dir", f.dataDir)
	set("log.level", f.logLevel)
	set("ops.addr", f.metricsAddr)
	if f.speed >= 0 {
		set("ingest.speed", fmt.Sprint(f.speed))
	}
	return config.Load(f.configPath, env)
}

func newFlagSet(name, doc string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("vigie "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: vigie %s [flags]\n\n%s\n\nFlags:\n", name, doc)
		fs.PrintDefaults()
	}
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %q\n", fs.Args())
		return errUsage
	}
	return nil
}

func runStages(ctx context.Context, name string, args, stages []string, exitWhenIngested bool, stdout, stderr io.Writer, doc string) error {
	fs := newFlagSet(name, doc, stderr)
	var cf commonFlags
	cf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	log := NewLogger(cfg.Log, stderr)
	o := Options{Config: cfg, Stages: stages, ExitWhenIngested: exitWhenIngested, Log: log}
	if !cf.quiet {
		o.Progress = stdout
	}
	o.OnReady = func(addr string) {
		if addr != "" {
			fmt.Fprintf(stdout, "Vigie is up: http://%s (API: http://%s/api/clusters). Ctrl-C stops it cleanly.\n", addr, addr)
		}
	}
	start := time.Now()
	err = Run(ctx, o)
	log.Info("stopped", "after", time.Since(start).Round(time.Millisecond), "err", err)
	return err
}

// NewLogger builds the process logger from configuration.
func NewLogger(c config.Log, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func gen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("gen", "Write a deterministic election scenario modelled on the 2017 French presidential\nrace: organic users, viral cascades and planted coordinated networks. Writes\nDIR/posts.jsonl (replay it with 'vigie run --source') and DIR/truth.json (the\nplanted networks). The same flags always give byte-identical files.", stderr)
	out := fs.String("out", "scenario", "output directory")
	compact := fs.Bool("compact", false, "the compact scenario bundled in testdata/scenario")
	seed := fs.Uint64("seed", 0, "random seed (0 = the scenario's default seed)")
	users := fs.Int("users", 0, "organic users (0 = the scenario's default)")
	preset := fs.String("preset", "", "a named scenario: "+strings.Join(scenario.Presets, ", ")+" (docs/evaluation.md)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg := scenario.Default()
	if *compact {
		cfg = scenario.Compact()
	}
	if *preset != "" {
		c, err := scenario.Preset(*preset)
		if err != nil {
			return err
		}
		cfg = c
	}
	if *seed != 0 {
		cfg.Seed = *seed
	}
	if *users != 0 {
		cfg.OrganicUsers = *users
	}
	start := time.Now()
	truth, err := scenario.WriteFiles(ctx, cfg, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d posts by %d accounts with %d planted networks to %s in %s\n",
		truth.Posts, truth.Accounts, len(truth.Networks), *out, time.Since(start).Round(time.Millisecond))
	return nil
}

func configCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, "Usage: vigie config check [--config FILE] [--print] [--keys]")
		return errUsage
	}
	fs := newFlagSet("config check", "Validate the configuration (file, then VIGIE_* environment variables) and\nreport every wrong key at once. Exit status 1 when invalid.", stderr)
	path := fs.String("config", "", "YAML configuration file")
	print := fs.Bool("print", false, "print the effective configuration, defaults filled in")
	keys := fs.Bool("keys", false, "list every key with its environment variable")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *keys {
		for _, k := range config.Keys() {
			fmt.Fprintf(stdout, "%-28s %s\n", k, config.EnvName(k))
		}
		return nil
	}
	cfg, err := config.Load(*path, os.Environ())
	if err != nil {
		return fmt.Errorf("configuration invalid:\n  %s", strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	if *print {
		b, err := cfg.YAML()
		if err != nil {
			return err
		}
		stdout.Write(b)
		return nil
	}
	fmt.Fprintln(stdout, "configuration valid")
	if err := cfg.HTTP.CheckExposure(); err != nil {
		// Valid for the stages that serve no HTTP; say it before a deploy.
		fmt.Fprintf(stdout, "note: vigie serve and vigie run will refuse to start: %v\n", err)
	}
	return nil
}
