// Command vigieload is Vigie's load test (issue 11): sustained ingest at
// twice the measured end-to-end throughput, on the embedded default
// (`vigie run`: in-process broker, SQLite store, every stage), for a fixed
// duration; then it stops the load and waits for the consumer lag to drain.
// bench/load.sh builds and runs it; `make bench` calls that.
//
// What it checks and reports:
//
//   - memory stays bounded under a backlog that grows for the whole load:
//     the largest live Go heap (go_gc_heap_live_bytes, what the last GC
//     marked) of the last third of the load is within
//     LOAD_HEAP_TOLERANCE (25%) of the middle third's; heap in use and
//     RSS are reported beside it, but they swing with GC timing;
//   - the consumer lag of the graph and index stages returns to about
//     zero (at most two batches) within LOAD_DRAIN_MAX after the load
//     stops. By default the limit is what draining the backlog left when
//     the load stopped takes at half the end-to-end throughput measured
//     first, plus 2 minutes: the pipeline must work its backlog off at a
//     rate comparable to a fresh one's, so the state the load built up
//     must not have slowed it down. (A limit fixed in advance cannot
//     work: at twice the throughput, with ingest taking part of the same
//     cores, the backlog grows by more than the throughput for the whole
//     load, and the time it takes to drain grows with it.)
//
// The posts come from the scenario generator with a fixed seed
// (scenario.Compact: 26,532 posts over 4 days), replayed in cycles: each
// cycle renames its posts (and the posts they repost, reply to or
// quote) and shifts them by the scenario's span plus an hour, so the
// stream is new posts in increasing event time, as a live source is. It is
// written to a FIFO that `vigie run --source` reads, at a constant rate in
// 10 ms ticks.
//
// The rate is LOAD_RATE posts/s if set; otherwise twice the end-to-end
// throughput measured first, in the same run, by replaying the bundled
// scenario (testdata/scenario) into the store. Every LOAD_SAMPLE (5 s) it
// scrapes the process's /metrics: RSS, Go heap in use, lag of the graph
// and index groups on the posts topic, posts ingested and stored. It
// prints a table, and with -doc writes a section into docs/benchmarks.md
// between <!-- load:begin --> and <!-- load:end --> (replaced each run).
// The exit status is 1 if a check failed.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/scenario"
)

func main() {
	bin := flag.String("vigie", "bin/vigie", "vigie binary")
	bundled := flag.String("bundled", "testdata/scenario/posts.jsonl", "scenario replayed to measure the end-to-end throughput")
	doc := flag.String("doc", "", "write the results into this markdown file (docs/benchmarks.md) between load markers")
	flag.Parse()
	code, err := run(*bin, *bundled, *doc)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vigieload:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

func envDur(name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			fmt.Fprintf(os.Stderr, "vigieload: %s=%q: %v\n", name, v, err)
			os.Exit(2)
		}
		return d
	}
	return def
}

func envFloat(name string, def float64) float64 {
	if v := os.Getenv(name); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			fmt.Fprintf(os.Stderr, "vigieload: %s=%q: %v\n", name, v, err)
			os.Exit(2)
		}
		return f
	}
	return def
}

// proc is a `vigie run` child with its HTTP address.
type proc struct {
	cmd  *exec.Cmd
	url  string
	done chan error
	dir  string
	ops  string // ops address with /debug/pprof/, when LOAD_PROFILE is set
}

