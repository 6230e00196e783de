package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/graph"
	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/post"
)

const detectDoc = `Compute the co-action network of a whole file at once and write it as
DIR/edges.csv and DIR/nodes.csv (and DIR/clusters.json with --compat none).

--compat none (the default) runs Vigie's own streaming engine, fed in time
order, with its key cap and thresholds; edges live for the whole file.
--compat coortweet reproduces CooRTweet's detect_groups(time_window,
min_participation) + generate_coordinated_network(edge_weight, subgraph),
and --compat cnt the Coordination Network Toolkit's co_retweet (--signal
repost), co_link (link) or co_reply (reply): exact batch computations with
the peer tools' own columns, to compare with studies made with them.

Formats: coortweet (object_id,account_id,content_id,timestamp_share, or the
German one-row-per-object layout), cnt (the toolkit's CSV), jsonl (Vigie's
posts). Exact duplicate shares are dropped before the compat computations.

Examples:
  vigie detect --input russian_coord_tweets.csv --compat coortweet --edge-weight 0
  vigie detect --input german_elections.csv --compat cnt --signal link --window 30s`

// detectOptions are the flags of `vigie detect`.
type detectOptions struct {
	input, format, compat, signals, object, platform, out string
	window                                                time.Duration
	minParticipation, subgraph, minWeight, keyCap         int
	edgeWeight                                            float64
}

// detectResult is what a run computed and wrote, for the summary line and
// tests.
type detectResult struct {
	Records, Bad, Posts, Shares, Duplicates, Edges, Nodes, Clusters int
	Read, Compute                                                   time.Duration
	Files                                                           []string
}

