package web

import (
	"net/http"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/scoring"
	"github.com/vigie-osint/vigie/store"
)

// Bounds of GET /api/trends: how many of the riskiest active clusters,
// and how many of their members, it reads. Each member costs one post
// query, so the endpoint stays within a second on the embedded store.
const (
	trendAPIClusters = 100
	trendAPIMembers  = 2000
	trendAPIWindow   = 6 * time.Hour
)

// apiTrends serves GET /api/trends: the hashtags, links and domains that
// members of active clusters push, ranked by scoring.Trends (the recent
// window against the one before, weighted by the pushers' coordination).
//
// Parameters: window (Go duration, 1m to 30 days, default 6h); now (RFC
// 3339; default the latest LastSeen of the active clusters, i.e. stream
// time, so a replay of 2017 data trends in 2017); limit (default 20, at
// most 200).
func (s *Server) apiTrends(w http.ResponseWriter, r *http.Request) {
	p := &params{r: r}
	window := trendAPIWindow
	if v := p.str("window", 32); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute || d > 30*24*time.Hour {
			s.fail(w, r, &paramError{"window", "must be a duration between 1m and 720h, like 6h"})
			return
		}
		window = d
	}
	now := p.time("now")
	given := !now.IsZero()
	limit := p.int("limit")
	if p.err != nil {
		s.fail(w, r, p.err)
		return
	}
	switch {
	case limit < 0:
		s.fail(w, r, &paramError{"limit", "negative"})
		return
	case limit == 0:
		limit = 20
	case limit > 200:
		limit = 200
	}
	ctx := r.Context()
	sums, err := s.Store.ListClusters(ctx, store.ClusterQuery{Status: post.StatusActive, Limit: trendAPIClusters})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var clusters []post.Cluster
	members := map[string]bool{}
	var order []string
	for _, sum := range sums {
		c, err := s.Store.GetCluster(ctx, sum.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		clusters = append(clusters, c)
		if !given && c.LastSeen.After(now) {
			now = c.LastSeen
		}
		for _, m := range c.Members {
			if !members[m] && len(order) < trendAPIMembers {
				members[m] = true
				order = append(order, m)
			}
		}
	}
	if now.IsZero() {
		now = time.Now()
	}
	if !given {
		now = now.Add(time.Second) // LastSeen is the last co-action: include it
	}
	var posts []post.Post
	for _, m := range order {
		ps, _, err := s.Store.SearchPosts(ctx, store.PostQuery{Author: m, From: now.Add(-2 * window), To: now, Limit: store.MaxLimit})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		posts = append(posts, ps...)
	}
	tr := scoring.Trends(clusters, posts, now, window, limit)
	if tr == nil {
		tr = []scoring.Trend{}
	}
	if !s.audit(w, r, len(tr), map[string]int{"clusters": len(clusters), "posts": len(posts)}) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"trends": tr, "count": len(tr), "now": now.UTC(), "window": window.String(), "clusters": len(clusters)})
}
