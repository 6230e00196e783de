package elastic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// DeletePostsBefore implements store.Retention. Posts live in daily
// indices, so a day wholly before t is dropped as an index (instant, and
// its disk is freed at once, unlike deleted documents that wait for a
// segment merge); only the day t falls in is trimmed, by searches and
// bulk deletes (deleteByQuery). Account documents of the authors left
// without a post are deleted afterwards.
//
// Unlike the embedded store this is not one transaction: a post of an
// author written while the run checks that author's remaining posts can
// see its account document deleted (the next post of that author makes
// it again). The authors of the deleted posts are held in memory, some
// tens of bytes each.
func (s *Store) DeletePostsBefore(ctx context.Context, t time.Time) (int64, error) {
	fail := func(err error) (int64, error) {
		return 0, fmt.Errorf("elastic: delete posts before %s: %w", t.UTC().Format(time.RFC3339), err)
	}
	before := map[string]any{"range": map[string]any{"vigie.time_ns": map[string]any{"lt": nanos(t)}}}
	// Searches and counts see refreshed documents only.
	if err := s.refreshPosts(ctx); err != nil {
		return fail(err)
	}
	authors, err := s.authorsOf(ctx, before)
	if err != nil {
		return fail(err)
	}
	indices, err := s.postIndices(ctx)
	if err != nil {
		return fail(err)
	}
	var total int64
	dayPrefix := s.prefix + "-posts-"
	for _, ix := range indices {
		day, err := time.Parse("2006.01.02", strings.TrimPrefix(ix, dayPrefix))
		if err != nil {
			continue // not one of ours
		}
		switch {
		case !day.Add(24 * time.Hour).After(t):
			// Every post of the day is before t.
			n, err := s.count(ctx, ix, nil)
			if err != nil {
				return total, fmt.Errorf("elastic: delete posts: count %s: %w", ix, err)
			}
			err = s.do(ctx, http.MethodDelete, "/"+url.PathEscape(ix), nil, nil, nil)
			var ee *Error
			if err != nil && !(errors.As(err, &ee) && ee.Status == http.StatusNotFound) {
				return total, fmt.Errorf("elastic: delete posts: delete index %s: %w", ix, err)
			}
			total += n
			s.log.Info("retention: deleted daily posts index", "index", ix, "posts", n)
		case day.Before(t):
			n, err := s.deleteByQuery(ctx, ix, before)
			if err != nil {
				return total, fmt.Errorf("elastic: delete posts: %s: %w", ix, err)
			}
			total += n
		}
	}
	if err := s.refreshPosts(ctx); err != nil {
		return total, fmt.Errorf("elastic: delete posts: %w", err)
	}
	if err := s.deleteOrphanAccounts(ctx, authors); err != nil {
		return total, fmt.Errorf("elastic: delete posts: %w", err)
	}
	return total, nil
}

func (s *Store) refreshPosts(ctx context.Context) error {
	q := url.Values{"ignore_unavailable": {"true"}, "allow_no_indices": {"true"}}
	return s.do(ctx, http.MethodPost, "/"+s.postsPattern()+"/_refresh", q, nil, nil)
}

// postIndices lists the daily posts indices, sorted.
func (s *Store) postIndices(ctx context.Context) ([]string, error) {
	var rows []struct {
		Index string `json:"index"`
	}
	q := url.Values{"format": {"json"}, "h": {"index"}}
	if err := s.do(ctx, http.MethodGet, "/_cat/indices/"+s.postsPattern(), q, nil, &rows); err != nil {
		return nil, fmt.Errorf("list posts indices: %w", err)
	}
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.Index)
	}
	slices.Sort(out)
	return out, nil
}