// profile saves one profile of the running process (path under
// /debug/pprof/ on its ops address) as dir/name: LOAD_PROFILE, to see
// where the time and memory go once the state has grown.
func (p *proc) profile(dir, name, path string) {
	err := os.MkdirAll(dir, 0o755)
	var res *http.Response
	if err == nil {
		res, err = http.Get(p.ops + "/debug/pprof/" + path)
	}
	if err == nil {
		var out *os.File
		if out, err = os.Create(filepath.Join(dir, name)); err == nil {
			_, err = io.Copy(out, res.Body)
			err = errors.Join(err, out.Close())
		}
		res.Body.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vigieload: profile:", err)
		return
	}
	fmt.Printf("profile written to %s\n", filepath.Join(dir, name))
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startVigie starts `vigie run` on source; with profiles, it also serves
// runtime profiles on an ops address (ops.pprof).
func startVigie(bin, source string, profiles bool) (*proc, error) {
	dir, err := os.MkdirTemp("", "vigieload-")
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "vigie.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "run", "--data-dir", filepath.Join(dir, "var"), "--http", addr, "--source", source, "--quiet", "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = logf, logf
	var opsURL string
	if profiles {
		// Profiles come from the ops address (ops.pprof), never the UI's.
		oaddr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		cmd.Env = append(os.Environ(), "VIGIE_OPS_ADDR="+oaddr, "VIGIE_OPS_PPROF=true")
		opsURL = "http://" + oaddr
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, url: "http://" + addr, ops: opsURL, done: make(chan error, 1), dir: dir}
	go func() { p.done <- cmd.Wait(); logf.Close() }()
	return p, nil
}

func (p *proc) stop() error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		os.RemoveAll(p.dir)
		return err
	case <-time.After(90 * time.Second):
		p.cmd.Process.Kill()
		return errors.New("vigie did not stop within 90 s of SIGTERM")
	}
}

var metricLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$`)

// scrape reads /metrics into name{labels} → value.
func scrape(url string) (map[string]float64, error) {
	c := http.Client{Timeout: 10 * time.Second}
	res, err := c.Get(url + "/metrics")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", res.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if m := metricLine.FindStringSubmatch(sc.Text()); m != nil {
			if v, err := strconv.ParseFloat(m[2], 64); err == nil {
				out[m[1]] = v
			}
		}
	}
	return out, sc.Err()
}

func storedPosts(url string) (int64, error) {
	c := http.Client{Timeout: 10 * time.Second}
	res, err := c.Get(url + "/api/stats")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	var st struct {
		Store struct {
			Posts int64 `json:"posts"`
		} `json:"store"`
	}
	return st.Store.Posts, json.NewDecoder(res.Body).Decode(&st)
}

func waitUp(p *proc, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			return fmt.Errorf("vigie exited: %v (log in %s)", err, p.dir)
		default:
		}
		if _, err := scrape(p.url); err == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("vigie not up after %s", limit)
}

// measureBaseline replays the bundled scenario and returns the end-to-end
// throughput into the store, in posts/s.
func measureBaseline(bin, source string) (float64, int, time.Duration, error) {
	n, err := countLines(source)
	if err != nil {
		return 0, 0, 0, err
	}
	began := time.Now()
	p, err := startVigie(bin, source, false)
	if err != nil {
		return 0, 0, 0, err
	}
	defer p.stop()
	if err := waitUp(p, 2*time.Minute); err != nil {
		return 0, 0, 0, err
	}
	deadline := time.Now().Add(15 * time.Minute)
	for time.Now().Before(deadline) {
		m, err := scrape(p.url)
		if err == nil && m["vigie_graph_engine_posts"] >= float64(n) {
			if s, err := storedPosts(p.url); err == nil && s >= int64(n) {
				d := time.Since(began)
				return float64(n) / d.Seconds(), n, d, nil
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	return 0, 0, 0, errors.New("baseline replay did not finish in 15 minutes")
}

func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			n++
		}
	}
	return n, sc.Err()
}

// feed writes the cycled scenario to w at rate posts/s until ctx ends,
// and returns how many posts it wrote. When the reader (ingest) does not
// keep up, writes block on the FIFO; the feed then sends at most four
// ticks' worth at a time and does not catch up later, so the offered
// rate is the lower of rate and what ingest takes, and the feed stops
// within a tick of ctx's end.
func feed(ctx context.Context, w io.Writer, base []post.Post, span time.Duration, rate float64) (int64, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	const tick = 10 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	began := time.Now()
	var sent int64
	i, cycle := 0, 0
	suffix := func(id string) string {
		if id == "" || cycle == 0 {
			return id
		}
		return id + "-c" + strconv.Itoa(cycle)
	}
	for {
		select {
		case <-ctx.Done():
			return sent, bw.Flush()
		case <-t.C:
		}
		due := int64(rate * time.Since(began).Seconds())
		burst := int64(4*rate*tick.Seconds()) + 1
		if due-sent > burst {
			due = sent + burst
		}
		for sent < due {
			p := base[i]
			shift := time.Duration(cycle) * (span + time.Hour)
			p.ID, p.RepostOf, p.ReplyTo, p.QuoteOf = suffix(p.ID), suffix(p.RepostOf), suffix(p.ReplyTo), suffix(p.QuoteOf)
			p.Time = p.Time.Add(shift)
			if p.Account != nil {
				a := *p.Account
				if !a.ObservedAt.IsZero() {
					a.ObservedAt = a.ObservedAt.Add(shift)
				}
				p.Account = &a
			}
			b, err := post.Marshal(&p)
			if err != nil {
				return sent, err
			}
			bw.Write(b)
			if err := bw.WriteByte('\n'); err != nil {
				return sent, err
			}
			sent++
			if i++; i == len(base) {
				i, cycle = 0, cycle+1
			}
		}
		if err := bw.Flush(); err != nil {
			return sent, err
		}
	}
}

type sample struct {
	at                time.Duration
	rss, heap, live   float64 // bytes: resident, heap in use, heap live after the last GC
	lagGraph, lagIdx  float64
	ingested, indexed float64
}

// peak raises a's memory figures to b's where b's are higher.
func (a *sample) peak(b sample) {
	a.heap, a.rss, a.live = max(a.heap, b.heap), max(a.rss, b.rss), max(a.live, b.live)
}

func run(bin, bundled, doc string) (int, error) {
	duration := envDur("LOAD_DURATION", 10*time.Minute)
	every := envDur("LOAD_SAMPLE", 5*time.Second)
	drainMax := envDur("LOAD_DRAIN_MAX", 0) // 0: from the backlog, below
	tolerance := envFloat("LOAD_HEAP_TOLERANCE", 0.25)
	rate := envFloat("LOAD_RATE", 0)
	profDir := os.Getenv("LOAD_PROFILE")
	load0 := loadAvg()

	var baseRate float64
	var baseN int
	var baseD time.Duration
	if rate <= 0 {
		var err error
		fmt.Printf("measuring the end-to-end throughput: replaying %s on the embedded default...\n", bundled)
		baseRate, baseN, baseD, err = measureBaseline(bin, bundled)
		if err != nil {
			return 0, err
		}
		rate = 2 * baseRate
		fmt.Printf("end to end: %d posts into the store in %s (%.0f posts/s); load rate %.0f posts/s\n", baseN, baseD.Round(time.Millisecond), baseRate, rate)
	}

	// The scenario, generated with its fixed seed.
	var base []post.Post
	truth, err := scenario.Generate(scenario.Compact(), func(p *post.Post) error { base = append(base, *p); return nil })
	if err != nil {
		return 0, err
	}
	span := truth.End.Sub(truth.Start)

	dir, err := os.MkdirTemp("", "vigieload-fifo-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	fifo := filepath.Join(dir, "posts.jsonl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		return 0, fmt.Errorf("mkfifo: %w", err)
	}
	p, err := startVigie(bin, fifo, profDir != "")
	if err != nil {
		return 0, err
	}
	defer p.stop()
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // blocks until ingest opens it
	if err != nil {
		return 0, err
	}
	if err := waitUp(p, 2*time.Minute); err != nil {
		return 0, err
	}

	fmt.Printf("load: %.0f posts/s for %s (scenario %d posts per cycle, seed %d), samples every %s\n", rate, duration, len(base), truth.Seed, every)
	fmt.Println("|   t | RSS MB | heap MB | live MB | lag graph | lag index | ingested | indexed records |")
	fmt.Println("|----:|-------:|--------:|--------:|----------:|----------:|---------:|----------------:|")
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	fed := make(chan error, 1)
	var sent int64
	go func() {
		var err error
		sent, err = feed(ctx, w, base, span, rate)
		fed <- errors.Join(err, w.Close())
	}()
	began := time.Now()
	if profDir != "" {
		// Profile the last third of the load, when the state is largest.
		go func() {
			select {
			case <-time.After(duration * 2 / 3):
				p.profile(profDir, "cpu.pprof", "profile?seconds=30")
				p.profile(profDir, "heap.pprof", "heap")
			case <-ctx.Done():
			}
		}()
	}
	var samples []sample
	take := func() (sample, error) {
		m, err := scrape(p.url)
		if err != nil {
			return sample{}, err
		}
		s := sample{at: time.Since(began), rss: m["process_resident_memory_bytes"], heap: m["go_memstats_heap_inuse_bytes"], live: m["go_gc_heap_live_bytes"],
			lagGraph: m[`vigie_consumer_lag_records{group="vigie-graph",topic="vigie.posts"}`],
			lagIdx:   m[`vigie_consumer_lag_records{group="vigie-index",topic="vigie.posts"}`],
			ingested: m["vigie_ingest_posts_total"], indexed: m["vigie_index_records_total"]}
		return s, nil
	}
	print := func(s sample) {
		fmt.Printf("| %4.0fs | %6.0f | %7.0f | %7.0f | %9.0f | %9.0f | %8.0f | %15.0f |\n", s.at.Seconds(), s.rss/1e6, s.heap/1e6, s.live/1e6, s.lagGraph, s.lagIdx, s.ingested, s.indexed)
	}
	tk := time.NewTicker(every)
	defer tk.Stop()
loading:
	for {
		select {
		case err := <-fed:
			if err != nil {
				return 0, fmt.Errorf("feeding the FIFO: %w", err)
			}
			break loading
		case err := <-p.done:
			cancel()
			return 0, fmt.Errorf("vigie exited under load: %v (log in %s)", err, p.dir)
		case <-tk.C:
			s, err := take()
			if err != nil {
				fmt.Fprintln(os.Stderr, "vigieload: scrape:", err)
				continue
			}
			samples = append(samples, s)
			print(s)
		}
	}
	cancel()
	loadEnd := time.Since(began)
	if profDir != "" {
		p.profile(profDir, "heap-end.pprof", "heap?gc=1")
	}
	fmt.Printf("load stopped after %s: %d posts sent (%.0f posts/s)\n", loadEnd.Round(time.Millisecond), sent, float64(sent)/loadEnd.Seconds())

	// Drain: the lag of both groups back to at most two batches.
	backlog := 0.0
	if len(samples) > 0 {
		l := samples[len(samples)-1]
		backlog = max(l.lagGraph, l.lagIdx) + max(0, float64(sent)-l.ingested)
	}
	if drainMax <= 0 {
		fresh := baseRate
		if fresh <= 0 {
			fresh = rate / 2 // LOAD_RATE given: twice the throughput, by definition
		}
		drainMax = time.Duration(2*backlog/fresh*float64(time.Second)) + 2*time.Minute
	}
	fmt.Printf("backlog %.0f posts; drain limit %s\n", backlog, drainMax.Round(time.Second))
	drained := time.Duration(-1)
	var last sample
	var drainPeak sample
	for time.Since(began)-loadEnd < drainMax {
		select {
		case err := <-p.done:
			return 0, fmt.Errorf("vigie exited while draining: %v", err)
		case <-tk.C:
		}
		s, err := take()
		if err != nil {
			continue
		}
		last = s
		drainPeak.peak(s)
		print(s)
		if s.ingested >= float64(sent) && s.lagGraph <= 1000 && s.lagIdx <= 1000 {
			drained = s.at - loadEnd
			break
		}
	}

	// Memory: last third of the load against the middle third.
	var mid, end sample
	for _, s := range samples {
		switch {
		case s.at >= 2*loadEnd/3:
			end.peak(s)
		case s.at >= loadEnd/3:
			mid.peak(s)
		}
	}
	var maxLag float64
	for _, s := range samples {
		maxLag = max(maxLag, s.lagGraph, s.lagIdx)
	}
	// The check reads the live heap: heap in use also counts garbage the
	// next GC frees, and swings with GC timing by up to GOGC (100%).
	heapOK := mid.live > 0 && end.live <= (1+tolerance)*mid.live
	drainOK := drained >= 0
	load1 := loadAvg()
	verdict := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "**no**"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Run %s on %d cores (%s), Go %s; load average %s before, %s after.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.NumCPU(), cpuModel(), runtime.Version(), load0, load1)
	if baseRate > 0 {
		fmt.Fprintf(&b, "End-to-end throughput measured first in the same run: the bundled scenario (%d posts) into the store in %.1f s, **%.0f posts/s**; load rate twice that.\n\n",
			baseN, baseD.Seconds(), baseRate)
	}
	offered := float64(sent) / loadEnd.Seconds()
	fmt.Fprintf(&b, "| target rate | offered (ingest took) | duration | posts sent | live heap, max of middle → last third | heap in use, same | RSS, same | bounded (live ≤ +%.0f%%) | backlog at stop | lag ≤ 1,000 again after | drain rate | within %s | peak live / in use / RSS while draining |\n", 100*tolerance, drainMax.Round(time.Second))
	fmt.Fprintf(&b, "|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---:|\n")
	drainText, rateText := "not within the limit", "—"
	if drainOK {
		drainText = fmt.Sprintf("%.0f s", drained.Seconds())
		rateText = fmt.Sprintf("%.0f posts/s", backlog/max(drained.Seconds(), 1))
	}
	fmt.Fprintf(&b, "| %.0f posts/s | %.0f posts/s | %s | %d | %.0f → %.0f MB (%+.0f%%) | %.0f → %.0f MB (%+.0f%%) | %.0f → %.0f MB (%+.0f%%) | %s | %.0f (max lag %.0f) | %s | %s | %s | %.0f / %.0f / %.0f MB |\n\n",
		rate, offered, loadEnd.Round(time.Second), sent, mid.live/1e6, end.live/1e6, 100*(end.live/mid.live-1), mid.heap/1e6, end.heap/1e6, 100*(end.heap/mid.heap-1), mid.rss/1e6, end.rss/1e6, 100*(end.rss/mid.rss-1),
		verdict(heapOK), backlog, maxLag, drainText, rateText, verdict(drainOK), drainPeak.live/1e6, drainPeak.heap/1e6, drainPeak.rss/1e6)
	if offered < 0.95*rate {
		fmt.Fprintf(&b, "Ingest took %.0f%% of the target rate: on this machine the ingest stage shares the cores with the graph and index stages, and the FIFO pushed back.\n\n", 100*offered/rate)
	}
	fmt.Fprintf(&b, "| t | RSS MB | heap in use MB | live heap MB | lag graph | lag index | ingested |\n|---:|---:|---:|---:|---:|---:|---:|\n")
	step := max(1, len(samples)/10)
	for i := 0; i < len(samples); i += step {
		s := samples[i]
		fmt.Fprintf(&b, "| %.0f s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |\n", s.at.Seconds(), s.rss/1e6, s.heap/1e6, s.live/1e6, s.lagGraph, s.lagIdx, s.ingested)
	}
	if last.at > 0 {
		fmt.Fprintf(&b, "| %.0f s (drained) | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |\n", last.at.Seconds(), last.rss/1e6, last.heap/1e6, last.live/1e6, last.lagGraph, last.lagIdx, last.ingested)
	}
	fmt.Println()
	fmt.Print(b.String())
	if doc != "" {
		if err := writeDoc(doc, b.String()); err != nil {
			return 0, err
		}
		fmt.Println("written to", doc)
	}
	if err := p.stop(); err != nil {
		fmt.Fprintln(os.Stderr, "vigieload: stopping vigie:", err)
	}
	if !heapOK || !drainOK {
		return 1, nil
	}
	return 0, nil
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// writeDoc replaces the load section of the markdown file, or appends it.
func writeDoc(path, body string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	const begin, end = "<!-- load:begin -->", "<!-- load:end -->"
	block := begin + "\n" + body + end + "\n"
	text := string(b)
	if i := strings.Index(text, begin); i >= 0 {
		if j := strings.Index(text[i:], end); j >= 0 {
			k := i + j + len(end)
			if k < len(text) && text[k] == '\n' {
				k++
			}
			text = text[:i] + block + text[k:]
			return os.WriteFile(path, []byte(text), 0o644)
		}
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	text += "\n## Load test (`bench/load.sh`, run by `make bench`)\n\n" +
		"Sustained ingest at twice the measured end-to-end throughput on the embedded default, then drain (bench/cmd/vigieload).\n\n" + block
	return os.WriteFile(path, []byte(text), 0o644)
}
