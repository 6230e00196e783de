// Command corepostgen writes a deterministic synthetic repost stream for
// benchmarking co-repost detectors side by side: the same rows as the
// Coordination Network Toolkit's CSV (cnt.csv) and as Vigie's JSONL posts
// (posts.jsonl), plus the planted groups (truth.json).
//
// The stream imitates a collection of election tweets:
//
//   - Original posts appear at uniform times over the span. Each gets a
//     cascade of reposts whose size follows a power law (P(size >= k) ~
//     k^-1.3, most originals get none or one, at most 10,000), and whose
//     delays after the original are log-normal (median 10 min, mean about
//     30 min, at most two days), so a viral post is reposted in a burst.
//   - Authors are drawn from a Zipf law over accounts: a few accounts post
//     hundreds of times, most a handful.
//   - Planted groups (10-40 accounts, one per 40,000 rows) run campaigns:
//     a member posts, or the group picks an organic post, and each member
//     reposts it with probability 0.8 within 2-40 s. Members also repost
//     organically now and then. Each group runs 30 campaigns spread over
//     the whole span, so a larger data set has more groups but each acts
//     less often (every 3.4 h at 1M rows, every 20 h at 10M): a test of
//     how long a detector remembers weak ties.
//   - No account reposts the same post twice (platforms do not allow it),
//     so the toolkit's per-direction weight (messages of one account
//     co-occurring with the other's) equals the number of distinct shared
//     posts, Vigie's weight: the two outputs can be compared exactly.
//
// Rows are sorted by time, then message ID; message IDs grow with time, as
// Twitter's do. Times are whole seconds, the resolution both tools read.
// The same -rows and -seed always give byte-identical files.
package main

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// Model parameters. Rows per second of stream time is fixed, so a larger
// data set covers a longer period at the same activity, as a longer
// collection of the same topic would.
const (
	rowsPerSecond  = 5.0
	accountsPerRow = 0.1        // 1M rows: 100k accounts
	cascadeTail    = 1.3        // P(size >= k) ~ k^-cascadeTail
	maxCascade     = 10_000     // reposts of one post, whatever the size of the collection
	zipfOffset     = 0.003      // Zipf v over accounts, per account: the top 1% post about 30%
	delayMedian    = 600.0      // seconds
	delaySigma     = 1.5        // log-normal sigma of the delay
	maxDelay       = 172800.0   // seconds: a repost comes at most two days late
	rowsPerGroup   = 40_000     // one planted group per this many rows
	campaignsPer   = 30         // campaigns per planted group
	participation  = 0.8        // probability a member joins a campaign
	plantedOrganic = 0.005      // share of organic reposts made by planted accounts
	urlShare       = 0.3        // originals carrying a link
	epoch          = 1717200000 // 2024-06-01T00:00:00Z
)

// row is one message. obj is the index of the original a repost points
// to, -1 for an original.
type row struct {
	t    int64
	acc  int32
	obj  int32
	gen  int32 // generation order: ties in time keep it, so output is stable
	orig int32 // for an original: its own index among originals
}

type truth struct {
	Rows     int        `json:"rows"`
	Accounts int        `json:"accounts"`
	Seed     uint64     `json:"seed"`
	Groups   [][]string `json:"groups"` // user IDs of each planted group
}

func main() {
	rows := flag.Int("rows", 1_000_000, "rows to write")
	seed := flag.Uint64("seed", 1, "random seed")
	out := flag.String("out", ".", "output directory")
	stats := flag.Bool("stats", false, "print the stream's shape (activity, cascades, co-repost pairs) instead of writing files")
	flag.Parse()
	if *rows < 1000 {
		fmt.Fprintln(os.Stderr, "corepostgen: -rows must be at least 1000")
		os.Exit(2)
	}
	start := time.Now()
	rs, tr := generate(*rows, *seed)
	if *stats {
		printStats(rs, tr)
		return
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fatal(err)
	}
	if err := write(*out, rs, tr, *seed); err != nil {
		fatal(err)
	}
	fmt.Fprintf(os.Stderr, "corepostgen: %d rows, %d accounts, %d planted groups in %s, to %s\n",
		len(rs), tr.Accounts, len(tr.Groups), time.Since(start).Round(time.Millisecond), *out)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "corepostgen:", err)
	os.Exit(1)
}

