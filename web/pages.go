package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store"
)

// The analyst pages. They are rendered on the server from the same
// store.Reader the API uses, so every page works without JavaScript and
// on any backend; the bundled script (web/ui) only adds the network
// picture and the charts, reading the JSON the pages embed or the API.

// Bounds on what one page shows, so a page stays fast and readable
// whatever the size of a cluster.
const (
	pageEdges        = 100 // strongest edges listed with their evidence
	pageEvidencePost = 200 // evidence posts fetched for one cluster page
	pageSamples      = 20  // sample posts shown on a cluster page
	pageTopN         = 10  // rows of the top URLs, hashtags, domains
	pageSize         = 50  // rows of the search, alerts and briefings pages
	trendTags        = 6   // hashtags followed on the overview
	trendDays        = 14  // days of trend at most
	trendClusters    = 10  // clusters whose sample posts give the hashtags
	trendSamples     = 50  // sample posts read per cluster
)

// page is what every template receives.
type page struct {
	Title string
	Nav   string // the active section of the navigation
	JS    bool   // the page uses the bundled script
	Data  any
	User  string // who signed in with a session, for the sign-out button
}

func (s *Server) renderPage(w http.ResponseWriter, r *http.Request, tmpl string, p page) {
	if id := IdentityFrom(r.Context()); id.Via == ViaSession {
		p.User = id.Name
	}
	s.render(w, r, tmpl, p)
}

// failPage answers a page request: bad parameters and missing documents
// get an HTML page with the status, anything else the JSON error path.
func (s *Server) failPage(w http.ResponseWriter, r *http.Request, err error) {
	var qe *store.QueryError
	var pe *paramError
	code := 0
	switch {
	case errors.As(err, &pe), errors.As(err, &qe):
		code = http.StatusBadRequest
	case errors.Is(err, store.ErrNotFound):
		code = http.StatusNotFound
	}
	if code == 0 {
		s.fail(w, r, err)
		return
	}
	var b strings.Builder
	if terr := s.tmpl.ExecuteTemplate(&b, "error.html", page{Title: http.StatusText(code), Data: map[string]any{"Code": code, "Err": err.Error()}}); terr != nil {
		s.fail(w, r, terr)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(b.String()))
}

// ---- overview ----

// trendSeries is the number of posts per day carrying one hashtag.
type trendSeries struct {
	Tag    string `json:"tag"`
	Counts []int  `json:"counts"`
	Total  int    `json:"total"`
}

// trends is the overview's narrative trends: the hashtags the active
// clusters push most, counted per UTC day over all stored posts, so an
// analyst sees whether a pushed narrative is spreading beyond its network.
type trends struct {
	Days   []string      `json:"days"`
	Series []trendSeries `json:"series"`
}

func (s *Server) narrativeTrends(ctx context.Context, cs []store.ClusterSummary) (trends, error) {
	var t trends
	weight := map[string]int{}
	var first, last time.Time
	for _, c := range cs {
		if first.IsZero() || c.FirstSeen.Before(first) {
			first = c.FirstSeen
		}
		if c.LastSeen.After(last) {
			last = c.LastSeen
		}
		for _, o := range c.TopObjects {
			if o.Kind == post.KindHashtag {
				weight[store.NormalizeHashtag(o.Key)] += o.Count
			}
		}
	}
	// The hashtag signal is off by default, so the hashtags mostly come
	// from the clusters' sample posts: distinct authors per hashtag.
	for i, c := range cs {
		if i == trendClusters {
			break
		}
		full, err := s.Store.GetCluster(ctx, c.ID)
		if err != nil {
			return t, err
		}
		seen := map[string]bool{}
		for j, key := range full.Posts {
			if j == trendSamples {
				break
			}
			p, err := s.Store.GetPost(ctx, key)
			if err != nil {
				continue // a sample post not (yet) indexed
			}
			for _, h := range p.Hashtags {
				h = store.NormalizeHashtag(h)
				if k := h + "\x00" + p.Author; h != "" && !seen[k] {
					seen[k] = true
					weight[h]++
				}
			}
		}
	}
	if len(weight) == 0 {
		return t, nil
	}
	tags := make([]string, 0, len(weight))
	for k := range weight {
		tags = append(tags, k)
	}
	slices.SortFunc(tags, func(a, b string) int {
		return cmp.Or(cmp.Compare(weight[b], weight[a]), strings.Compare(a, b))
	})
	if len(tags) > trendTags {
		tags = tags[:trendTags]
	}
	day := func(x time.Time) time.Time { return time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, time.UTC) }
	start, end := day(first.UTC()), day(last.UTC())
	if end.Sub(start) > (trendDays-1)*24*time.Hour {
		start = end.Add(-(trendDays - 1) * 24 * time.Hour)
	}
	var days []time.Time
	for d := start; !d.After(end); d = d.Add(24 * time.Hour) {
		days = append(days, d)
		t.Days = append(t.Days, d.Format(time.DateOnly))
	}
	for _, tag := range tags {
		ser := trendSeries{Tag: tag}
		for _, d := range days {
			_, n, err := s.Store.SearchPosts(ctx, store.PostQuery{Hashtag: tag, From: d, To: d.Add(24 * time.Hour), Limit: 1})
			if err != nil {
				return t, err
			}
			ser.Counts = append(ser.Counts, n)
			ser.Total += n
		}
		t.Series = append(t.Series, ser)
	}
	return t, nil
}

