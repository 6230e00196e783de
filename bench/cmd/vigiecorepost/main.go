// Command vigiecorepost feeds a JSONL post file (as written by corepostgen)
// through Vigie's graph engine, the way the graph stage does but without
// Kafka or a store, and reports what the peer benchmark compares: time,
// co-action pairs, edges, clusters, and precision and recall against the
// planted groups. bench/peers.sh runs its default mode as the "graph-stage
// defaults" row: `vigie detect` keeps every edge for the whole file, so it
// cannot show what the always-on stage holds in bounded memory.
//
// Two modes:
//
//   - exact: a window of 60 s, no cap on the actions of one object
//     (KeyCap 2^30) and edges kept for the whole stream (Retention and
//     WeakRetention of ten years). Its edges are then exactly the
//     co-repost edges a batch tool computes over the whole file, which is
//     what makes the comparison with the Coordination Network Toolkit an
//     equality check. Memory grows with every pair ever seen.
//   - default: Vigie's streaming defaults (KeyCap 50, weak edges forgotten
//     after 6 h of stream time), memory bounded on an unbounded stream;
//     its edges are a subset of the exact ones, with equal or lower
//     weights.
//
// Only the repost signal is paired in both modes, as the toolkit's
// co_retweet network does.
package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/graph"
	"github.com/vigie-osint/vigie/post"
)

// result is printed as one JSON line on standard output.
type result struct {
	Mode            string  `json:"mode"`
	Posts           int64   `json:"posts"`
	Rejected        int64   `json:"rejected"`
	Pairs           int64   `json:"pairs"`
	Sweeps          int64   `json:"sweeps"`
	Edges           int     `json:"edges"`               // edges held at the end, any weight
	EdgesMinWeight  int     `json:"edges_min_weight"`    // edges of weight >= -min-weight
	MinWeight       int     `json:"min_weight"`          // that weight
	StrongEdges     int     `json:"strong_edges"`        // edges of weight >= 3, given to community detection
	Clusters        int     `json:"clusters"`            // active clusters found
	ClusterAccounts int     `json:"cluster_accounts"`    // accounts in them
	Precision       float64 `json:"precision,omitempty"` // share of cluster accounts that are planted
	Recall          float64 `json:"recall,omitempty"`    // share of planted accounts in clusters
	IngestSeconds   float64 `json:"ingest_s"`            // read, decode, validate, pair
	DetectSeconds   float64 `json:"detect_s"`            // communities and cluster records
	WriteSeconds    float64 `json:"write_s"`             // edge list for the comparison
	HeapMB          float64 `json:"heap_mb"`             // live heap after ingest
}

func main() {
	in := flag.String("in", "posts.jsonl", "JSONL posts, sorted by time")
	mode := flag.String("mode", "exact", "exact or default (see the command's doc)")
	edgesOut := flag.String("edges", "", "write edges of weight >= -min-weight to this CSV (user_1,user_2,weight)")
	minWeight := flag.Int("min-weight", 2, "smallest weight written to -edges (the toolkit's default min_edge_weight is 2)")
	truthPath := flag.String("truth", "", "truth.json from corepostgen: score clusters against the planted groups")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			fatal(err)
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			fatal(err)
		}
		defer pprof.StopCPUProfile()
	}

	cfg := graph.Config{Signals: []post.Kind{post.KindRepost}}
	switch *mode {
	case "exact":
		cfg.KeyCap = 1 << 30
		cfg.Retention = 10 * 365 * 24 * time.Hour
		cfg.WeakRetention = cfg.Retention
	case "default":
	default:
		fatal(fmt.Errorf("-mode %q: want exact or default", *mode))
	}
	e, err := graph.New(cfg)
	if err != nil {
		fatal(err)
	}
	res := result{Mode: *mode, MinWeight: *minWeight}

	start := time.Now()
	f, err := os.Open(*in)
	if err != nil {
		fatal(err)
	}
	sc := bufio.NewScanner(bufio.NewReaderSize(f, 1<<20))
	sc.Buffer(make([]byte, 0, 1<<20), post.MaxTextLen+1<<16)
	line := 0
	for sc.Scan() {
		line++
		p, err := post.DecodePost(strconv.Itoa(line), sc.Bytes())
		if err != nil || !e.Add(&p) {
			res.Rejected++
		}
	}
	if err := sc.Err(); err != nil {
		fatal(err)
	}
	f.Close()
	res.IngestSeconds = time.Since(start).Seconds()
	st := e.Stats()
	res.Posts, res.Pairs, res.Sweeps = st.Posts, st.Pairs, st.Sweeps
	res.Edges, res.StrongEdges = st.Edges, st.StrongEdges
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.HeapMB = float64(ms.HeapAlloc) / (1 << 20)

	start = time.Now()
	clusters := e.Detect()
	res.DetectSeconds = time.Since(start).Seconds()
	inCluster := map[string]bool{}
	for _, c := range clusters {
		if c.Status == post.StatusActive {
			res.Clusters++
			for _, m := range c.Members {
				inCluster[strings.TrimPrefix(m, "twitter:")] = true
			}
		}
	}
	res.ClusterAccounts = len(inCluster)
	if *truthPath != "" {
		res.Precision, res.Recall, err = score(*truthPath, inCluster)
		if err != nil {
			fatal(err)
		}
	}

	start = time.Now()
	edges := e.Edges(*minWeight)
	res.EdgesMinWeight = len(edges)
	if *edgesOut != "" {
		if err := writeEdges(*edgesOut, edges); err != nil {
			fatal(err)
		}
	}
	res.WriteSeconds = time.Since(start).Seconds()
	b, _ := json.Marshal(res)
	fmt.Println(string(b))
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "vigiecorepost:", err)
	os.Exit(1)
}

// writeEdges writes the toolkit's edge-table columns with the platform
// prefix removed from account keys, so the two files compare directly.
func writeEdges(path string, edges []post.Edge) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	w := csv.NewWriter(bw)
	w.Write([]string{"user_1", "user_2", "weight"})
	for _, ed := range edges {
		w.Write([]string{strings.TrimPrefix(ed.A, "twitter:"), strings.TrimPrefix(ed.B, "twitter:"), strconv.Itoa(ed.Weight)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// score returns the account-level precision and recall of the clusters
// against the planted groups.
func score(path string, inCluster map[string]bool) (precision, recall float64, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	var tr struct {
		Groups [][]string `json:"groups"`
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	planted := map[string]bool{}
	for _, g := range tr.Groups {
		for _, a := range g {
			planted[a] = true
		}
	}
	tp := 0
	for a := range inCluster {
		if planted[a] {
			tp++
		}
	}
	if len(inCluster) > 0 {
		precision = float64(tp) / float64(len(inCluster))
	}
	if len(planted) > 0 {
		recall = float64(tp) / float64(len(planted))
	}
	return precision, recall, nil
}