// generate returns the rows, sorted by time, and the truth.
func generate(n int, seed uint64) ([]row, truth) {
	r := rand.New(rand.NewPCG(seed, 0xC0FFEE))
	span := float64(n) / rowsPerSecond
	organic := max(100, int(float64(n)*accountsPerRow))
	groups := max(1, n/rowsPerGroup)
	// Account IDs: organic accounts 0..organic-1, then planted ones. Both
	// are shuffled into one ID space below, so IDs reveal nothing.
	zipf := rand.NewZipf(r, 1.15, float64(organic)*zipfOffset, uint64(organic-1))
	var planted [][]int32
	next := int32(organic)
	for range groups {
		size := 10 + r.IntN(31)
		g := make([]int32, size)
		for i := range g {
			g[i] = next
			next++
		}
		planted = append(planted, g)
	}
	var allPlanted []int32
	for _, g := range planted {
		allPlanted = append(allPlanted, g...)
	}
	accounts := int(next)
	organicAuthor := func() int32 {
		if r.Float64() < plantedOrganic {
			return allPlanted[r.IntN(len(allPlanted))]
		}
		return int32(zipf.Uint64())
	}
	delay := func() float64 {
		return min(maxDelay, math.Exp(math.Log(delayMedian)+delaySigma*r.NormFloat64()))
	}

	// Campaigns are drawn first, so that organic activity fills exactly
	// the rows they leave.
	type campaign struct {
		own     bool    // a member posts the target; else an organic post
		poster  int32   // the member posting it, when own
		members []int32 // members reposting it
		offsets []float64
	}
	var campaigns []campaign
	plannedRows := 0
	for _, g := range planted {
		for c := range campaignsPer {
			cp := campaign{own: c%2 == 0}
			if cp.own {
				cp.poster = g[r.IntN(len(g))]
				plannedRows++
			}
			for _, m := range g {
				if m != cp.poster && r.Float64() < participation {
					cp.members = append(cp.members, m)
					cp.offsets = append(cp.offsets, 2+r.Float64()*38)
				}
			}
			plannedRows += len(cp.members)
			campaigns = append(campaigns, cp)
		}
	}
	budget := n - plannedRows
	rs := make([]row, 0, n)
	var origs []int32 // index in rs of each original
	used := map[int32]bool{}
	add := func(t float64, acc, obj int32) int32 {
		rs = append(rs, row{t: int64(t), acc: acc, obj: obj, gen: int32(len(rs)), orig: -1})
		return int32(len(rs) - 1)
	}
	addOriginal := func(t float64, acc int32) int32 {
		i := add(t, acc, -1)
		rs[i].orig = int32(len(origs))
		origs = append(origs, i)
		return i
	}
	for len(rs) < budget {
		birth := r.Float64() * span
		author := organicAuthor()
		o := addOriginal(birth, author)
		// Pareto(1, tail) floored, minus one: no repost for 59% of posts.
		size := int(math.Pow(1-r.Float64(), -1/cascadeTail)) - 1
		size = min(size, budget-len(rs), maxCascade)
		clear(used)
		used[author] = true
		for range size {
			acc := organicAuthor()
			for tries := 0; used[acc] && tries < 20; tries++ {
				acc = organicAuthor()
			}
			if used[acc] {
				continue
			}
			used[acc] = true
			add(birth+delay(), acc, o)
		}
	}
	organicOrigs := len(origs)
	// A member may already have reposted an organic target on its own:
	// it does not repost it twice.
	type pair struct{ acc, obj int32 }
	reposted := map[pair]bool{}
	isPlanted := make([]bool, accounts)
	for _, a := range allPlanted {
		isPlanted[a] = true
	}
	for _, x := range rs {
		if x.obj >= 0 && isPlanted[x.acc] {
			reposted[pair{x.acc, x.obj}] = true
		}
	}
	for _, cp := range campaigns {
		var target int32
		var at float64
		if cp.own {
			at = r.Float64() * span
			target = addOriginal(at, cp.poster)
		} else {
			target = origs[r.IntN(organicOrigs)]
			at = float64(rs[target].t) + delay()
		}
		for i, m := range cp.members {
			if m == rs[target].acc || reposted[pair{m, target}] {
				continue
			}
			reposted[pair{m, target}] = true
			add(at+cp.offsets[i], m, target)
		}
	}
	// Skipped repeats leave a few rows: fill them with originals nobody
	// reposts, so the file has exactly n rows.
	for len(rs) < n {
		addOriginal(r.Float64()*span, organicAuthor())
	}
	slices.SortFunc(rs, func(x, y row) int {
		if c := cmp.Compare(x.t, y.t); c != 0 {
			return c
		}
		return cmp.Compare(x.gen, y.gen)
	})
	// Account IDs: a random permutation, offset so IDs look like
	// platform IDs and sort apart from message IDs.
	perm := r.Perm(accounts)
	for i := range rs {
		rs[i].acc = int32(perm[rs[i].acc])
	}
	tr := truth{Rows: len(rs), Accounts: accounts, Seed: seed}
	for _, g := range planted {
		ids := make([]string, len(g))
		for i, a := range g {
			ids[i] = userID(int32(perm[a]))
		}
		slices.Sort(ids)
		tr.Groups = append(tr.Groups, ids)
	}
	return rs, tr
}

func userID(acc int32) string { return strconv.Itoa(1_000_000 + int(acc)) }

// messageID is the row's position in time order, offset: IDs grow with
// time, as snowflake IDs do.
func messageID(i int) string { return strconv.Itoa(1_000_000_000 + i) }

// words is the vocabulary of the synthetic texts.
var words = func() []string {
	w := make([]string, 2000)
	for i := range w {
		w[i] = "w" + strconv.Itoa(i)
	}
	w[0], w[1], w[2] = "#election", "#vote", "#debate"
	return w
}()

