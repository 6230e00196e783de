package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/vigie-osint/vigie/config"
	"github.com/vigie-osint/vigie/eval"
	"github.com/vigie-osint/vigie/pipeline"
	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/scenario"
	"github.com/vigie-osint/vigie/store"
)

const evalDoc = `Rate Vigie's output against the answer key of a synthetic scenario (see
'vigie gen'): account-level precision, recall and F1, adjusted Rand index and
NMI of the clusters, stance accuracy, time to detection of each planted
network and false alerts per simulated day. docs/evaluation.md explains them.

By default it replays --scenario (DIR/posts.jsonl) through every stage on the
embedded broker and store in a temporary directory, waits until everything is
graphed and indexed, and scores what was stored against DIR/truth.json. With
--data-dir it scores an existing store instead (of a run on that scenario).`

// evalCmd is `vigie eval`.
func evalCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := newFlagSet("eval", evalDoc, stderr)
	dir := fl.String("scenario", "testdata/scenario", "scenario directory holding posts.jsonl and truth.json")
	truthPath := fl.String("truth", "", "answer key (default: SCENARIO/truth.json)")
	asJSON := fl.Bool("json", false, "print the report as JSON instead of tables")
	timeout := fl.Duration("timeout", 15*time.Minute, "give up a replay that has not settled after this long")
	keep := fl.String("keep", "", "replay into this new directory and keep its store (score it again, or inspect it, with --data-dir)")
	var cf commonFlags
	fl.StringVar(&cf.configPath, "config", "", "YAML configuration file (detection settings; its store with --data-dir)")
	fl.StringVar(&cf.dataDir, "data-dir", "", "score the existing embedded store in this directory instead of replaying")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	if *truthPath == "" {
		*truthPath = filepath.Join(*dir, "truth.json")
	}
	truth, err := readTruth(*truthPath)
	if err != nil {
		return err
	}

	var clusters []post.Cluster
	var alerts []post.Alert
	var cfg config.Config
	if cf.dataDir != "" {
		if cfg, err = cf.load(); err != nil {
			return err
		}
		st, err := openExistingStore(ctx, cfg, stderr)
		if err != nil {
			return err
		}
		clusters, alerts, err = readOutput(ctx, st)
		st.Close()
		if err != nil {
			return err
		}
	} else {
		tmp := *keep
		if tmp == "" {
			if tmp, err = os.MkdirTemp("", "vigie-eval-"); err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
		} else if err := os.Mkdir(tmp, 0o755); err != nil {
			return fmt.Errorf("--keep: %w", err) // a fresh directory: never score an older run's leftovers
		}
		cf.dataDir = tmp
		cf.source = filepath.Join(*dir, "posts.jsonl")
		cf.httpAddr = "127.0.0.1:0"
		cf.speed = 0
		if _, err := os.Stat(cf.source); err != nil {
			return fmt.Errorf("scenario: %w", err)
		}
		if cfg, err = cf.load(); err != nil {
			return err
		}
		cfg.Ops.Addr = "" // no metrics endpoint for a private run
		began := time.Now()
		if err := replayScenario(ctx, cfg, truth.Posts, *timeout, NewLogger(config.Log{Level: "warn", Format: cfg.Log.Format}, stderr)); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "vigie eval: replayed %d posts through every stage in %s\n", truth.Posts, time.Since(began).Round(time.Millisecond))
		st, err := openExistingStore(ctx, cfg, stderr)
		if err != nil {
			return err
		}
		clusters, alerts, err = readOutput(ctx, st)
		st.Close()
		if err != nil {
			return err
		}
	}

	r := eval.Evaluate(truth, clusters, alerts)
	// Reaction time needs the stream: when did each network's own
	// co-actions first suffice? Only from the answer key's own scenario
	// (--truth elsewhere may belong to other posts), and skipped with a
	// note when its posts are not at hand.
	switch {
	case filepath.Clean(*truthPath) != filepath.Join(*dir, "truth.json"):
		fmt.Fprintf(stderr, "vigie eval: no reaction time: --truth is not %s\n", filepath.Join(*dir, "truth.json"))
	default:
		if times, err := evidenceTimes(filepath.Join(*dir, "posts.jsonl"), truth, cfg); err == nil {
			r.AddEvidence(times)
		} else {
			fmt.Fprintf(stderr, "vigie eval: no reaction time: %v\n", err)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return eval.WriteTable(stdout, r)
}

func readTruth(path string) (scenario.Truth, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return scenario.Truth{}, fmt.Errorf("truth: %w", err)
	}
	return parseTruth(path, b)
}

