// Package brief writes Vigie's daily influence briefing: for one UTC day,
// what the coordinated networks did — an executive summary; new, growing
// and fading clusters; the candidates they favoured and smeared; the
// narratives they pushed (hashtags, links, domains); charts of activity,
// stance and the network; example posts with links; and a note on method
// and limits. It reads only the store, so `vigie brief` can write a
// briefing for any stored day long after the fact, and the schedule in
// `vigie run` (Scheduler) writes one as each day of stream time closes.
//
// A briefing is rendered as Markdown (charts as files beside it) and as
// one self-contained HTML page (charts embedded as PNG data: URIs), and
// stored whole through store.Briefings.
package brief

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/privacy"
	"github.com/vigie-osint/vigie/store"
)

// Options shape one briefing.
type Options struct {
	Date    string    // UTC day, "YYYY-MM-DD"
	BaseURL string    // web UI, for links; empty leaves Vigie links out
	Now     time.Time // wall time of rendering (tests fix it); zero means time.Now
	// Final marks the day as over in stream time; a briefing of a day still
	// in progress says so.
	Final bool
	// MaxPosts bounds the posts of the day read for narratives and
	// activity (default 50,000); beyond it the figures are from a sample,
	// and the briefing says so.
	MaxPosts int
	// MaxClusters bounds the clusters examined (default 200, riskiest
	// first).
	MaxClusters int
	// NoCharts skips chart rendering (golden tests of the text).
	NoCharts bool
	// Pseudonymizer, when set (privacy.pseudonymise: briefings), replaces
	// account handles, @mentions, post IDs and handle-bearing links by
	// keyed pseudonyms, and leaves out the links to the platform and to
	// Vigie's post pages, which would name the post (docs/privacy.md).
	Pseudonymizer *privacy.Pseudonymizer
}

// Report is a briefing's content before rendering.
type Report struct {
	Date      string
	Title     string
	Generated time.Time
	Final     bool
	From, To  time.Time
	BaseURL   string

	Posts, Accounts int
	Sampled         bool // Posts counted exactly, narratives from the first MaxPosts
	PostsRead       int
	Hourly          [24]int // posts per hour (UTC)
	HourlyNetworked [24]int // of which by members of the day's clusters

	Active                  []ClusterRow
	New, Growing, Fading    []ClusterRow
	Steady                  int
	Candidates              []CandidateRow
	Hashtags, URLs, Domains []Count
	NetworkHashtags         []Count // hashtags in networked accounts' posts
	Examples                []Example
	Summary                 string
	Charts                  []Chart

	clusters []post.Cluster // detail of Active, same order

	// Pseudonymised tells that accounts are pseudonymised (Options.Pseudonymizer).
	Pseudonymised bool
	ps            *privacy.Pseudonymizer
}

// ClusterRow is one cluster in a briefing.
type ClusterRow struct {
	ID           string
	Status       string
	Size         int
	Risk         float64
	FirstSeen    time.Time
	LastSeen     time.Time
	NewEdges     int // edges first formed on the day
	ActiveEdges  int // edges with a co-action on the day
	Signals      string
	Top          string         // the most shared object
	top          *post.KeyCount // Top before rendering, for SummaryFor
	Target       string
	TargetStance string
	BotShare     float64
	Link         string
}

// CandidateRow sums the stance of the day's clusters on one candidate,
// weighted by cluster size: Favour is the number of member-equivalents
// pushing the candidate, Smear those attacking them.
type CandidateRow struct {
	Name          string
	Favour, Smear float64
	Clusters      int // clusters with a clear stance (>= 0.2 favour or smear)
}

// Count is a narrative element and how often it appeared.
type Count struct {
	Key   string
	Count int
}

// Example is a post quoted in the briefing.
type Example struct {
	Cluster string
	Key     string
	Author  string
	Time    time.Time
	Text    string
	Link    string // on the platform, when known
	Vigie   string // in Vigie's UI
}

// Chart is a rendered chart.
type Chart struct {
	Name    string // file stem: activity, stance, network
	Title   string
	Alt     string
	PNG     []byte
	Caption string
}

// stanceClear is the favour or smear share at which a cluster counts as
// taking a side on a candidate.
const stanceClear = 0.2

