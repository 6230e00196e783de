package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vigie-osint/vigie/config"
	"github.com/vigie-osint/vigie/eval"
	"github.com/vigie-osint/vigie/pipeline"
	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/scenario"
	"github.com/vigie-osint/vigie/store"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// database/sql's connection opener lives as long as the *sql.DB;
		// the store closes it, but the goroutine exits asynchronously.
		goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"),
	)
}

const bundled = "../testdata/scenario"

func loadTruth(t *testing.T) scenario.Truth {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(bundled, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var truth scenario.Truth
	if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatal(err)
	}
	return truth
}

func testConfig(t *testing.T, dataDir string) config.Config {
	t.Helper()
	env := []string{
		"VIGIE_DATA_DIR=" + dataDir,
		"VIGIE_INGEST_SOURCE=" + filepath.Join(bundled, "posts.jsonl"),
		"VIGIE_HTTP_ADDR=127.0.0.1:0",
		"VIGIE_GRAPH_CHECKPOINT_EVERY=500ms",
	}
	cfg, err := config.Parse(strings.NewReader(""), env)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// runner runs the whole pipeline in the background.
type runner struct {
	stats  *pipeline.Stats
	addr   chan string
	done   chan error
	cancel context.CancelFunc
	url    string
}

func start(t *testing.T, cfg config.Config) *runner {
	t.Helper()
	return startWith(t, cfg, func(*Options) {})
}

func (r *runner) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("Run returned %v on a clean stop", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not stop within 60 s of its context ending")
	}
}