// detect is the `vigie detect` command.
func detect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("detect", detectDoc, stderr)
	var o detectOptions
	fs.StringVar(&o.input, "input", "", "input file (required)")
	fs.StringVar(&o.format, "format", "", "coortweet, cnt or jsonl; empty: jsonl for .jsonl/.json files, else the CSV layout its header names")
	fs.StringVar(&o.compat, "compat", "none", "none (Vigie's engine), coortweet or cnt")
	fs.StringVar(&o.signals, "signal", "repost", "co-action kind: repost, link, hashtag, reply, mention, media, domain, text (comma-separated for --compat none)")
	fs.StringVar(&o.object, "object", "", "what object_id holds in CooRTweet's four-column files: repost, reply, link, hashtag, mention, media or text (default: the signal)")
	fs.StringVar(&o.platform, "platform", string(post.PlatformTwitter), `platform of CSV accounts without a "tw_" or "fb_" prefix`)
	fs.DurationVar(&o.window, "window", graph.DefaultWindow, "co-action time window")
	fs.IntVar(&o.minParticipation, "min-participation", 2, "coortweet: detect_groups(min_participation)")
	fs.Float64Var(&o.edgeWeight, "edge-weight", 0.5, "coortweet: generate_coordinated_network(edge_weight), a weight quantile in [0, 1]")
	fs.IntVar(&o.subgraph, "subgraph", 0, "coortweet: generate_coordinated_network(subgraph), 0 or 1")
	fs.IntVar(&o.minWeight, "min-weight", 0, "cnt: --min_edge_weight (default 1); none: graph.min_weight, and the weight edges.csv starts at (default 3)")
	fs.IntVar(&o.keyCap, "key-cap", graph.DefaultKeyCap, "none: graph.key_cap")
	fs.StringVar(&o.out, "out", "detect", "output directory")
	cpuProfile := fs.String("cpuprofile", "", "write a Go CPU profile of the run to this file (for `go tool pprof`)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("detect: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("detect: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	res, err := runDetect(ctx, o, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "read %d records (%d bad) in %s; ", res.Records, res.Bad, res.Read.Round(time.Millisecond))
	if o.compat == "none" {
		fmt.Fprintf(stdout, "%d posts; %d edges, %d accounts, %d clusters", res.Posts, res.Edges, res.Nodes, res.Clusters)
	} else {
		fmt.Fprintf(stdout, "%d shares (%d duplicates dropped); %d edges, %d accounts", res.Shares, res.Duplicates, res.Edges, res.Nodes)
	}
	fmt.Fprintf(stdout, " in %s; wrote %s\n", res.Compute.Round(time.Millisecond), strings.Join(res.Files, ", "))
	return nil
}

// usageError reports a bad flag value; Main exits with status 2.
func usageError(stderr io.Writer, format string, args ...any) error {
	fmt.Fprintf(stderr, "vigie detect: "+format+"\n", args...)
	return errUsage
}

// runDetect reads the input, computes the network and writes the files.
func runDetect(ctx context.Context, o detectOptions, stderr io.Writer) (detectResult, error) {
	var res detectResult
	if o.input == "" {
		return res, usageError(stderr, "--input is required")
	}
	var kinds []post.Kind
	for s := range strings.SplitSeq(o.signals, ",") {
		if s = strings.TrimSpace(s); s != "" {
			kinds = append(kinds, post.Kind(s))
		}
	}
	if err := (graph.Config{Signals: kinds}).Validate(); err != nil || len(kinds) == 0 {
		return res, usageError(stderr, "--signal %q: %v", o.signals, err)
	}
	switch o.compat {
	case "none":
	case "coortweet", "cnt":
		if len(kinds) != 1 {
			return res, usageError(stderr, "--compat %s computes one signal at a time, got %q", o.compat, o.signals)
		}
	default:
		return res, usageError(stderr, "--compat must be none, coortweet or cnt, got %q", o.compat)
	}
	if o.window <= 0 {
		return res, usageError(stderr, "--window must be positive, got %v", o.window)
	}
	// Check the peer parameters before reading what may be a large file.
	switch o.compat {
	case "coortweet":
		if _, err := graph.CooRTweet(nil, cooParams(o)); err != nil {
			return res, fmt.Errorf("detect: %w", err)
		}
	case "cnt":
		if _, err := graph.CNTParamsFor(kinds[0], o.window); err != nil {
			return res, fmt.Errorf("detect: %w", err)
		}
	}

	// The compat modes keep only the shares of the signal, as the file is
	// read; the engine needs whole posts, to merge and sort them.
	var posts []post.Post
	var shares []graph.Share
	var counter *graph.CNTCounter
	var sink func(p *post.Post) error
	switch o.compat {
	case "coortweet":
		sink = func(p *post.Post) error { shares = graph.AppendShares(shares, p, kinds[0]); return nil }
	case "cnt":
		// The toolkit's network is counted as the file is read: a share
		// is interned into the counter's compact arrays at once, so
		// neither posts nor shares are held (see graph.CNTCounter).
		cp, _ := graph.CNTParamsFor(kinds[0], o.window)
		cp.MinEdgeWeight = o.minWeight
		var err error
		if counter, err = graph.NewCNTCounter(cp); err != nil {
			return res, fmt.Errorf("detect: %w", err)
		}
		var buf []graph.Share
		sink = func(p *post.Post) (err error) {
			buf, err = graph.AppendCNTShares(buf[:0], p, kinds[0])
			for _, s := range buf {
				counter.Add(s.Object, s.Account, s.Content, s.Time.UnixNano())
			}
			return err
		}
	default:
		sink = func(p *post.Post) error { posts = append(posts, *p); return nil }
	}
	start := time.Now()
	n, bad, err := readPosts(ctx, o, kinds, sink, stderr)
	if err != nil {
		return res, err
	}
	res.Read = time.Since(start)
	res.Records, res.Bad = n+bad, bad
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return res, fmt.Errorf("detect: %w", err)
	}
	start = time.Now()
	if o.compat == "coortweet" {
		// Exact repeats are re-deliveries, or the German layout's URL row
		// repeated once per hashtag or image of the post.
		all := len(shares)
		shares = graph.DropDuplicateShares(shares)
		res.Shares, res.Duplicates = len(shares), all-len(shares)
	}
	switch o.compat {
	case "coortweet":
		err = detectCooRTweet(shares, o, &res)
	case "cnt":
		res.Shares, res.Duplicates = counter.Shares, counter.Duplicates
		err = detectCNT(counter, o, &res)
	default:
		err = detectEngine(posts, kinds, o, &res)
	}
	res.Compute = time.Since(start)
	return res, err
}

