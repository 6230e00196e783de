package graph

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// The shared datasets and the peer tools' outputs on them, relative to the
// package directory (see ../shared/datasets/README.md).
const (
	compatData     = "../../shared/datasets/"
	compatRussian  = compatData + "coortweet/russian_coord_tweets.csv"
	compatGerman   = compatData + "coortweet/german_elections.csv"
	compatPeerEdge = compatData + "peer-edges/"
)

// openDataset opens a shared dataset file. A missing file skips the test
// with the reason, except in CI, where the datasets must be present.
func openDataset(t testing.TB, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dataset %s missing in CI: %v", path, err)
		}
		t.Skipf("dataset %s not present, skipping: %v", path, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// compatTable reads a CSV file into a header index and rows.
func compatTable(t testing.TB, path string) (map[string]int, [][]string) {
	t.Helper()
	r := csv.NewReader(openDataset(t, path))
	head, err := r.Read()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	var rows [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return col, rows
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rows = append(rows, rec)
	}
}

func unixSeconds(t testing.TB, s string) time.Time {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("timestamp %q: %v", s, err)
	}
	return time.Unix(n, 0).UTC()
}

// russianPosts is the Russian retweet data as posts, one per row in file
// order: object_id is the retweeted post, content_id the retweet.
func russianPosts(t testing.TB) []post.Post {
	col, rows := compatTable(t, compatRussian)
	out := make([]post.Post, len(rows))
	for i, r := range rows {
		out[i] = post.Post{
			Schema: post.SchemaVersion, Platform: post.PlatformTwitter,
			ID: r[col["content_id"]], Author: r[col["account_id"]],
			Time: unixSeconds(t, r[col["timestamp_share"]]), RepostOf: r[col["object_id"]],
		}
	}
	return out
}

// germanURLPosts is the German election data's rows with a URL as posts,
// one per row in file order (a post spans several rows, one per object).
func germanURLPosts(t testing.TB) []post.Post {
	col, rows := compatTable(t, compatGerman)
	var out []post.Post
	for _, r := range rows {
		u := r[col["url_id"]]
		if u == "" {
			continue
		}
		out = append(out, post.Post{
			Schema: post.SchemaVersion, Platform: post.PlatformOther,
			ID: r[col["post_id"]], Author: r[col["account_id"]],
			Time: unixSeconds(t, r[col["timestamp"]]), URLs: []string{u},
		})
	}
	return out
}

// compatClose tells whether a computed float equals one printed by R
// (15 significant digits).
func compatClose(got float64, printed string) bool {
	want, err := strconv.ParseFloat(printed, 64)
	if err != nil {
		return false
	}
	return math.Abs(got-want) <= 1e-9*max(1, math.Abs(want))
}

// checkCooRTweet compares a network with a reference edge file of
// CooRTweet (and its node file, if given), column by column, and reports
// the match counts.
func checkCooRTweet(t *testing.T, net *CooRTweetNetwork, edgeFile, nodeFile string) {
	t.Helper()
	col, rows := compatTable(t, compatPeerEdge+edgeFile)
	type key [2]string
	mine := map[key]int{}
	for i, e := range net.Edges {
		mine[key{min(e.From, e.To), max(e.From, e.To)}] = i
	}
	cols := []string{"from/to order", "weight", "avg_time_delta", "n_content_id", "n_content_id_y", "edge_symmetry_score", "weight_threshold", "edge position"}
	eq := map[string]int{}
	var missing, diffs []string
	seen := map[key]bool{}
	for pos, r := range rows {
		from, to := r[col["from"]], r[col["to"]]
		k := key{min(from, to), max(from, to)}
		seen[k] = true
		i, ok := mine[k]
		if !ok {
			missing = append(missing, from+"-"+to)
			continue
		}
		e := net.Edges[i]
		checks := map[string]bool{
			"from/to order":       e.From == from && e.To == to,
			"weight":              strconv.Itoa(e.Weight) == r[col["weight"]],
			"avg_time_delta":      compatClose(e.AvgTimeDelta, r[col["avg_time_delta"]]),
			"n_content_id":        strconv.Itoa(e.NContentID) == r[col["n_content_id"]],
			"n_content_id_y":      strconv.Itoa(e.NContentIDY) == r[col["n_content_id_y"]],
			"edge_symmetry_score": compatClose(e.EdgeSymmetryScore, r[col["edge_symmetry_score"]]),
			"weight_threshold":    strconv.Itoa(e.WeightThreshold) == r[col["weight_threshold"]],
			"edge position":       i == pos,
		}
		for _, c := range cols {
			if checks[c] {
				eq[c]++
			} else if len(diffs) < 10 {
				diffs = append(diffs, fmt.Sprintf("%s-%s %s: got %+v, file %q", from, to, c, e, r))
			}
		}
	}
	var extra []string
	for k := range mine {
		if !seen[k] {
			extra = append(extra, k[0]+"-"+k[1])
		}
	}
	slices.Sort(extra)
	t.Logf("%s: %d reference edges, %d computed, %d missing, %d extra", edgeFile, len(rows), len(net.Edges), len(missing), len(extra))
	for _, c := range cols {
		t.Logf("  %-20s equal on %d/%d", c, eq[c], len(rows))
		if eq[c] != len(rows) {
			t.Errorf("%s: %s differs on %d edges", edgeFile, c, len(rows)-eq[c])
		}
	}
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf("%s: edge sets differ: missing %.5v, extra %.5v", edgeFile, missing, extra)
	}
	for _, d := range diffs {
		t.Log(d)
	}
	if nodeFile == "" {
		return
	}
	ncol, nrows := compatTable(t, compatPeerEdge+nodeFile)
	same := 0
	for i, r := range nrows {
		if i < len(net.Nodes) && net.Nodes[i].Account == r[ncol["account_id"]] && strconv.Itoa(net.Nodes[i].Component) == r[ncol["component"]] {
			same++
		} else {
			t.Errorf("%s row %d: %v, computed %+v", nodeFile, i+2, r, net.Nodes[min(i, len(net.Nodes)-1)])
		}
	}
	t.Logf("%s: %d/%d nodes equal, in order, with their component (%d computed)", nodeFile, same, len(nrows), len(net.Nodes))
	if len(nrows) != len(net.Nodes) {
		t.Errorf("%s: %d nodes, computed %d", nodeFile, len(nrows), len(net.Nodes))
	}
}

