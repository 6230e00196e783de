package elastic

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store"
)

// refusingTransport passes requests to the real server, except that it
// answers the first bulk requests itself with per-item refusals, the way
// an overloaded or rejecting cluster does: HTTP 200 with "errors": true and
// a status per item. status(n, i) gives the status of item i of the n-th
// bulk request (from 1), or 0 to let the real server answer that request.
type refusingTransport struct {
	mu     sync.Mutex
	bulks  int
	status func(n, i int, meta map[string]map[string]any) int
	sent   []int // items per bulk request
}

func (rt *refusingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(req.URL.Path, "/_bulk") {
		return http.DefaultTransport.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	var metas []map[string]map[string]any
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var m map[string]map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return nil, err
		}
		metas = append(metas, m)
		if _, del := m["delete"]; !del {
			sc.Scan() // the document
		}
	}
	rt.mu.Lock()
	rt.bulks++
	n := rt.bulks
	rt.sent = append(rt.sent, len(metas))
	rt.mu.Unlock()
	if rt.status(n, 0, metas[0]) == 0 {
		return http.DefaultTransport.RoundTrip(req)
	}
	var items []map[string]any
	for i, m := range metas {
		for op, meta := range m {
			st := rt.status(n, i, m)
			item := map[string]any{"_index": meta["_index"], "_id": meta["_id"], "status": st}
			if st >= 300 {
				typ := "es_rejected_execution_exception"
				if st == 400 {
					typ = "mapper_parsing_exception"
				}
				item["error"] = map[string]any{"type": typ, "reason": fmt.Sprintf("refused by the test (%d)", st)}
			}
			items = append(items, map[string]any{op: item})
		}
	}
	b, _ := json.Marshal(map[string]any{"took": 1, "errors": true, "items": items})
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Elastic-Product", "Elasticsearch")
	return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(bytes.NewReader(b)), Request: req}, nil
}

