package elastic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store"
)

// maxWindow is the templates' index.max_result_window: the deepest
// offset+limit a search may ask for.
const maxWindow = 1_000_000

// maxExpansions bounds the terms a phrase ending in a long prefix (over
// the 10 characters of index_prefixes) expands to.
const maxExpansions = 1024

// Fields the queries use.
const (
	fieldTermsText     = "vigie.terms.text"
	fieldTermsHashtags = "vigie.terms.hashtags"
)

type searchHit struct {
	Index  string            `json:"_index"`
	ID     string            `json:"_id"`
	Source json.RawMessage   `json:"_source"`
	Sort   []json.RawMessage `json:"sort"`
}

type searchResponse struct {
	Hits struct {
		Total struct {
			Value int `json:"value"`
		} `json:"total"`
		Hits []searchHit `json:"hits"`
	} `json:"hits"`
	Aggregations map[string]struct {
		Hits struct {
			Hits []searchHit `json:"hits"`
		} `json:"hits"`
	} `json:"aggregations"`
}

// search runs a search on index (a name or pattern); missing indices
// match nothing instead of failing.
func (s *Store) search(ctx context.Context, index string, body map[string]any) (*searchResponse, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	q := url.Values{"ignore_unavailable": {"true"}, "allow_no_indices": {"true"}}
	var res searchResponse
	if err := s.do(ctx, http.MethodPost, "/"+index+"/_search", q, b, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// getDoc fetches a document by key with a realtime GET; a missing document
// or index gives store.ErrNotFound.
func (s *Store) getDoc(ctx context.Context, index, key string) (json.RawMessage, error) {
	var res struct {
		Found  bool            `json:"found"`
		Source json.RawMessage `json:"_source"`
	}
	err := s.do(ctx, http.MethodGet, "/"+url.PathEscape(index)+"/_doc/"+url.PathEscape(docID(key)), nil, nil, &res)
	var ee *Error
	if errors.As(err, &ee) && ee.Status == http.StatusNotFound {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if !res.Found {
		return nil, store.ErrNotFound
	}
	return res.Source, nil
}

type located struct {
	index  string
	source json.RawMessage
}

// locate finds the daily indices holding posts by _id: with realtime gets
// in the indices this store wrote lately (a search would not see writes
// made since the last refresh), and with a search everywhere else.
func (s *Store) locate(ctx context.Context, ids []string, withSource bool) (map[string][]located, error) {
	out := map[string][]located{}
	seen := map[[2]string]bool{}
	add := func(index, id string, src json.RawMessage) {
		if seen[[2]string{index, id}] {
			return
		}
		seen[[2]string{index, id}] = true
		out[id] = append(out[id], located{index: index, source: src})
	}
	const chunk = 1000
	if recent := s.recentIndices(); len(recent) > 0 {
		per := max(1, chunk/len(recent))
		for start := 0; start < len(ids); start += per {
			part := ids[start:min(start+per, len(ids))]
			docs := make([]map[string]string, 0, len(part)*len(recent))
			for _, ix := range recent {
				for _, id := range part {
					docs = append(docs, map[string]string{"_index": ix, "_id": id})
				}
			}
			b, err := json.Marshal(map[string]any{"docs": docs})
			if err != nil {
				return nil, err
			}
			var res struct {
				Docs []struct {
					Index  string          `json:"_index"`
					ID     string          `json:"_id"`
					Found  bool            `json:"found"`
					Source json.RawMessage `json:"_source"`
				} `json:"docs"`
			}
			q := url.Values{"_source": {fmt.Sprint(withSource)}}
			if withSource {
				q.Set("_source_excludes", "vigie")
				q.Del("_source")
			}
			if err := s.do(ctx, http.MethodPost, "/_mget", q, b, &res); err != nil {
				return nil, fmt.Errorf("locate posts: %w", err)
			}
			for _, d := range res.Docs {
				if d.Found { // a deleted index answers an error, not found
					add(d.Index, d.ID, d.Source)
				}
			}
		}
	}
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		body := map[string]any{
			"query":            map[string]any{"ids": map[string]any{"values": part}},
			"size":             min(4*len(part), 10000),
			"track_total_hits": false,
		}
		if withSource {
			body["_source"] = map[string]any{"excludes": []string{"vigie"}}
		} else {
			body["_source"] = false
		}
		res, err := s.search(ctx, s.postsPattern(), body)
		if err != nil {
			return nil, fmt.Errorf("locate posts: %w", err)
		}
		for _, h := range res.Hits.Hits {
			add(h.Index, h.ID, h.Source)
		}
	}
	return out, nil
}

// PostQueryBody gives the search request SearchPosts sends for q (already
// normalized), or nil when q can match nothing. Exported for the golden
// tests of the query translation.
func PostQueryBody(q store.PostQuery) map[string]any {
	var filter []any
	if strings.TrimSpace(q.Text) != "" {
		ts := store.ParseText(q.Text)
		if len(ts) == 0 {
			return nil
		}
		for _, t := range ts {
			toks := tokens(t.Text)
			if len(toks) == 0 {
				return nil
			}
			filter = append(filter, map[string]any{"bool": map[string]any{
				"should": []any{
					textClause(fieldTermsText, toks, t.Prefix),
					textClause(fieldTermsHashtags, toks, t.Prefix),
				},
				"minimum_should_match": 1,
			}})
		}
	}
	term := func(field string, v any) {
		filter = append(filter, map[string]any{"term": map[string]any{field: v}})
	}
	if q.Hashtag != "" {
		term("vigie.tags", q.Hashtag)
	}
	if q.Author != "" {
		term("vigie.author_key", q.Author)
	}
	if q.Platform != "" {
		term("platform", string(q.Platform))
	}
	if r := nsRange(q.From, q.To); r != nil {
		filter = append(filter, map[string]any{"range": map[string]any{"vigie.time_ns": r}})
	}
	return map[string]any{
		"query":            map[string]any{"bool": map[string]any{"filter": orEmpty(filter)}},
		"sort":             []any{map[string]any{"vigie.time_ns": "desc"}, map[string]any{"vigie.key": "asc"}},
		"from":             q.Offset,
		"size":             q.Limit,
		"track_total_hits": true,
		"_source":          map[string]any{"excludes": []string{"vigie"}},
	}
}

func orEmpty(f []any) []any {
	if f == nil {
		return []any{}
	}
	return f
}

// textClause matches one query term (its tokens) in one field: a phrase,
// its last token a prefix when asked. A one-token prefix uses the prefix
// query (served by index_prefixes up to 10 characters, and with no
// expansion limit above); a longer phrase ending in a prefix uses
// match_phrase_prefix, which index_prefixes also serves exactly up to 10
// characters.
func textClause(field string, toks []string, prefix bool) map[string]any {
	joined := strings.Join(toks, " ")
	switch {
	case prefix && len(toks) == 1:
		return map[string]any{"prefix": map[string]any{field: map[string]any{"value": joined}}}
	case prefix:
		return map[string]any{"match_phrase_prefix": map[string]any{field: map[string]any{"query": joined, "max_expansions": maxExpansions}}}
	case len(toks) == 1:
		return map[string]any{"term": map[string]any{field: joined}}
	default:
		return map[string]any{"match_phrase": map[string]any{field: map[string]any{"query": joined}}}
	}
}

// nsRange is a [from, to) range over a Unix-nanosecond field.
func nsRange(from, to time.Time) map[string]any {
	if from.IsZero() && to.IsZero() {
		return nil
	}
	r := map[string]any{}
	if !from.IsZero() {
		r["gte"] = nanos(from)
	}
	if !to.IsZero() {
		r["lt"] = nanos(to)
	}
	return r
}

func checkWindow(offset, limit int) error {
	if offset > maxWindow-limit {
		return &store.QueryError{Field: "offset", Reason: fmt.Sprintf("offset+limit above %d, the deepest page Elasticsearch serves", maxWindow)}
	}
	return nil
}

// SearchPosts implements store.Reader.
func (s *Store) SearchPosts(ctx context.Context, q store.PostQuery) ([]post.Post, int, error) {
	q, err := q.Normalized()
	if err == nil {
		err = checkWindow(q.Offset, q.Limit)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("elastic: search posts: %w", err)
	}
	body := PostQueryBody(q)
	if body == nil {
		return []post.Post{}, 0, ctx.Err()
	}
	res, err := s.search(ctx, s.postsPattern(), body)
	if err != nil {
		return nil, 0, fmt.Errorf("elastic: search posts: %w", err)
	}
	posts, err := decodePosts(res.Hits.Hits)
	if err != nil {
		return nil, 0, fmt.Errorf("elastic: search posts: %w", err)
	}
	return posts, res.Hits.Total.Value, nil
}

func decodePosts(hits []searchHit) ([]post.Post, error) {
	out := make([]post.Post, 0, len(hits))
	for _, h := range hits {
		var p post.Post
		if err := json.Unmarshal(h.Source, &p); err != nil {
			return nil, fmt.Errorf("decode post %s: %w", h.ID, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// GetPost implements store.Reader.
func (s *Store) GetPost(ctx context.Context, key string) (post.Post, error) {
	where, err := s.locate(ctx, []string{docID(key)}, true)
	if err != nil {
		return post.Post{}, fmt.Errorf("elastic: get post %s: %w", key, err)
	}
	hits := where[docID(key)]
	if len(hits) == 0 {
		return post.Post{}, fmt.Errorf("elastic: get post %s: %w", key, store.ErrNotFound)
	}
	// The first is the realtime copy when there is one; several copies
	// exist only while a moved post's old copy is being deleted.
	var p post.Post
	if err := json.Unmarshal(hits[0].source, &p); err != nil {
		return post.Post{}, fmt.Errorf("elastic: get post %s: decode: %w", key, err)
	}
	return p, nil
}

// GetCluster implements store.Reader.
func (s *Store) GetCluster(ctx context.Context, id string) (post.Cluster, error) {
	src, err := s.getDoc(ctx, s.index(kindClusters), id)
	if err != nil {
		return post.Cluster{}, fmt.Errorf("elastic: get cluster %s: %w", id, err)
	}
	var c post.Cluster
	if err := json.Unmarshal(src, &c); err != nil {
		return post.Cluster{}, fmt.Errorf("elastic: get cluster %s: decode: %w", id, err)
	}
	return c, nil
}

// clusterSort is ListClusters' order: risk, size, ID.
var clusterSort = []any{
	map[string]any{"scores.risk": "desc"},
	map[string]any{"size": "desc"},
	map[string]any{"id": "asc"},
}

// ClusterQueryBody gives the search request ListClusters sends for q
// (already normalized).
func ClusterQueryBody(q store.ClusterQuery) map[string]any {
	var filter []any
	if q.Status != store.StatusAll {
		filter = append(filter, map[string]any{"term": map[string]any{"status": q.Status}})
	}
	if q.MinRisk != 0 {
		filter = append(filter, map[string]any{"range": map[string]any{"scores.risk": map[string]any{"gte": q.MinRisk}}})
	}
	if r := nsRange(q.Since, time.Time{}); r != nil {
		filter = append(filter, map[string]any{"range": map[string]any{"vigie.last_seen_ns": r}})
	}
	if q.Account != "" {
		filter = append(filter, map[string]any{"term": map[string]any{"members": q.Account}})
	}
	return map[string]any{
		"query":            map[string]any{"bool": map[string]any{"filter": orEmpty(filter)}},
		"sort":             clusterSort,
		"from":             q.Offset,
		"size":             q.Limit,
		"track_total_hits": false,
		"_source":          []string{"summary"},
	}
}

// ListClusters implements store.Reader.
func (s *Store) ListClusters(ctx context.Context, q store.ClusterQuery) ([]store.ClusterSummary, error) {
	q, err := q.Normalized()
	if err == nil {
		err = checkWindow(q.Offset, q.Limit)
	}
	if err != nil {
		return nil, fmt.Errorf("elastic: list clusters: %w", err)
	}
	res, err := s.search(ctx, s.index(kindClusters), ClusterQueryBody(q))
	if err != nil {
		return nil, fmt.Errorf("elastic: list clusters: %w", err)
	}
	return decodeSummaries(res.Hits.Hits)
}

func decodeSummaries(hits []searchHit) ([]store.ClusterSummary, error) {
	out := make([]store.ClusterSummary, 0, len(hits))
	for _, h := range hits {
		var d struct {
			Summary store.ClusterSummary `json:"summary"`
		}
		if err := json.Unmarshal(h.Source, &d); err != nil {
			return nil, fmt.Errorf("elastic: decode cluster %s: %w", h.ID, err)
		}
		out = append(out, d.Summary)
	}
	return out, nil
}

// sortNanos reads a Unix-nanosecond sort value.
func sortNanos(h searchHit) (time.Time, error) {
	if len(h.Sort) == 0 {
		return time.Time{}, fmt.Errorf("hit %s has no sort value", h.ID)
	}
	var n int64
	if err := json.Unmarshal(h.Sort[0], &n); err != nil {
		return time.Time{}, fmt.Errorf("hit %s: sort value %s: %w", h.ID, h.Sort[0], err)
	}
	if n == math.MinInt64 {
		return time.Time{}, nil
	}
	return time.Unix(0, n).UTC(), nil
}

// GetAccount implements store.Reader.
func (s *Store) GetAccount(ctx context.Context, key string) (store.AccountView, error) {
	v := store.AccountView{Key: key}
	fail := func(what string, err error) (store.AccountView, error) {
		return store.AccountView{}, fmt.Errorf("elastic: get account %s: %s: %w", key, what, err)
	}
	res, err := s.search(ctx, s.postsPattern(), map[string]any{
		"query":            map[string]any{"bool": map[string]any{"filter": []any{map[string]any{"term": map[string]any{"vigie.author_key": key}}}}},
		"sort":             []any{map[string]any{"vigie.time_ns": "desc"}, map[string]any{"vigie.key": "asc"}},
		"size":             store.AccountRecentPosts,
		"track_total_hits": true,
		"_source":          map[string]any{"excludes": []string{"vigie"}},
		"aggs": map[string]any{"first": map[string]any{"top_hits": map[string]any{
			"size": 1, "sort": []any{map[string]any{"vigie.time_ns": "asc"}}, "_source": false,
		}}},
	})
	if err != nil {
		return fail("posts", err)
	}
	v.Posts = res.Hits.Total.Value
	if v.Recent, err = decodePosts(res.Hits.Hits); err != nil {
		return fail("posts", err)
	}
	if len(res.Hits.Hits) > 0 {
		if v.LastPost, err = sortNanos(res.Hits.Hits[0]); err != nil {
			return fail("last post", err)
		}
		first := res.Aggregations["first"].Hits.Hits
		if len(first) == 0 {
			return fail("first post", errors.New("no top hit"))
		}
		if v.FirstPost, err = sortNanos(first[0]); err != nil {
			return fail("first post", err)
		}
	}
	src, err := s.getDoc(ctx, s.index(kindAccounts), key)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return fail("snapshot", err)
	default:
		var d accountDoc
		if err := json.Unmarshal(src, &d); err != nil {
			return fail("decode snapshot", err)
		}
		v.Account = d.Account
	}
	body := ClusterQueryBody(store.ClusterQuery{Status: store.StatusAll, Account: key, Limit: store.AccountClusters})
	cres, err := s.search(ctx, s.index(kindClusters), body)
	if err != nil {
		return fail("clusters", err)
	}
	if v.Clusters, err = decodeSummaries(cres.Hits.Hits); err != nil {
		return fail("clusters", err)
	}
	if v.Posts == 0 && len(v.Clusters) == 0 {
		return store.AccountView{}, fmt.Errorf("elastic: get account %s: %w", key, store.ErrNotFound)
	}
	return v, nil
}

// AlertQueryBody gives the search request ListAlerts sends for q.
func AlertQueryBody(q store.AlertQuery) map[string]any {
	var filter []any
	if q.ClusterID != "" {
		filter = append(filter, map[string]any{"term": map[string]any{"cluster_id": q.ClusterID}})
	}
	if r := nsRange(q.Since, time.Time{}); r != nil {
		filter = append(filter, map[string]any{"range": map[string]any{"vigie.time_ns": r}})
	}
	return map[string]any{
		"query":            map[string]any{"bool": map[string]any{"filter": orEmpty(filter)}},
		"sort":             []any{map[string]any{"vigie.time_ns": "desc"}, map[string]any{"id": "asc"}},
		"from":             q.Offset,
		"size":             q.Limit,
		"track_total_hits": false,
		"_source":          map[string]any{"excludes": []string{"vigie"}},
	}
}

// ListAlerts implements store.Reader.
func (s *Store) ListAlerts(ctx context.Context, q store.AlertQuery) ([]post.Alert, error) {
	q, err := q.Normalized()
	if err == nil {
		err = checkWindow(q.Offset, q.Limit)
	}
	if err != nil {
		return nil, fmt.Errorf("elastic: list alerts: %w", err)
	}
	res, err := s.search(ctx, s.index(kindAlerts), AlertQueryBody(q))
	if err != nil {
		return nil, fmt.Errorf("elastic: list alerts: %w", err)
	}
	out := make([]post.Alert, 0, len(res.Hits.Hits))
	for _, h := range res.Hits.Hits {
		var a post.Alert
		if err := json.Unmarshal(h.Source, &a); err != nil {
			return nil, fmt.Errorf("elastic: list alerts: decode %s: %w", h.ID, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// count counts the documents of index matching query (nil: all).
func (s *Store) count(ctx context.Context, index string, query map[string]any) (int64, error) {
	var body []byte
	if query != nil {
		var err error
		if body, err = json.Marshal(map[string]any{"query": query}); err != nil {
			return 0, err
		}
	}
	q := url.Values{"ignore_unavailable": {"true"}, "allow_no_indices": {"true"}}
	var res struct {
		Count int64 `json:"count"`
	}
	if err := s.do(ctx, http.MethodPost, "/"+index+"/_count", q, body, &res); err != nil {
		return 0, err
	}
	return res.Count, nil
}

// Stats implements store.Reader.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	var st store.Stats
	for _, c := range []struct {
		n     *int64
		index string
		query map[string]any
	}{
		{&st.Posts, s.postsPattern(), nil},
		{&st.Accounts, s.index(kindAccounts), nil},
		{&st.Clusters, s.index(kindClusters), nil},
		{&st.ActiveClusters, s.index(kindClusters), map[string]any{"term": map[string]any{"status": post.StatusActive}}},
		{&st.Alerts, s.index(kindAlerts), nil},
	} {
		n, err := s.count(ctx, c.index, c.query)
		if err != nil {
			return store.Stats{}, fmt.Errorf("elastic: stats: %w", err)
		}
		*c.n = n
	}
	return st, nil
}

// LoadCheckpoint implements store.Checkpoints.
func (s *Store) LoadCheckpoint(ctx context.Context, name string) ([]byte, error) {
	src, err := s.getDoc(ctx, s.index(kindCheckpoints), name)
	if err != nil {
		return nil, fmt.Errorf("elastic: load checkpoint %s: %w", name, err)
	}
	var d checkpointDoc
	if err := json.Unmarshal(src, &d); err != nil {
		return nil, fmt.Errorf("elastic: load checkpoint %s: decode: %w", name, err)
	}
	if d.Data == nil {
		d.Data = []byte{}
	}
	return d.Data, nil
}

// GetBriefing implements store.Briefings.
func (s *Store) GetBriefing(ctx context.Context, date string) (store.Briefing, error) {
	if _, err := store.ParseBriefingDate(date); err != nil {
		return store.Briefing{}, fmt.Errorf("elastic: get briefing: %w", err)
	}
	src, err := s.getDoc(ctx, s.index(kindBriefings), date)
	if err != nil {
		return store.Briefing{}, fmt.Errorf("elastic: get briefing %s: %w", date, err)
	}
	var b store.Briefing
	if err := json.Unmarshal(src, &b); err != nil {
		return store.Briefing{}, fmt.Errorf("elastic: get briefing %s: decode: %w", date, err)
	}
	return b, nil
}

// ListBriefings implements store.Briefings.
func (s *Store) ListBriefings(ctx context.Context, q store.BriefingQuery) ([]store.BriefingSummary, error) {
	q, err := q.Normalized()
	if err == nil {
		err = checkWindow(q.Offset, q.Limit)
	}
	if err != nil {
		return nil, fmt.Errorf("elastic: list briefings: %w", err)
	}
	res, err := s.search(ctx, s.index(kindBriefings), map[string]any{
		"query":            map[string]any{"match_all": map[string]any{}},
		"sort":             []any{map[string]any{"date": "desc"}},
		"from":             q.Offset,
		"size":             q.Limit,
		"track_total_hits": false,
		"_source":          []string{"date", "generated", "title", "summary"},
	})
	if err != nil {
		return nil, fmt.Errorf("elastic: list briefings: %w", err)
	}
	out := make([]store.BriefingSummary, 0, len(res.Hits.Hits))
	for _, h := range res.Hits.Hits {
		var b store.BriefingSummary
		if err := json.Unmarshal(h.Source, &b); err != nil {
			return nil, fmt.Errorf("elastic: list briefings: decode %s: %w", h.ID, err)
		}
		out = append(out, b)
	}
	return out, nil
}