// trendCache keeps the last trends computed. They cost one read of each
// active cluster and a count per hashtag and day (about 150 ms on the
// bundled scenario), while the overview is the page reloaded most; the
// result is reused while the store is unchanged, or for trendTTL while
// the pipeline is writing.
type trendCache struct {
	mu  sync.Mutex
	key string
	at  time.Time
	val trends
}

const trendTTL = 15 * time.Second

func (s *Server) cachedTrends(ctx context.Context, cs []store.ClusterSummary, st store.Stats) (trends, error) {
	var kb strings.Builder
	fmt.Fprintf(&kb, "%d/%d/%d", st.Posts, st.Clusters, st.Alerts)
	for _, c := range cs {
		fmt.Fprintf(&kb, "/%s@%d", c.ID, c.Detected.UnixNano())
	}
	key := kb.String()
	s.trends.mu.Lock()
	defer s.trends.mu.Unlock() // one computation at a time; others wait for its result
	if s.trends.at.IsZero() || (s.trends.key != key && time.Since(s.trends.at) > trendTTL) {
		t, err := s.narrativeTrends(ctx, cs)
		if err != nil {
			return t, err
		}
		s.trends.key, s.trends.at, s.trends.val = key, time.Now(), t
	}
	return s.trends.val, nil
}

func (s *Server) overviewPage(w http.ResponseWriter, r *http.Request) {
	q, err := s.clusterQuery(r)
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	cs, err := s.Store.ListClusters(r.Context(), q)
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	st, err := s.Store.Stats(r.Context())
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	alerts, err := s.Store.ListAlerts(r.Context(), store.AlertQuery{Limit: 10})
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	tr, err := s.cachedTrends(r.Context(), cs, st)
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	s.renderPage(w, r, "index.html", page{Title: "Overview", Nav: "overview", JS: true, Data: map[string]any{
		"Clusters": cs, "Stats": st, "Alerts": alerts, "Trends": tr,
	}})
}

// ---- cluster ----

type memberRow struct {
	Key    string
	Degree int // edges carried by the record
	Weight int // sum of their weights
}

type evidenceRow struct {
	post.Evidence
	KeyA, KeyB string     // post keys of PostA, PostB
	A, B       *post.Post // nil when the post is not stored (or past the fetch bound)
}

// postKey gives the store key of a post named by evidence. The graph
// engine records keys ("platform:id"); a bare platform ID, as the model's
// comments allow, gets the cluster's platform.
func postKey(platform post.Platform, id string) string {
	if strings.HasPrefix(id, string(platform)+":") {
		return id
	}
	return string(platform) + ":" + id
}

type edgeRow struct {
	post.Edge
	Rows []evidenceRow
}

type countRow struct {
	Key   string
	Count int
}

type stanceRow struct {
	Candidate string
	Value     float64
}

// timeline is a cluster's co-actions per hour, for the activity chart and
// its table fallback.
type timeline struct {
	Start  []int64 `json:"start"` // bucket starts, Unix seconds
	Counts []int   `json:"counts"`
}