// Build reads the store and assembles the briefing of o.Date.
func Build(ctx context.Context, r store.Reader, o Options) (*Report, error) {
	from, err := store.ParseBriefingDate(o.Date)
	if err != nil {
		return nil, fmt.Errorf("brief: %w", err)
	}
	if o.MaxPosts <= 0 {
		o.MaxPosts = 50_000
	}
	if o.MaxClusters <= 0 {
		o.MaxClusters = 200
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	rep := &Report{Date: o.Date, Generated: now.UTC(), Final: o.Final, From: from, To: from.Add(24 * time.Hour),
		BaseURL: strings.TrimRight(o.BaseURL, "/"), ps: o.Pseudonymizer, Pseudonymised: o.Pseudonymizer.Enabled()}
	rep.Title = "Vigie influence briefing — " + from.Format("Monday 2 January 2006")
	if err := rep.readClusters(ctx, r, o.MaxClusters); err != nil {
		return nil, err
	}
	if err := rep.readPosts(ctx, r, o.MaxPosts); err != nil {
		return nil, err
	}
	if err := rep.readExamples(ctx, r); err != nil {
		return nil, err
	}
	rep.candidates()
	rep.summarise()
	if !o.NoCharts {
		if err := rep.renderCharts(); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

func (rep *Report) link(path string) string {
	if rep.BaseURL == "" {
		return ""
	}
	return rep.BaseURL + path
}

// readClusters selects the clusters active on the day (first seen before
// its end, last seen after its start) and sorts them into new, growing and
// fading.
func (rep *Report) readClusters(ctx context.Context, r store.Reader, maxClusters int) error {
	var sums []store.ClusterSummary
	for off := 0; len(sums) < maxClusters; off += store.MaxLimit {
		page, err := r.ListClusters(ctx, store.ClusterQuery{Status: store.StatusAll, Since: rep.From.Add(-24 * time.Hour), Limit: store.MaxLimit, Offset: off})
		if err != nil {
			return fmt.Errorf("brief %s: clusters: %w", rep.Date, err)
		}
		for _, s := range page {
			if s.FirstSeen.Before(rep.To) && s.Status != post.StatusMerged {
				sums = append(sums, s)
			}
		}
		if len(page) < store.MaxLimit {
			break
		}
	}
	sums = sums[:min(len(sums), maxClusters)]
	for _, s := range sums {
		c, err := r.GetCluster(ctx, s.ID)
		if err != nil {
			return fmt.Errorf("brief %s: cluster %s: %w", rep.Date, s.ID, err)
		}
		row := rep.row(c)
		switch {
		case !c.FirstSeen.Before(rep.From):
			if c.LastSeen.Before(rep.From) {
				continue
			}
			rep.New = append(rep.New, row)
		case !c.LastSeen.Before(rep.From) && row.NewEdges > 0:
			rep.Growing = append(rep.Growing, row)
		case !c.LastSeen.Before(rep.From) && row.ActiveEdges > 0 && !rep.quietEnd(c):
			rep.Steady++
		default:
			// Seen before the day, and either silent on it or silent
			// through its last hours, or expired: the network is winding
			// down.
			if c.LastSeen.Before(rep.From.Add(-24*time.Hour)) && c.Status == post.StatusActive {
				continue
			}
			rep.Fading = append(rep.Fading, row)
		}
		rep.Active = append(rep.Active, row)
		rep.clusters = append(rep.clusters, c)
	}
	return nil
}

// quietEnd reports whether the cluster's co-actions stopped six hours or
// more before the day's end.
func (rep *Report) quietEnd(c post.Cluster) bool {
	return c.LastSeen.Before(rep.To.Add(-6*time.Hour)) || c.Status == post.StatusExpired
}

func (rep *Report) row(c post.Cluster) ClusterRow {
	row := ClusterRow{ID: c.ID, Status: c.Status, Size: len(c.Members), Risk: c.Scores.Risk, FirstSeen: c.FirstSeen.UTC(),
		LastSeen: c.LastSeen.UTC(), Target: c.Target, TargetStance: c.TargetStance, BotShare: c.BotShare,
		Link: rep.link("/clusters/" + url.PathEscape(c.ID))}
	for _, e := range c.Edges {
		if !e.First.Before(rep.From) && e.First.Before(rep.To) {
			row.NewEdges++
		}
		if !e.Last.Before(rep.From) && e.First.Before(rep.To) {
			row.ActiveEdges++
		}
	}
	var sig []string
	for _, k := range slices.Sorted(maps.Keys(c.Signals)) {
		if c.Signals[k] > 0 {
			sig = append(sig, fmt.Sprintf("%d %s", c.Signals[k], k))
		}
	}
	row.Signals = strings.Join(sig, ", ")
	if len(c.TopObjects) > 0 {
		o := c.TopObjects[0]
		row.Top = topText(rep.ps, o)
		row.top = &o
	}
	return row
}

// readPosts pages through the day's posts for activity and narratives.
func (rep *Report) readPosts(ctx context.Context, r store.Reader, maxPosts int) error {
	members := map[string]bool{}
	for _, c := range rep.clusters {
		for _, m := range c.Members {
			members[m] = true
		}
	}
	tags, urls, domains, netTags := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	authors := map[string]bool{}
	for off := 0; off < maxPosts; off += store.MaxLimit {
		ps, total, err := r.SearchPosts(ctx, store.PostQuery{From: rep.From, To: rep.To, Limit: min(store.MaxLimit, maxPosts-off), Offset: off})
		if err != nil {
			return fmt.Errorf("brief %s: posts: %w", rep.Date, err)
		}
		rep.Posts = total
		for _, p := range ps {
			rep.PostsRead++
			h := p.Time.UTC().Hour()
			rep.Hourly[h]++
			authors[p.AuthorKey()] = true
			networked := members[p.AuthorKey()]
			if networked {
				rep.HourlyNetworked[h]++
			}
			for _, t := range p.Hashtags {
				t = "#" + store.NormalizeHashtag(t)
				tags[t]++
				if networked {
					netTags[t]++
				}
			}
			for _, u := range p.URLs {
				urls[u]++
				if pu, err := url.Parse(u); err == nil && pu.Host != "" {
					domains[strings.TrimPrefix(strings.ToLower(pu.Hostname()), "www.")]++
				}
			}
		}
		if len(ps) == 0 || off+len(ps) >= total {
			break
		}
	}
	rep.Accounts = len(authors)
	rep.Sampled = rep.PostsRead < rep.Posts
	if rep.ps.Enabled() {
		// Links can carry handles and post IDs; two links that differ
		// only in those still count apart, as before.
		pseudo := make(map[string]int, len(urls))
		for u, n := range urls {
			pseudo[rep.ps.URL(u)] += n
		}
		urls = pseudo
	}
	rep.Hashtags, rep.URLs, rep.Domains, rep.NetworkHashtags = top(tags, 10), top(urls, 10), top(domains, 10), top(netTags, 10)
	return nil
}

func top(m map[string]int, n int) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Key < out[j].Key
	})
	return out[:min(n, len(out))]
}

