package scoring

import (
	"cmp"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/election"
	"github.com/vigie-osint/vigie/post"
)

// Trend is one narrative object (hashtag, link or domain) pushed by
// members of coordinated clusters.
type Trend struct {
	Kind string `json:"kind"` // "hashtag", "link" or "domain"
	Key  string `json:"key"`  // folded hashtag, URL, or host without www.
	// Score ranks trends: Recent × ln(1 + Recent / (Before + 1)). It grows
	// with the coordinated push now and with its rise against the window
	// before, so a steady old narrative ranks below a rising one of the
	// same size.
	Score float64 `json:"score"`
	// Recent and Before sum, over the pushers' posts in the recent window
	// and the one before, the coordination (0-1) of the most coordinated
	// cluster each pusher belongs to.
	Recent   float64  `json:"recent"`
	Before   float64  `json:"before"`
	Posts    int      `json:"posts"`    // pushers' posts in the recent window
	Accounts int      `json:"accounts"` // distinct pushers in the recent window
	Clusters []string `json:"clusters"` // pushing clusters, most weight first, at most 5
}

// TrendKinds are the kinds of narrative objects Trends ranks.
const (
	TrendHashtag = "hashtag"
	TrendLink    = "link"
	TrendDomain  = "domain"
)

// Trends ranks the hashtags, links and domains that members of the given
// clusters pushed in [now-window, now) against [now-2·window, now-window).
// Posts outside both windows and posts by non-members are ignored, so
// organic chatter never makes a trend. Ties break by kind and key, so the
// result is deterministic. limit ≤ 0 returns every trend.
func Trends(clusters []post.Cluster, posts []post.Post, now time.Time, window time.Duration, limit int) []Trend {
	type pusher struct {
		coord   float64
		cluster string
	}
	member := map[string]pusher{}
	for _, c := range clusters {
		if c.Status != "" && c.Status != post.StatusActive {
			continue
		}
		for _, m := range c.Members {
			if p, ok := member[m]; !ok || c.Scores.Coordination > p.coord || c.Scores.Coordination == p.coord && c.ID < p.cluster {
				member[m] = pusher{c.Scores.Coordination, c.ID}
			}
		}
	}
	type acc struct {
		t        Trend
		accounts map[string]bool
		clusters map[string]float64
	}
	all := map[string]*acc{}
	recentFrom, beforeFrom := now.Add(-window), now.Add(-2*window)
	for i := range posts {
		p := &posts[i]
		who, ok := member[p.AuthorKey()]
		if !ok || !p.Time.Before(now) || p.Time.Before(beforeFrom) {
			continue
		}
		recent := !p.Time.Before(recentFrom)
		seen := map[string]bool{}
		add := func(kind, key string) {
			if key == "" || seen[kind+"\x00"+key] {
				return
			}
			seen[kind+"\x00"+key] = true
			a := all[kind+"\x00"+key]
			if a == nil {
				a = &acc{t: Trend{Kind: kind, Key: key}, accounts: map[string]bool{}, clusters: map[string]float64{}}
				all[kind+"\x00"+key] = a
			}
			if !recent {
				a.t.Before += who.coord
				return
			}
			a.t.Recent += who.coord
			a.t.Posts++
			a.accounts[p.AuthorKey()] = true
			a.clusters[who.cluster] += who.coord
		}
		for _, h := range p.Hashtags {
			add(TrendHashtag, election.Fold(h))
		}
		for _, u := range p.URLs {
			add(TrendLink, u)
			if pu, err := url.Parse(u); err == nil && pu.Host != "" {
				add(TrendDomain, strings.TrimPrefix(strings.ToLower(pu.Hostname()), "www."))
			}
		}
	}
	var out []Trend
	for _, a := range all {
		if a.t.Recent == 0 {
			continue
		}
		t := a.t
		t.Score = round3(t.Recent * math.Log1p(t.Recent/(t.Before+1)))
		t.Recent, t.Before = round3(t.Recent), round3(t.Before)
		t.Accounts = len(a.accounts)
		for id := range a.clusters {
			t.Clusters = append(t.Clusters, id)
		}
		slices.SortFunc(t.Clusters, func(x, y string) int {
			return cmp.Or(cmp.Compare(a.clusters[y], a.clusters[x]), strings.Compare(x, y))
		})
		if len(t.Clusters) > 5 {
			t.Clusters = t.Clusters[:5]
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(x, y Trend) int {
		return cmp.Or(cmp.Compare(y.Score, x.Score), strings.Compare(x.Kind, y.Kind), strings.Compare(x.Key, y.Key))
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}