type clusterView struct {
	C          post.Cluster
	Members    []memberRow
	Edges      []edgeRow
	MoreEdges  int
	Timeline   timeline
	TopURLs    []countRow
	TopTags    []countRow
	TopDomains []countRow
	Samples    []post.Post
	Stance     []stanceRow
	Alerts     []post.Alert
}

func (s *Server) clusterView(ctx context.Context, id string) (clusterView, error) {
	c, err := s.Store.GetCluster(ctx, id)
	if err != nil {
		return clusterView{}, err
	}
	v := clusterView{C: c}

	// Members with their degree, strongest first: the keyboard and
	// screen-reader alternative to the network picture.
	deg := map[string]*memberRow{}
	for _, m := range c.Members {
		deg[m] = &memberRow{Key: m}
	}
	for _, e := range c.Edges {
		for _, k := range []string{e.A, e.B} {
			if m, ok := deg[k]; ok {
				m.Degree++
				m.Weight += e.Weight
			}
		}
	}
	for _, m := range c.Members {
		v.Members = append(v.Members, *deg[m])
	}
	slices.SortStableFunc(v.Members, func(a, b memberRow) int {
		return cmp.Or(cmp.Compare(b.Weight, a.Weight), strings.Compare(a.Key, b.Key))
	})

	// Posts: evidence of the strongest edges, then the sample.
	posts := map[string]*post.Post{}
	fetch := func(key string) *post.Post {
		if p, ok := posts[key]; ok {
			return p
		}
		if len(posts) >= pageEvidencePost+pageSamples {
			return nil
		}
		p, err := s.Store.GetPost(ctx, key)
		if err != nil {
			posts[key] = nil
			return nil
		}
		posts[key] = &p
		return &p
	}
	edges := slices.Clone(c.Edges)
	slices.SortStableFunc(edges, func(a, b post.Edge) int {
		return cmp.Or(cmp.Compare(b.Weight, a.Weight), strings.Compare(a.A, b.A), strings.Compare(a.B, b.B))
	})
	if len(edges) > pageEdges {
		v.MoreEdges = max(c.EdgeCount, len(c.Edges)) - pageEdges
		edges = edges[:pageEdges]
	} else if c.EdgeCount > len(edges) {
		v.MoreEdges = c.EdgeCount - len(edges)
	}
	evFetched := 0
	for _, e := range edges {
		row := edgeRow{Edge: e}
		for _, ev := range e.Evidence {
			er := evidenceRow{Evidence: ev, KeyA: postKey(c.Platform, ev.PostA), KeyB: postKey(c.Platform, ev.PostB)}
			if evFetched < pageEvidencePost {
				er.A = fetch(er.KeyA)
				er.B = fetch(er.KeyB)
				evFetched += 2
			}
			row.Rows = append(row.Rows, er)
		}
		v.Edges = append(v.Edges, row)
	}
	for _, key := range c.Posts {
		if len(v.Samples) == pageSamples {
			break
		}
		if p := fetch(key); p != nil {
			v.Samples = append(v.Samples, *p)
		}
	}

	// Top URLs, hashtags and domains: distinct accounts per object over
	// the posts read above, which are the members' coordinated posts.
	urls, tags, domains := map[string]map[string]bool{}, map[string]map[string]bool{}, map[string]map[string]bool{}
	add := func(m map[string]map[string]bool, k, who string) {
		if k == "" {
			return
		}
		if m[k] == nil {
			m[k] = map[string]bool{}
		}
		m[k][who] = true
	}
	for _, p := range posts {
		if p == nil {
			continue
		}
		who := p.AuthorKey()
		for _, u := range p.URLs {
			add(urls, u, who)
			if pu, err := url.Parse(u); err == nil {
				add(domains, strings.TrimPrefix(strings.ToLower(pu.Hostname()), "www."), who)
			}
		}
		for _, h := range p.Hashtags {
			add(tags, "#"+store.NormalizeHashtag(h), who)
		}
	}
	v.TopURLs, v.TopTags, v.TopDomains = topCounts(urls), topCounts(tags), topCounts(domains)

	// Activity: co-actions per hour, from the evidence of every edge.
	hours := map[int64]int{}
	var lo, hi int64
	for _, e := range c.Edges {
		for _, ev := range e.Evidence {
			for _, t := range []time.Time{ev.TimeA, ev.TimeB} {
				if t.IsZero() {
					continue
				}
				h := t.Unix() / 3600 * 3600
				hours[h]++
				if lo == 0 || h < lo {
					lo = h
				}
				hi = max(hi, h)
			}
		}
	}
	if lo != 0 && hi-lo <= 31*24*3600 {
		for h := lo; h <= hi; h += 3600 {
			v.Timeline.Start = append(v.Timeline.Start, h)
			v.Timeline.Counts = append(v.Timeline.Counts, hours[h])
		}
	}

	for cand, x := range c.Scores.Stance {
		v.Stance = append(v.Stance, stanceRow{Candidate: cand, Value: x})
	}
	slices.SortFunc(v.Stance, func(a, b stanceRow) int { return strings.Compare(a.Candidate, b.Candidate) })

	v.Alerts, err = s.Store.ListAlerts(ctx, store.AlertQuery{ClusterID: c.ID, Limit: 10})
	if err != nil {
		return v, err
	}
	return v, nil
}

