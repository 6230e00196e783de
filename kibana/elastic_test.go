package kibana

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store"
	"github.com/vigie-osint/vigie/store/elastic"
)

// envElasticsearch names the Elasticsearch the integration tests use
// (scripts/elasticsearch.sh start prints it), as in store/elastic.
const envElasticsearch = "VIGIE_TEST_ELASTICSEARCH"

// TestDataViewsOnElasticsearch writes documents through the real
// Elasticsearch store and asks Elasticsearch, with the _field_caps API
// Kibana itself uses to list a data view's fields, whether every field the
// saved objects use exists on the indices each data view matches, with the
// type and aggregatability its use needs. It is the check of the NDJSON
// against the server rather than against the template files.
func TestDataViewsOnElasticsearch(t *testing.T) {
	base := os.Getenv(envElasticsearch)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set and CI=true: .ci/run must start Elasticsearch (scripts/elasticsearch.sh start)", envElasticsearch)
		}
		t.Skipf("%s is not set: start a server with scripts/elasticsearch.sh start and export %s=http://127.0.0.1:19200", envElasticsearch, envElasticsearch)
	}
	ctx := t.Context()
	prefix := fmt.Sprintf("kibanatest-%d", time.Now().UnixNano()%1_000_000_000)
	st, err := elastic.Open(ctx, elastic.Config{URLs: []string{base}}, elastic.WithPrefix(prefix), elastic.WithRefresh("true"),
		elastic.WithLogger(slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		t.Fatalf("open the Elasticsearch store: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := st.DeleteAll(ctx); err != nil {
			t.Errorf("DeleteAll: %v", err)
		}
		st.Close()
	})
	writeSample(t, st)

	data, err := NDJSON(Objects())
	if err != nil {
		t.Fatal(err)
	}
	errs, stats := checkNDJSON(data, modelSchemas(), nil)
	for _, e := range errs {
		t.Fatal(e)
	}
	schemas := map[string]schema{}
	for _, p := range IndexPatterns() {
		pattern := prefix + strings.TrimPrefix(p.Title, "vigie")
		s, indices, err := fieldCaps(ctx, base, pattern)
		if err != nil {
			t.Fatalf("data view %s: %v", p.Title, err)
		}
		if len(indices) == 0 {
			t.Errorf("data view %s (%s) matches no index", p.Title, pattern)
		}
		schemas[p.ID] = s
	}
	// The schema read from the server tells fields apart the way Kibana
	// will: these are what the checks below rely on.
	for _, want := range []struct{ view, field, kind string }{
		{Posts.ID, "hashtags", "string"}, {Posts.ID, "text", "text"}, {Posts.ID, "time", "date"},
		{Clusters.ID, "scores.risk", "number"}, {Clusters.ID, "scores.reasons", "text"},
		{Alerts.ID, "targets", "string"}, {Briefings.ID, "day", "date"},
	} {
		if got, _ := schemas[want.view].lookup(want.field); got != want.kind {
			t.Errorf("%s: %s is %q in _field_caps, want %q", want.view, want.field, got, want.kind)
		}
	}
	if _, ok := schemas[Clusters.ID].lookup("scores.stance.macron"); ok {
		t.Error("scores.stance.macron is listed although the template disables scores.stance")
	}
	checked := 0
	for _, u := range stats.uses {
		s, ok := schemas[u.view]
		if !ok {
			t.Errorf("%s: field %q of unknown data view %q", u.object, u.field, u.view)
			continue
		}
		if err := checkUse(u, "Elasticsearch's field list for "+u.view, s); err != nil {
			t.Error(err)
		}
		checked++
	}
	t.Logf("%d field uses checked against _field_caps of %d data views", checked, len(schemas))
}