// TestCooRTweetRussian reproduces the three CooRTweet reference outputs on
// the Russian retweet data: every edge (edge_weight = 0) and the subgraph
// above the median weight, with its nodes and components.
func TestCooRTweetRussian(t *testing.T) {
	shares := Shares(russianPosts(t), post.KindRepost)
	for _, c := range []struct {
		name         string
		p            CooRTweetParams
		edges, nodes string
	}{
		{"all edges", CooRTweetParams{TimeWindow: 60 * time.Second, MinParticipation: 2}, "coortweet_russian_coretweet_tw60_all_edges.csv", ""},
		{"median subgraph", CooRTweetParams{TimeWindow: 60 * time.Second, MinParticipation: 2, EdgeWeight: 0.5, Subgraph: 1},
			"coortweet_russian_tw60_ew0.5_edges.csv", "coortweet_russian_tw60_ew0.5_nodes.csv"},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			net, err := CooRTweet(shares, c.p)
			if err != nil {
				t.Fatal(err)
			}
			el := time.Since(start)
			t.Logf("%d shares in %v (%.0f rows/s): %d co-shares, %d edges, threshold %v",
				len(shares), el, float64(len(shares))/el.Seconds(), net.CoShares, len(net.Edges), net.Threshold)
			checkCooRTweet(t, net, c.edges, c.nodes)
		})
	}
}

// TestCooRTweetGerman reproduces CooRTweet on the German election URLs:
// rows without a URL and duplicate rows dropped, 30 s window, median
// threshold, no subgraph.
func TestCooRTweetGerman(t *testing.T) {
	posts := germanURLPosts(t)
	shares := DropDuplicateShares(Shares(posts, post.KindLink))
	start := time.Now()
	net, err := CooRTweet(shares, CooRTweetParams{TimeWindow: 30 * time.Second, MinParticipation: 2, EdgeWeight: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	t.Logf("%d shares (%d URL rows) in %v (%.0f rows/s): %d co-shares, %d edges, threshold %v",
		len(shares), len(posts), el, float64(len(shares))/el.Seconds(), net.CoShares, len(net.Edges), net.Threshold)
	checkCooRTweet(t, net, "coortweet_german_url_tw30_edges.csv", "")
}

// checkCNT compares merged toolkit pairs with a reference file.
func checkCNT(t *testing.T, pairs []CNTPair, file string) {
	t.Helper()
	col, rows := compatTable(t, compatPeerEdge+file)
	mine := map[[2]string]int{}
	for _, p := range pairs {
		mine[[2]string{p.A, p.B}] = p.Weight
	}
	matched, weightEq := 0, 0
	var missing, extra, bad []string
	seen := map[[2]string]bool{}
	for _, r := range rows {
		k := [2]string{r[col["account_a"]], r[col["account_b"]]}
		seen[k] = true
		w, ok := mine[k]
		if !ok {
			missing = append(missing, k[0]+"-"+k[1])
			continue
		}
		matched++
		if strconv.Itoa(w) == r[col["weight"]] {
			weightEq++
		} else {
			bad = append(bad, fmt.Sprintf("%s-%s: %d, file %s", k[0], k[1], w, r[col["weight"]]))
		}
	}
	for k := range mine {
		if !seen[k] {
			extra = append(extra, k[0]+"-"+k[1])
		}
	}
	slices.Sort(extra)
	t.Logf("%s: %d reference edges, %d computed, %d matched, %d with equal weight", file, len(rows), len(pairs), matched, weightEq)
	if len(missing) > 0 || len(extra) > 0 || len(bad) > 0 {
		t.Errorf("%s: %d missing (%.5v), %d extra (%.5v), %d weights differ (%.5v)", file, len(missing), missing, len(extra), extra, len(bad), bad)
	}
}

// TestCNTRussian reproduces the toolkit's co_retweet network on the
// Russian data (60 s window, edges of weight >= 2).
func TestCNTRussian(t *testing.T) {
	posts := russianPosts(t)
	shares, err := CNTShares(posts, post.KindRepost)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := CNTParamsFor(post.KindRepost, 60*time.Second)
	p.MinEdgeWeight = 2
	start := time.Now()
	edges, err := CNT(shares, p)
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	t.Logf("%d shares in %v (%.0f rows/s): %d directed edges", len(shares), el, float64(len(shares))/el.Seconds(), len(edges))
	checkCNT(t, MergeCNT(edges), "cnt_russian_coretweet_tw60_edges.csv")
}

// TestCNTGerman reproduces the toolkit's co_link network on the German
// election URLs (30 s window, every edge).
func TestCNTGerman(t *testing.T) {
	posts := germanURLPosts(t)
	shares, err := CNTShares(posts, post.KindLink)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := CNTParamsFor(post.KindLink, 30*time.Second)
	start := time.Now()
	edges, err := CNT(shares, p)
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	t.Logf("%d shares in %v (%.0f rows/s): %d directed edges", len(shares), el, float64(len(shares))/el.Seconds(), len(edges))
	checkCNT(t, MergeCNT(edges), "cnt_german_colink_tw30_edges.csv")
}

var _ = strings.Compare