func topCounts(m map[string]map[string]bool) []countRow {
	out := make([]countRow, 0, len(m))
	for k, who := range m {
		out = append(out, countRow{Key: k, Count: len(who)})
	}
	slices.SortFunc(out, func(a, b countRow) int { return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Key, b.Key)) })
	if len(out) > pageTopN {
		out = out[:pageTopN]
	}
	return out
}

// graphView is what the network picture needs of a cluster: its members
// and its edges without their evidence, a few kilobytes where the full
// cluster record is hundreds.
type graphView struct {
	ID        string      `json:"id"`
	Members   []string    `json:"members"`
	Edges     []graphEdge `json:"edges"`
	EdgeCount int         `json:"edge_count"`
}

type graphEdge struct {
	A      string `json:"a"`
	B      string `json:"b"`
	Weight int    `json:"weight"`
}

func (s *Server) getClusterGraph(w http.ResponseWriter, r *http.Request) {
	c, err := s.Store.GetCluster(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	g := graphView{ID: c.ID, Members: c.Members, Edges: make([]graphEdge, len(c.Edges)), EdgeCount: max(c.EdgeCount, len(c.Edges))}
	if g.Members == nil {
		g.Members = []string{}
	}
	for i, e := range c.Edges {
		g.Edges[i] = graphEdge{A: e.A, B: e.B, Weight: e.Weight}
	}
	if !s.audit(w, r, 1, map[string]int{"members": len(g.Members), "edges": len(g.Edges)}) {
		return
	}
	writeJSON(w, http.StatusOK, g)
}

func (s *Server) clusterPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.clusterView(r.Context(), r.PathValue("id"))
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	s.renderPage(w, r, "cluster.html", page{Title: "Cluster " + v.C.ID, Nav: "overview", JS: true, Data: v})
}

// ---- account, post ----

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	a, err := s.Store.GetAccount(r.Context(), r.PathValue("key"))
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	s.renderPage(w, r, "account.html", page{Title: "Account " + a.Key, Nav: "posts", Data: a})
}

func (s *Server) postPage(w http.ResponseWriter, r *http.Request) {
	p, err := s.Store.GetPost(r.Context(), r.PathValue("key"))
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	data := map[string]any{"P": &p}
	// The reposted post, so the analyst reads what was amplified.
	if p.RepostOf != "" {
		if o, err := s.Store.GetPost(r.Context(), string(p.Platform)+":"+p.RepostOf); err == nil {
			data["Orig"] = &o
		}
	}
	s.renderPage(w, r, "post.html", page{Title: "Post " + p.Key(), Nav: "posts", Data: data})
}

// ---- post search ----

type searchView struct {
	Q                      store.PostQuery
	Text, From, To         string // the form's values as typed
	Posts                  []post.Post
	Total                  int
	Searched               bool
	PrevOffset, NextOffset int
	HasPrev, HasNext       bool
	Query                  url.Values // for the paging links
}