// readExamples quotes up to two posts of the day from each of the five
// riskiest new or growing clusters.
func (rep *Report) readExamples(ctx context.Context, r store.Reader) error {
	picked := 0
	for i, c := range rep.clusters {
		row := rep.Active[i]
		if !slices.ContainsFunc(rep.New, func(x ClusterRow) bool { return x.ID == row.ID }) &&
			!slices.ContainsFunc(rep.Growing, func(x ClusterRow) bool { return x.ID == row.ID }) {
			continue
		}
		if picked >= 5 {
			break
		}
		picked++
		n := 0
		for _, key := range c.Posts {
			if n >= 2 {
				break
			}
			p, err := r.GetPost(ctx, key)
			if err != nil {
				continue // the index may lag the graph; an example is optional
			}
			if p.Time.Before(rep.From) || !p.Time.Before(rep.To) {
				continue
			}
			ex := Example{Cluster: c.ID, Key: p.Key(), Author: p.Author, Time: p.Time.UTC(),
				Text: excerpt(p.Text, 280), Link: PlatformLink(p), Vigie: rep.link("/posts/" + url.PathEscape(p.Key()))}
			if rep.ps.Enabled() {
				// Rewrite before cutting, so no mention is cut in half
				// and left readable.
				q := rep.ps.Post(p)
				ex.Key, ex.Author, ex.Text, ex.Link, ex.Vigie = q.Key(), q.Author, excerpt(q.Text, 280), "", ""
			}
			rep.Examples = append(rep.Examples, ex)
			n++
		}
	}
	return nil
}

// PlatformLink is a post's address on its platform, when Vigie knows how
// to make one.
func PlatformLink(p post.Post) string {
	switch p.Platform {
	case post.PlatformTwitter:
		return "https://twitter.com/i/web/status/" + url.PathEscape(p.ID)
	}
	return ""
}

