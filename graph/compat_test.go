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

// firstFew returns up to five elements, for error messages.
func firstFew(s []string) []string { return s[:min(len(s), 5)] }

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
		t.Errorf("%s: edge sets differ: missing %v, extra %v", edgeFile, firstFew(missing), firstFew(extra))
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
		t.Errorf("%s: %d missing %v, %d extra %v, %d weights differ %v", file, len(missing), firstFew(missing), len(extra), firstFew(extra), len(bad), firstFew(bad))
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

// share is a Share at Unix second sec, for the small cases below.
func share(obj, acc, content string, sec int64) Share {
	return Share{Object: obj, Account: acc, Content: content, Time: time.Unix(1600000000+sec, 0).UTC()}
}

// TestCooRTweetRules checks CooRTweet's rules one at a time on small
// inputs worked out by hand from its R code.
func TestCooRTweetRules(t *testing.T) {
	type edge struct {
		from, to     string
		w, n, ny, th int
		delta, sym   float64
	}
	w60 := CooRTweetParams{TimeWindow: 60 * time.Second, MinParticipation: 2}
	for _, c := range []struct {
		name   string
		shares []Share
		p      CooRTweetParams
		want   []edge
	}{
		{
			// Simultaneous shares keep row order: b's rows come first, so
			// cb1 is the older post of both pairs. From is still a: the
			// lower ID is the first vertex.
			name:   "tie keeps row order, b first",
			shares: []Share{share("o1", "b", "cb1", 0), share("o1", "a", "ca1", 0), share("o1", "a", "ca2", 10), share("o9", "b", "cb2", 999)},
			p:      w60,
			want:   []edge{{from: "a", to: "b", w: 2, delta: 5, n: 1, ny: 2, sym: 0.5}},
		},
		{
			name:   "tie keeps row order, a first",
			shares: []Share{share("o1", "a", "ca1", 0), share("o1", "b", "cb1", 0), share("o1", "a", "ca2", 10), share("o9", "b", "cb2", 999)},
			p:      w60,
			want:   []edge{{from: "a", to: "b", w: 2, delta: 5, n: 2, ny: 2, sym: 1}},
		},
		{
			// The window is inclusive; 61 s apart do not pair. (With
			// min_participation 2, a and b would each have one row in
			// pairs, and the pair would go.)
			name:   "window edges",
			shares: []Share{share("o1", "a", "a1", 0), share("o1", "b", "b1", 60), share("o2", "a", "a2", 100), share("o2", "b", "b2", 161)},
			p:      CooRTweetParams{TimeWindow: 60 * time.Second, MinParticipation: 1},
			want:   []edge{{from: "a", to: "b", w: 1, delta: 60, n: 1, ny: 1, sym: 1}},
		},
		{
			// A row sharing itself (object = content) never pairs, unless
			// loops are kept; the same account never pairs with itself.
			name: "loops removed",
			shares: []Share{share("x", "a", "x", 0), share("x", "b", "b1", 1), share("o", "a", "a2", 5), share("o", "b", "b2", 6),
				share("o", "b", "b3", 7)},
			p:    w60,
			want: []edge{{from: "a", to: "b", w: 2, delta: 1.5, n: 1, ny: 2, sym: 0.5}},
		},
		{
			name: "loops kept",
			shares: []Share{share("x", "a", "x", 0), share("x", "b", "b1", 1), share("o", "a", "a2", 5), share("o", "b", "b2", 6),
				share("o", "b", "b3", 7)},
			p:    CooRTweetParams{TimeWindow: 60 * time.Second, MinParticipation: 2, KeepLoops: true},
			want: []edge{{from: "a", to: "b", w: 3, delta: 4.0 / 3, n: 2, ny: 3, sym: 2.0 / 3, th: 1}, {from: "b", to: "b", w: 1, delta: 1, n: 1, ny: 1, sym: 1, th: 0}},
		},
		{
			// b and c take part in one co-share each, but a qualifies, so
			// both pairs stay; d has one row and is dropped before
			// pairing.
			name: "participation on either side",
			shares: []Share{share("o1", "a", "a1", 0), share("o1", "c", "c1", 5), share("o1", "d", "d1", 6), share("o2", "a", "a2", 100),
				share("o2", "b", "b2", 101), share("o3", "c", "c3", 5000), share("o9", "b", "b9", 9000)},
			p:    w60,
			want: []edge{{from: "a", to: "c", w: 1, delta: 5, n: 1, ny: 1, sym: 1}, {from: "a", to: "b", w: 1, delta: 1, n: 1, ny: 1, sym: 1}},
		},
		{
			name:   "min participation 0 keeps single rows",
			shares: []Share{share("o1", "a", "a1", 0), share("o1", "d", "d1", 6)},
			p:      CooRTweetParams{TimeWindow: 60 * time.Second},
			want:   []edge{{from: "a", to: "d", w: 1, delta: 6, n: 1, ny: 1, sym: 1}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			net, err := CooRTweet(c.shares, c.p)
			if err != nil {
				t.Fatal(err)
			}
			var got []edge
			for _, e := range net.Edges {
				got = append(got, edge{from: e.From, to: e.To, w: e.Weight, n: e.NContentID, ny: e.NContentIDY, th: e.WeightThreshold,
					delta: e.AvgTimeDelta, sym: e.EdgeSymmetryScore})
			}
			if len(got) != len(c.want) {
				t.Fatalf("edges %+v, want %+v", got, c.want)
			}
			for i := range got {
				g, w := got[i], c.want[i]
				if g.from != w.from || g.to != w.to || g.w != w.w || g.n != w.n || g.ny != w.ny || g.th != w.th ||
					math.Abs(g.delta-w.delta) > 1e-12 || math.Abs(g.sym-w.sym) > 1e-12 {
					t.Errorf("edge %d: %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestCooRTweetParams(t *testing.T) {
	for _, p := range []CooRTweetParams{
		{TimeWindow: -time.Second}, {EdgeWeight: 1.5}, {EdgeWeight: math.NaN()}, {Subgraph: 2},
	} {
		if _, err := CooRTweet(nil, p); err == nil {
			t.Errorf("%+v: no error", p)
		}
	}
	net, err := CooRTweet(nil, CooRTweetParams{})
	if err != nil || len(net.Edges) != 0 || len(net.Nodes) != 0 {
		t.Errorf("empty input: %+v, %v", net, err)
	}
}

// TestQuantile7 checks the threshold against values R prints.
func TestQuantile7(t *testing.T) {
	for _, c := range []struct {
		x    []float64
		p, q float64
	}{
		{[]float64{2, 1, 1}, 0.5, 1},      // quantile(c(2,1,1), 0.5)
		{[]float64{1, 2, 3, 4}, 0.5, 2.5}, // quantile(1:4, 0.5)
		{[]float64{1, 2, 3, 4, 5}, 0.9, 4.6},
		{[]float64{10, 1}, 0.25, 3.25},
		{[]float64{3, 1, 2}, 0, 1},
		{[]float64{3, 1, 2}, 1, 3},
		{[]float64{7}, 0.5, 7},
	} {
		if got := rQuantile7(c.x, c.p); math.Abs(got-c.q) > 1e-12 {
			t.Errorf("quantile(%v, %v) = %v, want %v", c.x, c.p, got, c.q)
		}
	}
	if got := rQuantile7(nil, 0.5); !math.IsNaN(got) {
		t.Errorf("quantile of nothing = %v, want NaN", got)
	}
}

// TestCNTRules checks the toolkit's rules one at a time.
func TestCNTRules(t *testing.T) {
	for _, c := range []struct {
		name   string
		shares []Share
		p      CNTParams
		want   string // "user1>user2:weight" sorted
	}{
		{
			// message_id is the message table's key: m1's second row (o2)
			// is ignored, so nothing pairs with m2.
			name:   "co_retweet keeps a message's first row",
			shares: []Share{share("o1", "u1", "m1", 0), share("o2", "u1", "m1", 0), share("o2", "u2", "m2", 5)},
			p:      CNTParams{TimeWindow: time.Minute, OneObjectPerMessage: true},
			want:   "",
		},
		{
			name:   "co_link keeps every URL of a message",
			shares: []Share{share("o1", "u1", "m1", 0), share("o2", "u1", "m1", 0), share("o2", "u2", "m2", 5)},
			p:      CNTParams{TimeWindow: time.Minute},
			want:   "u1>u2:1 u2>u1:1",
		},
		{
			// u1's message shares two URLs both matched by u2: one
			// distinct message. u2's two messages count two. No self-pair.
			name: "distinct messages per direction",
			shares: []Share{share("a", "u1", "m1", 0), share("b", "u1", "m1", 0), share("a", "u2", "m2", 10), share("b", "u2", "m3", 20),
				share("a", "u1", "m4", 30)},
			p:    CNTParams{TimeWindow: time.Minute},
			want: "u1>u2:2 u2>u1:2",
		},
		{
			name:   "window is inclusive",
			shares: []Share{share("a", "u1", "m1", 0), share("a", "u2", "m2", 60), share("a", "u3", "m3", 120), share("a", "u4", "m4", 181)},
			p:      CNTParams{TimeWindow: time.Minute},
			want:   "u1>u2:1 u2>u1:1 u2>u3:1 u3>u2:1",
		},
		{
			name:   "minimum weight",
			shares: []Share{share("a", "u1", "m1", 0), share("a", "u2", "m2", 1), share("b", "u1", "m3", 100), share("b", "u2", "m4", 101), share("c", "u1", "m5", 200), share("c", "u3", "m6", 201)},
			p:      CNTParams{TimeWindow: time.Minute, MinEdgeWeight: 2},
			want:   "u1>u2:2 u2>u1:2",
		},
		{
			name:   "empty object is no link",
			shares: []Share{share("", "u1", "m1", 0), share("", "u2", "m2", 1)},
			p:      CNTParams{TimeWindow: time.Minute},
			want:   "",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			edges, err := CNT(c.shares, c.p)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range edges {
				got = append(got, fmt.Sprintf("%s>%s:%d", e.User1, e.User2, e.Weight))
			}
			if strings.Join(got, " ") != c.want {
				t.Errorf("got %q, want %q", strings.Join(got, " "), c.want)
			}
		})
	}
	merged := MergeCNT([]CNTEdge{{"b", "a", 3}, {"a", "b", 1}, {"a", "c", 2}})
	if fmt.Sprint(merged) != "[{a b 3 1 3} {a c 2 2 0}]" {
		t.Errorf("merged %v", merged)
	}
	if _, err := CNT(nil, CNTParams{TimeWindow: -1}); err == nil {
		t.Error("negative window: no error")
	}
}

// TestShares checks the derivation of shares from posts.
func TestShares(t *testing.T) {
	at := time.Unix(1600000000, 0).UTC()
	posts := []post.Post{
		{Platform: post.PlatformTwitter, ID: "1", Author: "a", Time: at, URLs: []string{"u", "v", "u"}},
		{Platform: post.PlatformTwitter, ID: "2", Author: "b", Time: at, RepostOf: "1", URLs: []string{"u"}},
	}
	var got []string
	for _, s := range Shares(posts, post.KindLink) {
		got = append(got, s.Account+":"+s.Content+":"+s.Object)
	}
	if strings.Join(got, " ") != "a:1:u a:1:v b:2:u" {
		t.Errorf("link shares %v", got)
	}
	cnt, err := CNTShares(posts, post.KindLink)
	if err != nil || len(cnt) != 2 {
		t.Errorf("CNT link shares %v, %v: a repost's URLs must be ignored", cnt, err)
	}
	if rs := Shares(posts, post.KindRepost); len(rs) != 1 || rs[0].Object != "twitter:1" {
		t.Errorf("repost shares %v", rs)
	}
	self := []post.Post{{Platform: post.PlatformTwitter, ID: "9", Author: "c", Time: at, RepostOf: "9"}}
	if s := Shares(self, post.KindRepost); len(s) != 1 || s[0].Object != s[0].Content {
		t.Errorf("self-repost share %v: CooRTweet's loop rule needs object = content", s)
	}
	if s, _ := CNTShares(self, post.KindRepost); len(s) != 1 || s[0].Object != "twitter:9" {
		t.Errorf("self-repost CNT share %v", s)
	}
	if _, err := CNTShares(posts, post.KindHashtag); !errors.Is(err, ErrCompatKind) {
		t.Errorf("CNT hashtag: %v", err)
	}
	d := DropDuplicateShares([]Share{share("o", "a", "1", 0), share("o", "a", "1", 0), share("o", "a", "1", 1)})
	if len(d) != 2 {
		t.Errorf("dedupe kept %v", d)
	}
}

// BenchmarkCompat times each exact computation on the real data sets,
// reporting input rows per second.
func BenchmarkCompat(b *testing.B) {
	russian := Shares(russianPosts(b), post.KindRepost)
	german := germanURLPosts(b)
	germanCoo := DropDuplicateShares(Shares(german, post.KindLink))
	germanCNT, _ := CNTShares(german, post.KindLink)
	cntRetweet, _ := CNTParamsFor(post.KindRepost, 60*time.Second)
	cntLink, _ := CNTParamsFor(post.KindLink, 30*time.Second)
	for _, c := range []struct {
		name   string
		shares []Share
		run    func([]Share) error
	}{
		{"coortweet/russian", russian, func(s []Share) error {
			_, err := CooRTweet(s, CooRTweetParams{TimeWindow: 60 * time.Second, MinParticipation: 2})
			return err
		}},
		{"coortweet/german", germanCoo, func(s []Share) error {
			_, err := CooRTweet(s, CooRTweetParams{TimeWindow: 30 * time.Second, MinParticipation: 2, EdgeWeight: 0.5})
			return err
		}},
		{"cnt/russian", russian, func(s []Share) error { _, err := CNT(s, cntRetweet); return err }},
		{"cnt/german", germanCNT, func(s []Share) error { _, err := CNT(s, cntLink); return err }},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if err := c.run(c.shares); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(c.shares))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