// writeSample stores a few of the bundled scenario's posts and a cluster,
// alert and briefing with every field filled in, through the store's own
// write path, so the indices have the mappings and documents the pipeline
// gives them.
func writeSample(t *testing.T, st *elastic.Store) {
	t.Helper()
	ctx := t.Context()
	f, err := os.Open("../testdata/scenario/posts.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var posts []post.Post
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan() && len(posts) < 300; n++ {
		p, err := post.DecodePost(fmt.Sprintf("posts.jsonl:%d", n), sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		posts = append(posts, p)
	}
	if err := st.PutPosts(ctx, posts); err != nil {
		t.Fatal(err)
	}
	t0 := posts[0].Time
	c := post.Cluster{
		ID: "c-0123456789abcdef", Status: post.StatusActive, Platform: post.PlatformTwitter,
		Detected: t0.Add(time.Hour), FirstSeen: t0, LastSeen: t0.Add(50 * time.Minute),
		Members: []string{posts[0].AuthorKey(), posts[1].AuthorKey(), posts[2].AuthorKey()},
		Edges: []post.Edge{{A: posts[0].AuthorKey(), B: posts[1].AuthorKey(), Weight: 3,
			Signals: map[post.Kind]int{post.KindRepost: 3}, First: t0, Last: t0.Add(time.Minute), MeanDelta: 4,
			Evidence: []post.Evidence{{Kind: post.KindRepost, Key: posts[0].Key(), PostA: posts[0].Key(), PostB: posts[1].Key(), TimeA: t0, TimeB: t0.Add(time.Second)}}}},
		EdgeCount:  1,
		Signals:    map[post.Kind]int{post.KindRepost: 3, post.KindLink: 1},
		TopObjects: []post.KeyCount{{Kind: post.KindHashtag, Key: "stopmacron", Count: 3}},
		Posts:      []string{posts[0].Key(), posts[1].Key()},
		Scores: post.Scores{Coordination: 0.8, Density: 1, MeanWeight: 3, Synchrony: 0.9, Risk: 72,
			Reasons: []string{"reposts within 4 s"}, Stance: map[string]float64{"macron": -0.8}},
	}
	if err := st.PutClusters(ctx, []post.Cluster{c}); err != nil {
		t.Fatal(err)
	}
	a := post.Alert{ID: "a-0123456789abcdef", ClusterID: c.ID, Rule: "risk>=min", Time: c.Detected, Risk: 72, Size: 3,
		Summary: "3 accounts", Reasons: c.Scores.Reasons, Targets: []string{"macron"}}
	if err := st.PutAlerts(ctx, []post.Alert{a}); err != nil {
		t.Fatal(err)
	}
	day := t0.UTC().Format(time.DateOnly)
	if err := st.PutBriefing(ctx, store.Briefing{Date: day, Generated: time.Now().UTC(), Title: "Briefing " + day,
		Summary: "one cluster", Markdown: "# Briefing", HTML: "<h1>Briefing</h1>"}); err != nil {
		t.Fatal(err)
	}
}

// fieldCaps asks Elasticsearch for the fields of an index pattern, as
// Kibana does to build a data view, and returns them as a schema: a field
// that is not aggregatable counts as "text" (usable in columns and
// queries, not in aggregations or sorts).
func fieldCaps(ctx context.Context, base, pattern string) (schema, []string, error) {
	u := strings.TrimRight(base, "/") + "/" + url.PathEscape(pattern) + "/_field_caps?fields=*&allow_no_indices=true"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("_field_caps: HTTP %d: %.300s", resp.StatusCode, b)
	}
	var fc struct {
		Indices []string `json:"indices"`
		Fields  map[string]map[string]struct {
			Type         string `json:"type"`
			Searchable   bool   `json:"searchable"`
			Aggregatable bool   `json:"aggregatable"`
		} `json:"fields"`
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		return nil, nil, fmt.Errorf("_field_caps: %w", err)
	}
	s := schema{}
	for name, types := range fc.Fields {
		if strings.HasPrefix(name, "_") {
			continue
		}
		if len(types) != 1 {
			s[name] = "text" // conflicting types across indices: Kibana cannot aggregate on it
			continue
		}
		for typ, caps := range types {
			kind := esKind(typ, false)
			if typ == "object" || typ == "nested" {
				kind = typ
			} else if !caps.Aggregatable {
				kind = "text"
			}
			s[name] = kind
		}
	}
	return s, fc.Indices, nil
}