// text derives an original's text from its index, so a repost can quote
// it without storing texts.
func text(orig int32) string {
	r := rand.New(rand.NewPCG(uint64(orig), 7))
	n := 8 + r.IntN(10)
	b := make([]byte, 0, 80)
	for i := range n {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, words[int(math.Min(float64(len(words)-1), math.Floor(r.ExpFloat64()*200)))]...)
	}
	return string(b)
}

func url(orig int32) string {
	r := rand.New(rand.NewPCG(uint64(orig), 11))
	if r.Float64() >= urlShare {
		return ""
	}
	return fmt.Sprintf("https://news%d.example/a/%d", r.IntN(300), orig)
}

// jsonPost is Vigie's post format (post.Post), spelled out so the
// generator writes exactly the fields it means to.
type jsonPost struct {
	Schema   int      `json:"schema"`
	Platform string   `json:"platform"`
	ID       string   `json:"id"`
	Author   string   `json:"author"`
	Time     string   `json:"time"`
	Text     string   `json:"text,omitempty"`
	URLs     []string `json:"urls,omitempty"`
	RepostOf string   `json:"repost_of,omitempty"`
}

func write(dir string, rs []row, tr truth, seed uint64) error {
	// Position of each generated row in time order, for repost targets.
	pos := make([]int32, len(rs))
	for i, x := range rs {
		pos[x.gen] = int32(i)
	}
	cf, err := os.Create(filepath.Join(dir, "cnt.csv"))
	if err != nil {
		return err
	}
	defer cf.Close()
	jf, err := os.Create(filepath.Join(dir, "posts.jsonl"))
	if err != nil {
		return err
	}
	defer jf.Close()
	cb := bufio.NewWriterSize(cf, 1<<20)
	jb := bufio.NewWriterSize(jf, 1<<20)
	cw := csv.NewWriter(cb)
	cw.Write([]string{"message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls"})
	je := json.NewEncoder(jb)
	je.SetEscapeHTML(false)
	rec := make([]string, 8)
	for i, x := range rs {
		uid := userID(x.acc)
		p := jsonPost{Schema: 1, Platform: "twitter", ID: messageID(i), Author: uid,
			Time: time.Unix(epoch+x.t, 0).UTC().Format(time.RFC3339)}
		rec[0], rec[1], rec[2], rec[4], rec[6] = p.ID, uid, "user"+uid, "", strconv.FormatInt(epoch+x.t, 10)
		if x.obj < 0 {
			p.Text = text(x.orig)
			if u := url(x.orig); u != "" {
				p.URLs = []string{u}
			}
			rec[3], rec[5], rec[7] = "", p.Text, ""
			if len(p.URLs) > 0 {
				rec[7] = p.URLs[0]
			}
		} else {
			target := rs[pos[x.obj]]
			p.RepostOf = messageID(int(pos[x.obj]))
			p.Text = "RT @user" + userID(target.acc) + ": " + text(target.orig)
			rec[3], rec[5], rec[7] = p.RepostOf, p.Text, ""
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
		if err := je.Encode(&p); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	if err := cb.Flush(); err != nil {
		return err
	}
	if err := jb.Flush(); err != nil {
		return err
	}
	tb, err := json.MarshalIndent(tr, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "truth.json"), append(tb, '\n'), 0o644)
}

// printStats describes the stream, to check the model against what real
// collections look like and to size a benchmark before running it.
func printStats(rs []row, tr truth) {
	perAcc := make([]int, tr.Accounts)
	byObj := map[int32][]int64{}
	originals := 0
	for _, x := range rs {
		perAcc[x.acc]++
		if x.obj < 0 {
			originals++
		} else {
			byObj[x.obj] = append(byObj[x.obj], x.t)
		}
	}
	slices.Sort(perAcc)
	slices.Reverse(perAcc)
	top := 0
	for _, c := range perAcc[:max(1, len(perAcc)/100)] {
		top += c
	}
	active := 0
	for _, c := range perAcc {
		if c > 0 {
			active++
		}
	}
	var pairs, maxCascade, maxWindow int64
	for _, ts := range byObj { // times are sorted: rows are
		maxCascade = max(maxCascade, int64(len(ts)))
		lo := 0
		for hi, t := range ts {
			for ts[lo] < t-60 {
				lo++
			}
			pairs += int64(hi - lo)
			maxWindow = max(maxWindow, int64(hi-lo+1))
		}
	}
	fmt.Printf("rows %d, originals %.1f%%, accounts active %d of %d, top 1%% accounts post %.1f%%, busiest account %d rows\n",
		len(rs), 100*float64(originals)/float64(len(rs)), active, tr.Accounts, 100*float64(top)/float64(len(rs)), perAcc[0])
	fmt.Printf("reposted originals %d, largest cascade %d, most reposts of one post within 60 s %d\n", len(byObj), maxCascade, maxWindow)
	fmt.Printf("co-repost pairs within 60 s (each pair of messages once) %d, %.1f per row; span %.1f days\n",
		pairs, float64(pairs)/float64(len(rs)), float64(rs[len(rs)-1].t-rs[0].t)/86400)
}