// readPosts passes every post of the input to sink, in file order, and
// returns how many it read and how many bad records it skipped. Bad
// records are reported on stderr (the first ten, then a count), as the
// ingest stage dead-letters them.
func readPosts(ctx context.Context, o detectOptions, kinds []post.Kind, sink func(*post.Post) error, stderr io.Writer) (int, int, error) {
	format := o.format
	if format == "" {
		switch strings.ToLower(filepath.Ext(o.input)) {
		case ".jsonl", ".json", ".ndjson":
			format = "jsonl"
		}
	}
	var open func(from ingest.Position) (ingest.Source, error)
	switch format {
	case "jsonl":
		open = func(from ingest.Position) (ingest.Source, error) { return ingest.OpenJSONL(o.input, from) }
	case "", string(ingest.CSVCooRTweet), string(ingest.CSVCNT):
		object := post.Kind(o.object)
		if object == "" {
			object = kinds[0]
		}
		opts := ingest.CSVOptions{Format: ingest.CSVFormat(format), ObjectKind: object, Platform: post.Platform(o.platform)}
		open = func(from ingest.Position) (ingest.Source, error) { return ingest.OpenCSV(o.input, opts, from) }
	default:
		return 0, 0, usageError(stderr, "--format must be coortweet, cnt or jsonl, got %q", o.format)
	}
	first, err := open(ingest.Position{})
	if err != nil {
		return 0, 0, fmt.Errorf("detect: %w", err)
	}
	srcs := []ingest.Source{first}
	defer func() {
		for _, s := range srcs {
			s.Close()
		}
	}()
	if c, ok := first.(*ingest.CSV); ok && c.Layout() == "coortweet-posts" && slices.Contains(kinds, post.KindDomain) {
		fmt.Fprintln(stderr, "vigie detect: note: this layout's domain_id is not read; domains come from url_id values, which are opaque IDs")
	}
	// A second reader takes the second half of the file when a line
	// boundary there is a record boundary (see splitPoint): decoding and
	// validating records is most of the reading time, and the machine
	// has two cores.
	stops := []int64{-1}
	if at, ok := splitPoint(o.input, format == "jsonl", first.Position().Offset); ok {
		second, err := open(at)
		if err != nil {
			return 0, 0, fmt.Errorf("detect: %w", err)
		}
		srcs = append(srcs, second)
		stops = []int64{at.Offset, -1}
	}

	// Decoding and sink run in separate goroutines: each reader decodes
	// and validates its part into batches of posts, in file order, and
	// the sink consumes the first part's batches, then the second's. A
	// few batches in flight bound the memory. Bad records are reported in
	// file order too, once the readers are done.
	type batch struct {
		posts []post.Post
		err   error // a read error (not a bad record): the last batch
	}
	type part struct {
		ch  chan batch
		bad []error // the first ten bad records
		n   int     // bad records
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	parts := make([]*part, len(srcs))
	for k, src := range srcs {
		pt := &part{ch: make(chan batch, 4)}
		parts[k] = pt
		go func() {
			defer close(pt.ch)
			b := batch{posts: make([]post.Post, 0, 1024)}
			send := func() bool {
				select {
				case pt.ch <- b:
					b = batch{posts: make([]post.Post, 0, 1024)}
					return true
				case <-rctx.Done():
					return false
				}
			}
			for stops[k] < 0 || src.Position().Offset < stops[k] {
				p, err := src.Next(rctx)
				if errors.Is(err, io.EOF) {
					break
				}
				var re *ingest.RecordError
				if errors.As(err, &re) {
					pt.n++ // read by the caller only after pt.ch is closed
					if len(pt.bad) < 10 {
						pt.bad = append(pt.bad, re)
					}
					continue
				}
				if err != nil {
					b.err = err
					break
				}
				b.posts = append(b.posts, p)
				if len(b.posts) == cap(b.posts) && !send() {
					return
				}
			}
			send()
		}()
	}
	drain := func() {
		cancel()
		for _, pt := range parts {
			for range pt.ch {
			}
		}
	}
	n, bad := 0, 0
	for _, pt := range parts {
		for b := range pt.ch {
			for i := range b.posts {
				if err := sink(&b.posts[i]); err != nil {
					drain()
					return 0, 0, fmt.Errorf("detect: %w", err)
				}
				n++
			}
			if b.err != nil {
				drain()
				return 0, 0, fmt.Errorf("detect: %w", b.err)
			}
		}
	}
	for _, pt := range parts {
		for _, re := range pt.bad {
			if bad++; bad <= 10 {
				fmt.Fprintf(stderr, "vigie detect: skipped %v\n", re)
			}
		}
		bad += pt.n - len(pt.bad)
	}
	if bad > 10 {
		fmt.Fprintf(stderr, "vigie detect: skipped %d bad records in all\n", bad)
	}
	return n, bad, nil
}

// splitMin is the smallest file (after its header) read by two readers;
// tests lower it.
var splitMin int64 = 8 << 20

// splitPoint returns where a second reader may start on path: the start
// of a line near the middle of the records after header (the offset of
// the first record), with that line number, when the line before it has
// content (so the first reader, which skips blank lines, stops exactly
// there) and, for CSV, when the file holds no quote character at all:
// only then is every newline a record boundary. Small files are not
// split.
func splitPoint(path string, jsonl bool, header int64) (ingest.Position, bool) {
	f, err := os.Open(path)
	if err != nil {
		return ingest.Position{}, false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size()-header < splitMin {
		return ingest.Position{}, false
	}
	// The split: the end of the second complete line after the middle,
	// if that line is not blank.
	mid := header + (st.Size()-header)/2
	buf := make([]byte, 1<<20)
	m, _ := f.ReadAt(buf, mid)
	buf = buf[:m]
	at := int64(-1)
	if first := bytes.IndexByte(buf, '\n'); first >= 0 {
		rest := buf[first+1:]
		for {
			nl := bytes.IndexByte(rest, '\n')
			if nl < 0 {
				break
			}
			if len(bytes.TrimSpace(rest[:nl])) > 0 {
				at = mid + int64(m-len(rest)+nl+1)
				break
			}
			rest = rest[nl+1:]
		}
	}
	if at < 0 || at >= st.Size() {
		return ingest.Position{}, false
	}
	// One pass over the file: newlines before the split, and quotes.
	lines := int64(0)
	off := int64(0)
	r := bufio.NewReaderSize(f, 1<<20)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return ingest.Position{}, false
	}
	chunk := make([]byte, 1<<20)
	for {
		k, err := io.ReadFull(r, chunk)
		c := chunk[:k]
		if !jsonl && bytes.IndexByte(c, '"') >= 0 {
			return ingest.Position{}, false
		}
		if off < at {
			lines += int64(bytes.Count(c[:min(int64(k), at-off)], []byte{'\n'}))
		} else if jsonl {
			break
		}
		off += int64(k)
		if err != nil {
			break
		}
	}
	return ingest.Position{Offset: at, Line: lines}, true
}

// detectCooRTweet writes CooRTweet's network with the columns of its
// exported edge list, in its order and number format (R prints 15
// significant digits), so the file compares equal to one written by R.
func detectCooRTweet(shares []graph.Share, o detectOptions, res *detectResult) error {
	net, err := graph.CooRTweet(shares, cooParams(o))
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	res.Edges, res.Nodes = len(net.Edges), len(net.Nodes)
	rFloat := func(v float64) string { return strconv.FormatFloat(v, 'g', 15, 64) }
	return writeTables(o.out, res, detectTable{"edges.csv", func(w *csv.Writer) error {
		w.Write([]string{"from", "to", "weight", "avg_time_delta", "n_content_id", "n_content_id_y", "edge_symmetry_score", "weight_threshold"})
		for _, e := range net.Edges {
			w.Write([]string{e.From, e.To, strconv.Itoa(e.Weight), rFloat(e.AvgTimeDelta), strconv.Itoa(e.NContentID),
				strconv.Itoa(e.NContentIDY), rFloat(e.EdgeSymmetryScore), strconv.Itoa(e.WeightThreshold)})
		}
		return nil
	}}, detectTable{"nodes.csv", func(w *csv.Writer) error {
		w.Write([]string{"account_id", "component"})
		for _, n := range net.Nodes {
			w.Write([]string{n.Account, strconv.Itoa(n.Component)})
		}
		return nil
	}})
}

func cooParams(o detectOptions) graph.CooRTweetParams {
	return graph.CooRTweetParams{
		TimeWindow: o.window, MinParticipation: o.minParticipation, EdgeWeight: o.edgeWeight, Subgraph: o.subgraph,
	}
}

// detectCNT writes the toolkit's network with both directions merged, as
// the reference files are: weight is the larger direction, weight_ab and
// weight_ba each direction's (0 when below --min-weight). Nodes carry
// their connected component, numbered in account order. Rows are written
// with strconv appends rather than csv.Writer's per-row slices: at 10M
// input rows there are millions of edges.
func detectCNT(counter *graph.CNTCounter, o detectOptions, res *detectResult) error {
	net := counter.Network()
	res.Edges, res.Nodes = len(net.Pairs), len(net.Accounts)
	cell := make([]string, len(net.Accounts)) // each account as a CSV field
	for i, a := range net.Accounts {
		cell[i] = csvField(a)
	}
	return writeRaw(o.out, res, rawFile{"edges.csv", func(w *bufio.Writer) error {
		w.WriteString("account_a,account_b,weight,weight_ab,weight_ba\n")
		var b []byte
		for _, e := range net.Pairs {
			b = append(b[:0], cell[e.A]...)
			b = append(b, ',')
			b = append(b, cell[e.B]...)
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(e.Weight), 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(e.AB), 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(e.BA), 10)
			b = append(b, '\n')
			w.Write(b)
		}
		return nil
	}}, rawFile{"nodes.csv", func(w *bufio.Writer) error {
		w.WriteString("account_id,component\n")
		var b []byte
		for i, c := range net.Component {
			b = append(append(b[:0], cell[i]...), ',')
			b = strconv.AppendInt(b, int64(c), 10)
			b = append(b, '\n')
			w.Write(b)
		}
		return nil
	}})
}

