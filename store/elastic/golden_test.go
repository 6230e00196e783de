package elastic

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store"
	"github.com/vigie-osint/vigie/store/storetest"
)

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./store/elastic -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (rerun with -update if the change is intended):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func indentJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestTemplatesGolden snapshots the templates as installed, for the
// default prefix and a renamed one: a change of mapping shows in review.
func TestTemplatesGolden(t *testing.T) {
	for _, prefix := range []string{DefaultPrefix, "acme"} {
		tmpls, err := Templates(prefix)
		if err != nil {
			t.Fatal(err)
		}
		if len(tmpls) != len(kinds) {
			t.Fatalf("%d templates, want %d", len(tmpls), len(kinds))
		}
		names := make([]string, 0, len(tmpls))
		for n := range tmpls {
			names = append(names, n)
		}
		slices.Sort(names)
		var all bytes.Buffer
		for _, n := range names {
			if !strings.HasPrefix(n, prefix+"-") {
				t.Errorf("template name %q lacks prefix %q", n, prefix)
			}
			var v map[string]any
			if err := json.Unmarshal(tmpls[n], &v); err != nil {
				t.Fatalf("template %s: %v", n, err)
			}
			for _, p := range v["index_patterns"].([]any) {
				if !strings.HasPrefix(p.(string), prefix+"-") {
					t.Errorf("template %s: index pattern %q lacks prefix %q", n, p, prefix)
				}
			}
			all.WriteString("# " + n + "\n")
			all.Write(tmpls[n])
			all.WriteString("\n")
		}
		golden(t, "templates-"+prefix+".golden", all.Bytes())
	}
}

// TestQueryBodiesGolden snapshots the translation of queries into the
// query DSL, the part of the store that must keep the embedded store's
// semantics; the conformance suite checks the results on a real server.
func TestQueryBodiesGolden(t *testing.T) {
	t0 := time.Date(2017, 5, 5, 18, 0, 0, 123456789, time.UTC)
	out := map[string]any{}
	for _, tc := range []struct {
		name string
		q    store.PostQuery
	}{
		{"all", store.PostQuery{}},
		{"words", store.PostQuery{Text: "Macron  SECOND tour"}},
		{"phrase", store.PostQuery{Text: `"second tour"`}},
		{"prefix", store.PostQuery{Text: "élect*"}},
		{"phrase-prefix", store.PostQuery{Text: `"second to"*`}},
		{"punctuation-inside", store.PostQuery{Text: "a:b macron*vote l'élection"}},
		{"operators-are-words", store.PostQuery{Text: "NOT macron OR vote"}},
		{"only-punctuation", store.PostQuery{Text: `* "" (`}},
		{"filters", store.PostQuery{Author: "twitter:alice", Platform: post.PlatformTwitter, Hashtag: "#MacronLeaks", From: t0, To: t0.Add(time.Hour), Limit: 10, Offset: 20}},
	} {
		q, err := tc.q.Normalized()
		if err != nil {
			t.Fatal(err)
		}
		out["posts/"+tc.name] = PostQueryBody(q)
	}
	for _, tc := range []struct {
		name string
		q    store.ClusterQuery
	}{
		{"default", store.ClusterQuery{}},
		{"all-filters", store.ClusterQuery{Status: store.StatusAll, MinRisk: 49.5, Since: t0, Account: "twitter:bob", Limit: 5, Offset: 5}},
	} {
		q, err := tc.q.Normalized()
		if err != nil {
			t.Fatal(err)
		}
		out["clusters/"+tc.name] = ClusterQueryBody(q)
	}
	q, _ := store.AlertQuery{ClusterID: "c1", Since: t0}.Normalized()
	out["alerts/cluster-since"] = AlertQueryBody(q)
	golden(t, "queries.golden", indentJSON(t, out))
}

// FuzzPostQueryBody checks that any text gives a query that encodes, and
// whose text clauses carry only tokens (no user text reaches a query
// parser: every clause is a term, prefix or phrase of tokens).
func FuzzPostQueryBody(f *testing.F) {
	for _, s := range storetest.HostileTexts() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		body := PostQueryBody(store.PostQuery{Text: text, Limit: 10})
		if body == nil {
			return
		}
		if _, err := json.Marshal(body); err != nil {
			t.Fatalf("text %q: %v", text, err)
		}
		for _, c := range body["query"].(map[string]any)["bool"].(map[string]any)["filter"].([]any) {
			should := c.(map[string]any)["bool"].(map[string]any)["should"].([]any)
			for _, cl := range should {
				for kind, v := range cl.(map[string]any) {
					for _, arg := range v.(map[string]any) {
						var s string
						switch a := arg.(type) {
						case string:
							s = a
						case map[string]any:
							if x, ok := a["value"].(string); ok {
								s = x
							} else {
								s = a["query"].(string)
							}
						}
						if s == "" || terms(s) != s {
							t.Fatalf("text %q: %s clause %q is not made of tokens", text, kind, s)
						}
					}
				}
			}
		}
	})
}