func (s *Server) searchPage(w http.ResponseWriter, r *http.Request) {
	p := &params{r: r}
	q := store.PostQuery{
		Text:     p.str("q", 1000),
		Author:   p.str("author", 300),
		Platform: post.Platform(p.str("platform", 32)),
		Hashtag:  p.str("hashtag", 300),
		From:     p.time("from"),
		To:       p.time("to"),
		Limit:    pageSize,
		Offset:   p.int("offset"),
	}
	if p.err != nil {
		s.failPage(w, r, p.err)
		return
	}
	v := searchView{Q: q, Text: q.Text, From: r.URL.Query().Get("from"), To: r.URL.Query().Get("to")}
	v.Searched = q.Text != "" || q.Author != "" || q.Platform != "" || q.Hashtag != "" || !q.From.IsZero() || !q.To.IsZero()
	if v.Searched {
		posts, total, err := s.Store.SearchPosts(r.Context(), q)
		if err != nil {
			s.failPage(w, r, err)
			return
		}
		v.Posts, v.Total = posts, total
	}
	v.PrevOffset, v.NextOffset = max(0, q.Offset-pageSize), q.Offset+pageSize
	v.HasPrev, v.HasNext = q.Offset > 0, q.Offset+len(v.Posts) < v.Total
	v.Query = url.Values{}
	for _, k := range []string{"q", "author", "platform", "hashtag", "from", "to"} {
		if x := r.URL.Query().Get(k); x != "" {
			v.Query.Set(k, x)
		}
	}
	s.renderPage(w, r, "posts.html", page{Title: "Post search", Nav: "posts", Data: v})
}

// ---- alerts ----

func (s *Server) alertsPage(w http.ResponseWriter, r *http.Request) {
	p := &params{r: r}
	q := store.AlertQuery{ClusterID: p.str("cluster", 64), Since: p.time("since"), Limit: pageSize, Offset: p.int("offset")}
	if p.err != nil {
		s.failPage(w, r, p.err)
		return
	}
	as, err := s.Store.ListAlerts(r.Context(), q)
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	query := url.Values{}
	if q.ClusterID != "" {
		query.Set("cluster", q.ClusterID)
	}
	if x := r.URL.Query().Get("since"); x != "" {
		query.Set("since", x)
	}
	s.renderPage(w, r, "alerts.html", page{Title: "Alerts", Nav: "alerts", Data: map[string]any{
		"Alerts": as, "Q": q, "Query": query,
		"HasPrev": q.Offset > 0, "PrevOffset": max(0, q.Offset-pageSize),
		"HasNext": len(as) == pageSize, "NextOffset": q.Offset + pageSize,
	}})
}

// ---- briefings ----

// briefings gives the store's briefings, or nil when the backend keeps
// none (the Briefings part of the contract is optional for a Reader).
func (s *Server) briefings() store.Briefings {
	b, _ := s.Store.(store.Briefings)
	return b
}

func (s *Server) briefingsPage(w http.ResponseWriter, r *http.Request) {
	p := &params{r: r}
	q := store.BriefingQuery{Limit: pageSize, Offset: p.int("offset")}
	if p.err != nil {
		s.failPage(w, r, p.err)
		return
	}
	var list []store.BriefingSummary
	b := s.briefings()
	if b != nil {
		var err error
		if list, err = b.ListBriefings(r.Context(), q); err != nil {
			s.failPage(w, r, err)
			return
		}
	}
	s.renderPage(w, r, "briefings.html", page{Title: "Briefings", Nav: "briefings", Data: map[string]any{
		"Supported": b != nil, "Briefings": list,
		"HasPrev": q.Offset > 0, "PrevOffset": max(0, q.Offset-pageSize),
		"HasNext": len(list) == pageSize, "NextOffset": q.Offset + pageSize,
	}})
}

// briefingDocument serves a stored briefing's self-contained HTML. It was
// rendered by Vigie but quotes posts, so it is served sandboxed: no script
// runs, no request leaves, only its inline styles and data: images load.
func (s *Server) briefingDocument(w http.ResponseWriter, r *http.Request) {
	b := s.briefings()
	if b == nil {
		s.failPage(w, r, fmt.Errorf("briefings: this store keeps none: %w", store.ErrNotFound))
		return
	}
	br, err := b.GetBriefing(r.Context(), r.PathValue("date"))
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	if !s.audit(w, r, 1, nil) {
		return
	}
	if r.URL.Query().Get("format") == "markdown" {
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		_, _ = w.Write([]byte(br.Markdown))
		return
	}
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(br.HTML))
}