// csvField is s as encoding/csv writes a field.
func csvField(s string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{s})
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}

// rawFile is one output file written by hand.
type rawFile struct {
	name  string
	write func(*bufio.Writer) error
}

// writeRaw writes each file under out, atomically, and records its path.
func writeRaw(out string, res *detectResult, files ...rawFile) error {
	for _, f := range files {
		path := filepath.Join(out, f.name)
		err := writeFileAtomic(path, func(w io.Writer) error {
			bw := bufio.NewWriterSize(w, 1<<16)
			if err := f.write(bw); err != nil {
				return err
			}
			return bw.Flush()
		})
		if err != nil {
			return err
		}
		res.Files = append(res.Files, path)
	}
	return nil
}

// detectEngine runs Vigie's streaming engine over the file: posts merged
// by key, fed in time order, retention covering the whole file so that
// the result is the network of the file rather than of its last hours;
// key cap, minimum weight and community detection as configured.
func detectEngine(posts []post.Post, kinds []post.Kind, o detectOptions, res *detectResult) error {
	posts = mergePosts(posts)
	slices.SortStableFunc(posts, func(a, b post.Post) int { return a.Time.Compare(b.Time) })
	res.Posts = len(posts)
	span := time.Duration(0)
	if len(posts) > 0 {
		span = posts[len(posts)-1].Time.Sub(posts[0].Time)
	}
	keep := max(span+o.window, graph.DefaultRetention)
	minWeight := o.minWeight
	if minWeight == 0 {
		minWeight = graph.DefaultMinWeight
	}
	e, err := graph.New(graph.Config{
		Window: o.window, KeyCap: o.keyCap, MinWeight: minWeight, Signals: kinds,
		Retention: keep, WeakRetention: keep,
	})
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	for i := range posts {
		e.Add(&posts[i])
	}
	clusters := e.Detect()
	edges := e.Edges(minWeight)
	member := map[string]string{}
	for _, c := range clusters {
		for _, m := range c.Members {
			member[m] = c.ID
		}
	}
	var links [][2]string
	for _, ed := range edges {
		links = append(links, [2]string{ed.A, ed.B})
	}
	nodes, _ := detectComponents(links)
	res.Edges, res.Nodes, res.Clusters = len(edges), len(nodes), len(clusters)
	err = writeTables(o.out, res, detectTable{"edges.csv", func(w *csv.Writer) error {
		w.Write([]string{"account_a", "account_b", "weight", "co_actions", "mean_delta_seconds", "first", "last", "signals", "cluster"})
		for _, ed := range edges {
			var sig []string
			for _, k := range slices.Sorted(maps.Keys(ed.Signals)) {
				sig = append(sig, fmt.Sprintf("%s:%d", k, ed.Signals[k]))
			}
			cluster := ""
			if c := member[ed.A]; c != "" && c == member[ed.B] {
				cluster = c
			}
			w.Write([]string{ed.A, ed.B, strconv.Itoa(ed.Weight), fmt.Sprint(ed.Extra["co_actions"]),
				strconv.FormatFloat(ed.MeanDelta, 'g', 15, 64), ed.First.Format(time.RFC3339Nano), ed.Last.Format(time.RFC3339Nano),
				strings.Join(sig, ";"), cluster})
		}
		return nil
	}}, detectTable{"nodes.csv", func(w *csv.Writer) error {
		w.Write([]string{"account_id", "cluster"})
		for _, n := range nodes {
			w.Write([]string{n, member[n]})
		}
		return nil
	}})
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(clusters, "", "  ")
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	path := filepath.Join(o.out, "clusters.json")
	if err := writeFileAtomic(path, func(w io.Writer) error { _, err := w.Write(append(b, '\n')); return err }); err != nil {
		return err
	}
	res.Files = append(res.Files, path)
	return nil
}