// authorsOf gives the distinct author keys of the posts query matches,
// paging a composite aggregation.
func (s *Store) authorsOf(ctx context.Context, query map[string]any) ([]string, error) {
	var out []string
	var after map[string]any
	for {
		comp := map[string]any{"size": 1000, "sources": []any{map[string]any{"a": map[string]any{"terms": map[string]any{"field": "vigie.author_key"}}}}}
		if after != nil {
			comp["after"] = after
		}
		b, err := json.Marshal(map[string]any{"size": 0, "track_total_hits": false, "query": map[string]any{"bool": map[string]any{"filter": []any{query}}},
			"aggs": map[string]any{"authors": map[string]any{"composite": comp}}})
		if err != nil {
			return nil, err
		}
		var res struct {
			Aggregations struct {
				Authors struct {
					AfterKey map[string]any `json:"after_key"`
					Buckets  []struct {
						Key struct {
							A string `json:"a"`
						} `json:"key"`
					} `json:"buckets"`
				} `json:"authors"`
			} `json:"aggregations"`
		}
		q := url.Values{"ignore_unavailable": {"true"}, "allow_no_indices": {"true"}}
		if err := s.do(ctx, http.MethodPost, "/"+s.postsPattern()+"/_search", q, b, &res); err != nil {
			return nil, fmt.Errorf("authors of deleted posts: %w", err)
		}
		for _, bk := range res.Aggregations.Authors.Buckets {
			out = append(out, bk.Key.A)
		}
		if len(res.Aggregations.Authors.Buckets) == 0 || res.Aggregations.Authors.AfterKey == nil {
			return out, nil
		}
		after = res.Aggregations.Authors.AfterKey
	}
}

// deleteByQuery deletes the documents of index that query matches and
// returns how many. It searches a page of _ids, bulk-deletes them,
// refreshes and repeats until none match: _delete_by_query belongs to the
// reindex module, which a server built from Maven Central (and so the
// integration tests) lacks. The deletion is refreshed when it returns.
func (s *Store) deleteByQuery(ctx context.Context, index string, query map[string]any) (int64, error) {
	const page = 1000
	var total int64
	for {
		b, err := json.Marshal(map[string]any{"query": map[string]any{"bool": map[string]any{"filter": []any{query}}},
			"size": page, "_source": false, "track_total_hits": false, "sort": []any{"_doc"}})
		if err != nil {
			return total, err
		}
		var res struct {
			Hits struct {
				Hits []struct {
					ID string `json:"_id"`
				} `json:"hits"`
			} `json:"hits"`
		}
		q := url.Values{"ignore_unavailable": {"true"}, "allow_no_indices": {"true"}}
		if err := s.do(ctx, http.MethodPost, "/"+url.PathEscape(index)+"/_search", q, b, &res); err != nil {
			return total, err
		}
		hits := res.Hits.Hits
		if len(hits) == 0 {
			return total, nil
		}
		acts := make([]action, len(hits))
		for i, h := range hits {
			acts[i] = action{op: "delete", index: index, id: h.ID, kind: "post", key: h.ID}
		}
		if err := s.bulk(ctx, "delete posts", acts); err != nil {
			return total, err
		}
		total += int64(len(hits))
		if err := s.do(ctx, http.MethodPost, "/"+url.PathEscape(index)+"/_refresh", q, nil, nil); err != nil {
			return total, err
		}
	}
}

// deleteOrphanAccounts deletes the account documents of the authors that
// have no stored post any more.
func (s *Store) deleteOrphanAccounts(ctx context.Context, authors []string) error {
	const chunk = 1000
	for start := 0; start < len(authors); start += chunk {
		part := authors[start:min(start+chunk, len(authors))]
		b, err := json.Marshal(map[string]any{
			"size": 0, "track_total_hits": false,
			"query": map[string]any{"bool": map[string]any{"filter": []any{map[string]any{"terms": map[string]any{"vigie.author_key": part}}}}},
			"aggs":  map[string]any{"left": map[string]any{"terms": map[string]any{"field": "vigie.author_key", "size": len(part)}}},
		})
		if err != nil {
			return err
		}
		var res struct {
			Aggregations struct {
				Left struct {
					Buckets []struct {
						Key string `json:"key"`
					} `json:"buckets"`
				} `json:"left"`
			} `json:"aggregations"`
		}
		q := url.Values{"ignore_unavailable": {"true"}, "allow_no_indices": {"true"}}
		if err := s.do(ctx, http.MethodPost, "/"+s.postsPattern()+"/_search", q, b, &res); err != nil {
			return fmt.Errorf("authors with posts left: %w", err)
		}
		left := map[string]bool{}
		for _, bk := range res.Aggregations.Left.Buckets {
			left[bk.Key] = true
		}
		var acts []action
		for _, a := range part {
			if !left[a] {
				acts = append(acts, action{op: "delete", index: s.index(kindAccounts), id: docID(a), kind: "account", key: a})
			}
		}
		if err := s.bulk(ctx, "delete accounts", acts); err != nil {
			return err
		}
	}
	return nil
}