func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// candidates sums the day's clusters' stance per candidate.
func (rep *Report) candidates() {
	by := map[string]*CandidateRow{}
	for _, c := range rep.clusters {
		size := float64(len(c.Members))
		for name, s := range c.Stance {
			row := by[name]
			if row == nil {
				row = &CandidateRow{Name: name}
				by[name] = row
			}
			row.Favour += s.Favour * size
			row.Smear += s.Smear * size
			if max(s.Favour, s.Smear) >= stanceClear {
				row.Clusters++
			}
		}
	}
	for _, row := range by {
		rep.Candidates = append(rep.Candidates, *row)
	}
	slices.SortFunc(rep.Candidates, func(a, b CandidateRow) int {
		return cmp.Or(cmp.Compare(b.Favour+b.Smear, a.Favour+a.Smear), cmp.Compare(a.Name, b.Name))
	})
}

func topText(ps *privacy.Pseudonymizer, o post.KeyCount) string {
	return fmt.Sprintf("%s %s (%d)", o.Kind, ps.ObjectKey(o.Kind, o.Key), o.Count)
}

// summarise writes the executive summary: a few sentences an editor can
// paste.
func (rep *Report) summarise() { rep.Summary = rep.SummaryFor(rep.ps) }

// SummaryFor gives the executive summary with the accounts it names
// pseudonymised by ps: a briefing kept with real handles can still be
// announced to webhooks pseudonymised (privacy.pseudonymise: alerts).
// A nil ps gives the summary as the report holds it.
func (rep *Report) SummaryFor(ps *privacy.Pseudonymizer) string {
	if ps == nil {
		ps = rep.ps
	}
	var b strings.Builder
	day := rep.From.Format("Monday 2 January 2006")
	fmt.Fprintf(&b, "On %s Vigie stored %d posts by %d accounts", day, rep.Posts, rep.Accounts)
	if !rep.Final {
		b.WriteString(" (the day is not over in the stream yet; figures will grow)")
	}
	fmt.Fprintf(&b, ". %s active: %d new, %d growing, %d fading",
		plural(len(rep.Active), "coordinated network was", "coordinated networks were"), len(rep.New), len(rep.Growing), len(rep.Fading))
	if rep.Steady > 0 {
		fmt.Fprintf(&b, ", %d steady", rep.Steady)
	}
	b.WriteString(".")
	if len(rep.Active) > 0 {
		riskiest := rep.Active[0]
		for _, r := range rep.Active {
			if r.Risk > riskiest.Risk {
				riskiest = r
			}
		}
		fmt.Fprintf(&b, " The riskiest, %s (%d accounts, risk %.0f)", riskiest.ID, riskiest.Size, riskiest.Risk)
		if riskiest.top != nil {
			fmt.Fprintf(&b, ", pushed %s", topText(ps, *riskiest.top))
		}
		if riskiest.Target != "" {
			verb := "favouring"
			if riskiest.TargetStance == "smear" {
				verb = "smearing"
			}
			fmt.Fprintf(&b, ", %s %s", verb, riskiest.Target)
		}
		b.WriteString(".")
	}
	var fav, smear *CandidateRow
	for i := range rep.Candidates {
		c := &rep.Candidates[i]
		if c.Favour > 0 && (fav == nil || c.Favour > fav.Favour) {
			fav = c
		}
		if c.Smear > 0 && (smear == nil || c.Smear > smear.Smear) {
			smear = c
		}
	}
	if fav != nil {
		fmt.Fprintf(&b, " Most favoured by networks: %s (%.0f member-equivalents).", fav.Name, fav.Favour)
	}
	if smear != nil {
		fmt.Fprintf(&b, " Most smeared: %s (%.0f).", smear.Name, smear.Smear)
	}
	if len(rep.NetworkHashtags) > 0 {
		fmt.Fprintf(&b, " Networks' top hashtag: %s.", rep.NetworkHashtags[0].Key)
	} else if len(rep.Hashtags) > 0 {
		fmt.Fprintf(&b, " Top hashtag: %s.", rep.Hashtags[0].Key)
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Briefing gives the stored form of the report.
func (rep *Report) Briefing() (store.Briefing, error) {
	html, err := rep.HTML()
	if err != nil {
		return store.Briefing{}, err
	}
	return store.Briefing{Date: rep.Date, Generated: rep.Generated, Title: rep.Title, Summary: rep.Summary,
		Markdown: rep.Markdown(), HTML: html}, nil
}