// parseTruth decodes and checks an answer key; path names it in errors.
func parseTruth(path string, b []byte) (scenario.Truth, error) {
	var t scenario.Truth
	if err := json.Unmarshal(b, &t); err != nil {
		return t, fmt.Errorf("truth %s: %w", path, err)
	}
	if t.End.Before(t.Start) {
		return t, fmt.Errorf("truth %s: field end (%s) before start (%s)", path, t.End, t.Start)
	}
	for i, n := range t.Networks {
		if len(n.Members) == 0 {
			return t, fmt.Errorf("truth %s: networks[%d] (%q): field members is empty", path, i, n.Name)
		}
	}
	return t, nil
}

// readOutput loads every stored cluster (all statuses: alerts and
// detection times refer to merged and expired ones too) and every alert.
func readOutput(ctx context.Context, r store.Reader) ([]post.Cluster, []post.Alert, error) {
	clusters, err := readClusters(ctx, r, store.ClusterQuery{Status: store.StatusAll})
	if err != nil {
		return nil, nil, fmt.Errorf("reading clusters: %w", err)
	}
	var alerts []post.Alert
	q := store.AlertQuery{Limit: store.MaxLimit}
	for {
		page, err := r.ListAlerts(ctx, q)
		if err != nil {
			return nil, nil, fmt.Errorf("reading alerts: %w", err)
		}
		alerts = append(alerts, page...)
		if len(page) < q.Limit {
			return clusters, alerts, nil
		}
		q.Offset += len(page)
	}
}

// replayScenario runs every stage on cfg until the whole source has been
// graphed and indexed and the store has stopped changing (the graph
// stage's idle detection and its indexing included), then stops them
// cleanly. It watches the store through the HTTP API, as a user would,
// since the store is open in Run.
func replayScenario(ctx context.Context, cfg config.Config, posts int, timeout time.Duration, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stats := &pipeline.Stats{}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Config: cfg, Stats: stats, Log: log, OnReady: func(a string) { ready <- a }})
	}()
	var url string
	select {
	case a := <-ready:
		url = "http://" + a + "/api/stats"
	case err := <-done:
		return fmt.Errorf("pipeline ended before it was ready: %w", err)
	case <-ctx.Done():
		return ctx.Err()
	}
	stop := func() error {
		cancel()
		return <-done
	}
	deadline := time.Now().Add(timeout)
	var last store.Stats
	stableSince := time.Now()
	for {
		st, err := storeStats(ctx, url)
		if err != nil {
			stop()
			return err
		}
		if st != last {
			last, stableSince = st, time.Now()
		}
		if stats.IngestDone.Load() && stats.EnginePosts.Load() == int64(posts) && st.Posts == int64(posts) && time.Since(stableSince) > 4*time.Second {
			if err := stop(); err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
			return nil
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("pipeline did not settle within %s: ingested %d, graph engine holds %d of %d posts, store %+v",
				timeout, stats.Ingested.Load(), stats.EnginePosts.Load(), posts, last)
		}
		select {
		case err := <-done:
			if err == nil {
				err = errors.New("no error")
			}
			return fmt.Errorf("pipeline stopped before settling: %w", err)
		case <-ctx.Done():
			stop()
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func storeStats(ctx context.Context, url string) (store.Stats, error) {
	var st struct {
		Store store.Stats `json:"store"`
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return st.Store, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return st.Store, fmt.Errorf("watching the pipeline: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return st.Store, fmt.Errorf("watching the pipeline: GET %s: %s", url, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		return st.Store, fmt.Errorf("watching the pipeline: %w", err)
	}
	return st.Store, nil
}

// evidenceTimes streams the scenario's posts through eval.Evidence with
// the graph settings of the run (window, min_weight, signals).
func evidenceTimes(path string, truth scenario.Truth, cfg config.Config) (map[string]time.Time, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var kinds []post.Kind
	for _, s := range cfg.Graph.Signals {
		kinds = append(kinds, post.Kind(s))
	}
	ev := eval.NewEvidence(truth, cfg.Graph.Window.D(), cfg.Graph.MinWeight, cfg.Graph.MinClusterSize, kinds)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 16<<20)
	for line := 1; sc.Scan(); line++ {
		p, err := post.DecodePost(fmt.Sprintf("%s:%d", path, line), sc.Bytes())
		if err != nil {
			return nil, err
		}
		ev.Add(&p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ev.Times(truth), nil
}