// mergePosts joins the rows of one post into one post, in order of first
// appearance: CooRTweet's German layout gives a post one row per shared
// object, and the engine would drop every row after the first as a
// duplicate. Rows that disagree on what the post is (author, time, text,
// the post it reposts or replies to) are different acts under one ID, as
// the Russian data's retweets of two tweets under one ID: they stay apart,
// the later ones with "~2", "~3"... appended to the ID.
func mergePosts(posts []post.Post) []post.Post {
	type variant struct{ idx []int }
	byKey := map[string]*variant{}
	out := make([]post.Post, 0, len(posts))
	same := func(a, b *post.Post) bool {
		return a.Author == b.Author && a.Time.Equal(b.Time) && a.Text == b.Text &&
			a.RepostOf == b.RepostOf && a.ReplyTo == b.ReplyTo && a.QuoteOf == b.QuoteOf
	}
	union := func(dst, src []string) []string {
		for _, s := range src {
			if !slices.Contains(dst, s) {
				dst = append(dst, s)
			}
		}
		return dst
	}
	for _, p := range posts {
		v := byKey[p.Key()]
		if v == nil {
			v = &variant{}
			byKey[p.Key()] = v
		}
		merged := false
		for _, i := range v.idx {
			if q := &out[i]; same(q, &p) {
				q.URLs = union(q.URLs, p.URLs)
				q.Hashtags = union(q.Hashtags, p.Hashtags)
				q.Mentions = union(q.Mentions, p.Mentions)
				q.MediaHashes = union(q.MediaHashes, p.MediaHashes)
				merged = true
				break
			}
		}
		if merged {
			continue
		}
		if len(v.idx) > 0 {
			p.ID = fmt.Sprintf("%s~%d", p.ID, len(v.idx)+1)
		}
		v.idx = append(v.idx, len(out))
		out = append(out, p)
	}
	return out
}