// waitSettled waits until the source is read, every post is graphed and
// indexed, and the store has not changed for a few seconds (the idle
// detection and its indexing have run).
func (r *runner) waitSettled(t *testing.T, posts int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	var last store.Stats
	stableSince := time.Now()
	for time.Now().Before(deadline) {
		var st struct {
			Store store.Stats `json:"store"`
		}
		getJSON(t, r.url+"/api/stats", &st)
		if st.Store != last {
			last, stableSince = st.Store, time.Now()
		}
		if r.stats.IngestDone.Load() && r.stats.EnginePosts.Load() == int64(posts) && st.Store.Posts == int64(posts) &&
			st.Store.ActiveClusters > 0 && time.Since(stableSince) > 4*time.Second {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Errorf("pipeline did not settle: ingested %d, graph engine holds %d posts, store %+v", r.stats.Ingested.Load(), r.stats.EnginePosts.Load(), last)
	r.stop(t) // logs the graph engine's figures
	t.FailNow()
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// clusters returns the active clusters as ID → sorted members, read
// through the public API exactly as a user would.
func (r *runner) clusters(t *testing.T) map[string][]string {
	t.Helper()
	var list struct {
		Clusters []store.ClusterSummary `json:"clusters"`
	}
	getJSON(t, r.url+"/api/clusters?limit=1000", &list)
	out := map[string][]string{}
	for _, s := range list.Clusters {
		var c post.Cluster
		getJSON(t, r.url+"/api/clusters/"+s.ID, &c)
		members := slices.Clone(c.Members)
		slices.Sort(members)
		out[c.ID] = members
	}
	return out
}

func memberLists(cs map[string][]string) [][]string {
	var out [][]string
	for _, m := range cs {
		out = append(out, m)
	}
	return out
}

// TestEndToEnd replays the bundled scenario through the embedded broker,
// every stage and the embedded store, and checks through the HTTP API that
// the planted networks are found. It then replays it again with a stop
// and restart in the middle and checks that nothing was lost and the same
// clusters come out.
func TestEndToEnd(t *testing.T) {
	skipFullReplayUnderRace(t)
	truth := loadTruth(t)
	began := time.Now()
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	// The same replay feeds a webhook receiver and writes the daily
	// briefings (alerts_e2e_test.go): one replay, not one per feature.
	hooks := newAlertsE2E(t, truth, &cfg)
	r := startWith(t, cfg, hooks.hook)
	r.waitSettled(t, truth.Posts)
	elapsed := time.Since(began)
	want := r.clusters(t)
	score := truth.Score(memberLists(want))
	t.Logf("e2e: %d posts in %s (%.0f posts/s end to end), %d clusters, account precision %.3f recall %.3f F1 %.3f",
		truth.Posts, elapsed.Round(time.Millisecond), float64(truth.Posts)/elapsed.Seconds(), len(want), score.Precision, score.Recall, score.F1)
	if score.Precision < 0.9 || score.Recall < 0.9 {
		t.Errorf("account-level precision %.3f recall %.3f; want both >= 0.9", score.Precision, score.Recall)
	}
	var alerts struct {
		Alerts []post.Alert `json:"alerts"`
	}
	getJSON(t, r.url+"/api/alerts?limit=1000", &alerts)
	if len(alerts.Alerts) == 0 {
		t.Error("no alert raised on a scenario with planted networks")
	}
	t.Run("AlertsAndBriefings", func(t *testing.T) {
		hooks.wait(t)
		hooks.check(t, r, r.clusters(t))
	})
	r.stop(t)

	t.Run("EvalDataDir", func(t *testing.T) {
		// `vigie eval --data-dir` on the store this run left behind.
		var out, errOut bytes.Buffer
		if code := Main(context.Background(), []string{"eval", "--data-dir", dir, "--truth", filepath.Join(bundled, "truth.json"), "--json"}, &out, &errOut); code != 0 {
			t.Fatalf("eval exit %d: %s", code, errOut.String())
		}
		var rep eval.Report
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("%v: %s", err, out.String())
		}
		t.Logf("eval: P %.3f R %.3f F1 %.3f ARI %.3f NMI %.3f stance %d/%d detected %d/%d median TTD %.0fs false alerts/day %.2f",
			rep.Precision, rep.Recall, rep.F1, rep.AdjustedRand, rep.NMI, rep.StanceCorrect, rep.StanceJudged, rep.Detected, len(rep.Networks), rep.MedianTTDSecond, rep.FalseAlertsPerDay)
		if rep.Precision < 0.9 || rep.Recall < 0.9 || rep.Detected != len(rep.Networks) || rep.FalseAlertsPerDay != 0 {
			t.Errorf("eval of the run's store: %+v", rep)
		}
		if rep.Precision != score.Precision || rep.Recall != score.Recall {
			t.Errorf("eval P/R %.3f/%.3f disagree with the API's %.3f/%.3f", rep.Precision, rep.Recall, score.Precision, score.Recall)
		}
	})

	t.Run("StopAndRestartMidStream", func(t *testing.T) {
		dir := t.TempDir()
		cfg := testConfig(t, dir)
		cfg.Ingest.Speed = 0
		r1 := start(t, cfg)
		// Stop once part of the stream has gone through the graph stage.
		deadline := time.Now().Add(2 * time.Minute)
		for r1.stats.Graphed.Load() < int64(truth.Posts)/3 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		stoppedAt := r1.stats.Graphed.Load()
		r1.stop(t)
		if stoppedAt == 0 || stoppedAt >= int64(truth.Posts) {
			t.Fatalf("stopped after %d of %d posts: not mid-stream", stoppedAt, truth.Posts)
		}
		r2 := start(t, cfg)
		r2.waitSettled(t, truth.Posts) // every post in the store: nothing lost
		got := r2.clusters(t)
		r2.stop(t)
		t.Logf("e2e restart: stopped after %d of %d posts; %d clusters after restart, %d uninterrupted", stoppedAt, truth.Posts, len(got), len(want))
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("clusters after a restart differ from an uninterrupted run:\n got %v\nwant %v", got, want)
		}
	})
}

// skipFullReplayUnderRace skips a test that replays the whole bundled
// scenario when the race detector is compiled in. Under -race the graph
// stage runs about ten times slower, and one replay alone took over ten
// minutes on 2 cores; `make test` therefore runs these tests in a second
// pass without -race, after the race pass over every package (whose own
// pipeline tests run the same stages on the embedded broker under -race).
func skipFullReplayUnderRace(t *testing.T) {
	t.Helper()
	if raceDetector {
		t.Skip("full-scenario replay: make test runs it without -race in its second pass (go test -run 'TestEndToEnd|TestEvalReplaysBundledScenario' ./app)")
	}
}

// testWriter sends the pipeline's log lines of interest to the test log,
// so a failure shows what the stages said.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	if line := string(b); strings.Contains(line, "graph") || strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
		w.t.Log(strings.TrimSpace(line))
	}
	return len(b), nil
}