func TestBulkRetriesRefusedItems(t *testing.T) {
	// The first bulk request has its odd items refused with 429 (the even
	// ones "succeed" without reaching the server); the first retry is
	// refused whole with 503; the real server takes the second retry.
	rt := &refusingTransport{status: func(n, i int, _ map[string]map[string]any) int {
		switch {
		case n == 1 && i%2 == 0:
			return 201
		case n == 1:
			return 429
		case n == 2:
			return 503
		}
		return 0
	}}
	s := openTest(t, WithTransport(rt), WithRetry(5, time.Millisecond))
	ctx := t.Context()
	ps := genPosts(0, 10)
	if err := s.PutPosts(ctx, ps); err != nil {
		t.Fatalf("PutPosts: %v", err)
	}
	if err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	// Items answered 201 by the test transport were never written: only
	// the retried ones reached the server. Their being there shows the
	// retries carried the refused items, and only those.
	got, total, err := s.SearchPosts(ctx, store.PostQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if rt.bulks < 3 {
		t.Fatalf("%d bulk requests, want a first one and two retries", rt.bulks)
	}
	if rt.sent[1] >= rt.sent[0] {
		t.Errorf("retry sent %d items after %d: want only the refused ones", rt.sent[1], rt.sent[0])
	}
	want := map[string]bool{}
	for i, p := range ps {
		if i%2 == 1 {
			want[p.Key()] = true
		}
	}
	if total != len(want) {
		t.Errorf("%d posts stored, want the %d retried ones", total, len(want))
	}
	for _, p := range got {
		if !want[p.Key()] {
			t.Errorf("post %s stored, but it was not retried", p.Key())
		}
	}
}

func TestBulkTerminalFailureNamesRecord(t *testing.T) {
	bad := genPosts(0, 3)[1]
	rt := &refusingTransport{status: func(n, i int, m map[string]map[string]any) int {
		for _, meta := range m {
			if meta["_id"] == bad.Key() {
				return 400
			}
		}
		if n == 1 {
			return 201
		}
		return 0
	}}
	s := openTest(t, WithTransport(rt), WithRetry(3, time.Millisecond))
	err := s.PutPosts(t.Context(), genPosts(0, 3))
	var be *BulkError
	if !errors.As(err, &be) {
		t.Fatalf("PutPosts error = %v, want a *BulkError", err)
	}
	if len(be.Failures) != 1 || be.Failures[0].Record != "post "+bad.Key() || be.Failures[0].Kind != "post" || be.Failures[0].Key != bad.Key() || be.Failures[0].Status != 400 {
		t.Errorf("failures = %+v, want one naming post %s with status 400", be.Failures, bad.Key())
	}
	if !strings.Contains(err.Error(), bad.Key()) || !strings.Contains(err.Error(), "mapper_parsing_exception") {
		t.Errorf("error %q does not name the record and the reason", err)
	}
	if rt.bulks != 1 {
		t.Errorf("%d bulk requests: a 400 must not be retried", rt.bulks)
	}
}

func TestBulkRetriesGiveUp(t *testing.T) {
	rt := &refusingTransport{status: func(n, i int, _ map[string]map[string]any) int { return 429 }}
	s := openTest(t, WithTransport(rt), WithRetry(3, time.Millisecond))
	err := s.PutPosts(t.Context(), genPosts(0, 2))
	var be *BulkError
	if !errors.As(err, &be) || len(be.Failures) != 4 { // 2 posts, 2 accounts
		t.Fatalf("PutPosts error = %v, want a *BulkError with 4 failures", err)
	}
	if rt.bulks != 3 {
		t.Errorf("%d bulk requests, want 3 attempts", rt.bulks)
	}
}

// TestBulkBoundsRequests checks that a batch larger than the limits goes
// out as several bounded requests, and all of it is written.
func TestBulkBoundsRequests(t *testing.T) {
	rt := &refusingTransport{status: func(int, int, map[string]map[string]any) int { return 0 }}
	s := openTest(t, WithTransport(rt), WithBulkLimits(8<<10, 50))
	ps := genPosts(0, 300)
	if err := s.PutPosts(t.Context(), ps); err != nil {
		t.Fatal(err)
	}
	if err := s.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Stats(t.Context()); err != nil || st.Posts != 300 {
		t.Fatalf("Stats = %+v, %v; want 300 posts", st, err)
	}
	if len(rt.sent) < 300/50 {
		t.Errorf("%d bulk requests for 500 actions, want at least 6", len(rt.sent))
	}
	for i, n := range rt.sent {
		if n > 50 {
			t.Errorf("request %d carried %d actions, limit 50", i, n)
		}
	}
}

// TestPostMovesToItsNewDay checks that a post re-put with a time on
// another day leaves no copy in its old daily index, even right after the
// first write (before any refresh).
func TestPostMovesToItsNewDay(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	p := genPosts(0, 1)[0]
	if err := s.PutPosts(ctx, []post.Post{p}); err != nil {
		t.Fatal(err)
	}
	moved := p
	moved.Time = p.Time.Add(48 * time.Hour)
	if err := s.PutPosts(ctx, []post.Post{moved}); err != nil {
		t.Fatal(err)
	}
	if err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	got, total, err := s.SearchPosts(ctx, store.PostQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if total != 1 || !got[0].Time.Equal(moved.Time) {
		t.Fatalf("after moving a post: %d copies (%v), want 1 at %v", total, got, moved.Time)
	}
}

// TestOpenRefusesNonElasticsearch checks the client's product check: a
// server answering like OpenSearch (no X-Elastic-Product header) is
// refused at Open, with a message that says why.
func TestOpenRefusesNonElasticsearch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"name":"n","cluster_name":"c","version":{"distribution":"opensearch","number":"2.11.0"},"tagline":"The OpenSearch Project"}`)
	}))
	defer srv.Close()
	s, err := Open(t.Context(), Config{URLs: []string{srv.URL}}, WithRetry(1, time.Millisecond))
	if err == nil {
		s.Close()
		t.Fatal("Open on an OpenSearch-like server succeeded")
	}
	if !strings.Contains(err.Error(), "Elasticsearch") {
		t.Errorf("error %q does not say the server is not Elasticsearch", err)
	}
}

func TestOpenClosedPort(t *testing.T) {
	_, err := Open(t.Context(), Config{URLs: []string{"http://127.0.0.1:1"}}, WithRetry(1, time.Millisecond))
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("Open on a closed port: error %v, want one naming the URL", err)
	}
}