// detectComponents returns the accounts of links in byte order and the
// connected component of each, numbered from 1 in that order.
func detectComponents(links [][2]string) ([]string, []int) {
	idx := map[string]int{}
	var names []string
	for _, l := range links {
		for _, a := range l {
			if _, ok := idx[a]; !ok {
				idx[a] = 0
				names = append(names, a)
			}
		}
	}
	slices.Sort(names)
	for i, n := range names {
		idx[n] = i
	}
	parent := make([]int, len(names))
	for i := range parent {
		parent[i] = i
	}
	find := func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	for _, l := range links {
		a, b := find(idx[l[0]]), find(idx[l[1]])
		if a != b {
			parent[max(a, b)] = min(a, b)
		}
	}
	comp := make([]int, len(names))
	num := map[int]int{}
	for i := range names {
		r := find(i)
		if num[r] == 0 {
			num[r] = len(num) + 1
		}
		comp[i] = num[r]
	}
	return names, comp
}

// detectTable is one CSV file of the output.
type detectTable struct {
	name  string
	write func(*csv.Writer) error
}

// writeTables writes each detectTable under out and records its path.
func writeTables(out string, res *detectResult, tables ...detectTable) error {
	for _, t := range tables {
		path := filepath.Join(out, t.name)
		err := writeFileAtomic(path, func(w io.Writer) error {
			cw := csv.NewWriter(w)
			if err := t.write(cw); err != nil {
				return err
			}
			cw.Flush()
			return cw.Error()
		})
		if err != nil {
			return err
		}
		res.Files = append(res.Files, path)
	}
	return nil
}

// writeFileAtomic writes path through a temporary file renamed once
// complete, so an interrupted run never leaves a truncated detectTable that
// looks like a result.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("detect: write %s: %w", path, err)
	}
	return nil
}
