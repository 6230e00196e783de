// Package storetest is the conformance suite every store.Store backend must
// pass, in the style of Jaeger's storage integration tests: one body of
// tests, so the embedded SQLite store and a later Elasticsearch store
// behave the same behind the interface, including on the corner cases a UI
// or a stage relies on (replays, ordering ties, hostile search text).
//
// A backend's test calls Run with a function that opens an empty store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store"
)

// Refresher is implemented by backends whose writes become visible to
// reads only after a refresh (Elasticsearch). The suite calls Refresh after
// every write when the store implements it.
type Refresher interface {
	Refresh(ctx context.Context) error
}

// Run runs the suite. open must return a new, empty store for the test it
// is given, and register with t.Cleanup whatever else must be removed (a
// temporary directory, an index); Run closes the store itself and fails
// the test if Close fails.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*harness)
	}{
		{"Posts/RoundTrip", testPostRoundTrip},
		{"Posts/Idempotent", testPostIdempotent},
		{"Posts/RePutReplacesIndexedFields", testPostRePut},
		{"Posts/InvalidBatchWritesNothing", testPostInvalidBatch},
		{"Posts/Order", testPostOrder},
		{"Posts/TimeRange", testPostTimeRange},
		{"Posts/Filters", testPostFilters},
		{"Posts/Pagination", testPostPagination},
		{"Posts/Text", testPostText},
		{"Posts/HostileText", testPostHostileText},
		{"Clusters/RoundTrip", testClusterRoundTrip},
		{"Clusters/Versions", testClusterVersions},
		{"Clusters/Status", testClusterStatus},
		{"Clusters/Order", testClusterOrder},
		{"Clusters/Filters", testClusterFilters},
		{"Accounts/View", testAccountView},
		{"Accounts/Snapshot", testAccountSnapshot},
		{"Alerts", testAlerts},
		{"Checkpoints", testCheckpoints},
		{"Briefings", testBriefings},
		{"Retention", testRetention},
		{"Stats", testStats},
		{"NotFound", testNotFound},
		{"InvalidQueries", testInvalidQueries},
		{"InvalidRecords", testInvalidRecords},
		{"Context", testContext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(&harness{T: t, s: s, ctx: t.Context()})
		})
	}
}

// harness wraps a store with fatal-on-error helpers.
type harness struct {
	*testing.T
	s   store.Store
	ctx context.Context
}

func (h *harness) refresh() {
	h.Helper()
	if r, ok := h.s.(Refresher); ok {
		if err := r.Refresh(h.ctx); err != nil {
			h.Fatalf("Refresh: %v", err)
		}
	}
}

func (h *harness) putPosts(ps ...post.Post) {
	h.Helper()
	if err := h.s.PutPosts(h.ctx, ps); err != nil {
		h.Fatalf("PutPosts: %v", err)
	}
	h.refresh()
}

func (h *harness) putClusters(cs ...post.Cluster) {
	h.Helper()
	if err := h.s.PutClusters(h.ctx, cs); err != nil {
		h.Fatalf("PutClusters: %v", err)
	}
	h.refresh()
}

func (h *harness) putAlerts(as ...post.Alert) {
	h.Helper()
	if err := h.s.PutAlerts(h.ctx, as); err != nil {
		h.Fatalf("PutAlerts: %v", err)
	}
	h.refresh()
}

// search returns the keys of the matching posts and the total.
func (h *harness) search(q store.PostQuery) ([]string, int) {
	h.Helper()
	ps, total, err := h.s.SearchPosts(h.ctx, q)
	if err != nil {
		h.Fatalf("SearchPosts(%+v): %v", q, err)
	}
	if len(ps) > total {
		h.Errorf("SearchPosts(%+v): %d posts but total %d", q, len(ps), total)
	}
	keys := make([]string, len(ps))
	for i := range ps {
		keys[i] = ps[i].Key()
	}
	return keys, total
}

func (h *harness) clusterIDs(q store.ClusterQuery) []string {
	h.Helper()
	cs, err := h.s.ListClusters(h.ctx, q)
	if err != nil {
		h.Fatalf("ListClusters(%+v): %v", q, err)
	}
	ids := make([]string, len(cs))
	for i := range cs {
		ids[i] = cs[i].ID
	}
	return ids
}

func (h *harness) alertIDs(q store.AlertQuery) []string {
	h.Helper()
	as, err := h.s.ListAlerts(h.ctx, q)
	if err != nil {
		h.Fatalf("ListAlerts(%+v): %v", q, err)
	}
	ids := make([]string, len(as))
	for i := range as {
		ids[i] = as[i].ID
	}
	return ids
}

func (h *harness) stats() store.Stats {
	h.Helper()
	st, err := h.s.Stats(h.ctx)
	if err != nil {
		h.Fatalf("Stats: %v", err)
	}
	return st
}

// t0 is the suite's reference time: the eve of the 2017 French run-off.
var t0 = time.Date(2017, 5, 5, 18, 0, 0, 0, time.UTC)

// cest is a non-UTC zone, to check that stores return instants, in UTC.
var cest = time.FixedZone("CEST", 2*60*60)

func mkPost(id, author string, at time.Time, text string, tags ...string) post.Post {
	return post.Post{Schema: post.SchemaVersion, Platform: post.PlatformTwitter, ID: id, Author: author, Time: at, Text: text, Hashtags: tags}
}

func keys(ids ...string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(post.PlatformTwitter) + ":" + id
	}
	return out
}

func fullPost() post.Post {
	return post.Post{
		Schema:   post.SchemaVersion,
		Platform: post.PlatformTwitter,
		ID:       "862000000000000001",
		Author:   "alice",
		// time.Now carries a monotonic reading and the local zone; the
		// store must keep the instant only.
		Time:        time.Now(),
		Text:        "Les #MacronLeaks: lisez avant le silence électoral 🇫🇷 https://example.org/a",
		Lang:        "fr",
		URLs:        []string{"https://example.org/a"},
		Hashtags:    []string{"MacronLeaks"},
		Mentions:    []string{"bob", "carol"},
		ReplyTo:     "861",
		RepostOf:    "860",
		QuoteOf:     "859",
		MediaHashes: []string{"d41d8cd98f00b204e9800998ecf8427e"},
		Account: &post.Account{
			Platform:       post.PlatformTwitter,
			ID:             "42",
			Handle:         "alice",
			Name:           "Alice ✓",
			Description:    "patriote",
			CreatedAt:      time.Date(2017, 4, 30, 23, 59, 59, 123456789, cest),
			Followers:      12,
			Following:      3400,
			Posts:          52000,
			Verified:       true,
			DefaultProfile: true,
			ObservedAt:     t0.In(cest).Add(time.Millisecond),
		},
	}
}

func testPostRoundTrip(h *harness) {
	p := fullPost()
	minimal := mkPost("2", "bob", t0.In(cest), "")
	orig := *p.Account
	h.putPosts(p, minimal)
	if *p.Account != orig {
		h.Errorf("PutPosts changed its argument's account: %+v", *p.Account)
	}
	for _, want := range []post.Post{p, minimal} {
		got, err := h.s.GetPost(h.ctx, want.Key())
		if err != nil {
			h.Fatalf("GetPost(%s): %v", want.Key(), err)
		}
		if d := Diff(want, got); d != "" {
			h.Errorf("GetPost(%s) differs from what was put: %s", want.Key(), d)
		}
		if got.Time.Location() != time.UTC {
			h.Errorf("GetPost(%s).Time in %v, want UTC", want.Key(), got.Time.Location())
		}
		ps, _, err := h.s.SearchPosts(h.ctx, store.PostQuery{Author: want.AuthorKey()})
		if err != nil || len(ps) != 1 {
			h.Fatalf("SearchPosts(author %s) = %d posts, %v; want 1", want.AuthorKey(), len(ps), err)
		}
		if d := Diff(want, ps[0]); d != "" {
			h.Errorf("SearchPosts returned post %s differing from what was put: %s", want.Key(), d)
		}
	}
}

func testPostIdempotent(h *harness) {
	batch := []post.Post{
		mkPost("1", "alice", t0, "premier message", "Vote"),
		mkPost("2", "bob", t0.Add(time.Second), "second message", "vote"),
	}
	h.putPosts(batch...)
	h.putPosts(batch...)
	// Within one batch, the last of two posts with one key wins.
	dup := mkPost("3", "carol", t0.Add(2*time.Second), "brouillon")
	final := mkPost("3", "carol", t0.Add(2*time.Second), "version finale")
	h.putPosts(dup, final)
	h.putPosts(batch[1], final, batch[0])

	if st := h.stats(); st.Posts != 3 || st.Accounts != 3 {
		h.Errorf("after replays Stats = %+v, want 3 posts and 3 accounts", st)
	}
	for _, tc := range []struct {
		q    store.PostQuery
		want []string
	}{
		{store.PostQuery{}, keys("3", "2", "1")},
		{store.PostQuery{Hashtag: "vote"}, keys("2", "1")},
		{store.PostQuery{Text: "message"}, keys("2", "1")},
		{store.PostQuery{Text: "brouillon"}, []string{}},
		{store.PostQuery{Text: "finale"}, keys("3")},
	} {
		got, total := h.search(tc.q)
		if !slices.Equal(got, tc.want) || total != len(tc.want) {
			h.Errorf("SearchPosts(%+v) = %v (total %d), want %v", tc.q, got, total, tc.want)
		}
	}
}

// testPostRePut checks that re-putting a post with changed fields leaves no
// trace of the old ones in any index: text, hashtags, time, author.
func testPostRePut(h *harness) {
	old := mkPost("1", "alice", t0, "alpha bravo", "OldTag")
	other := mkPost("2", "bob", t0, "alpha")
	h.putPosts(old, other)
	changed := mkPost("1", "carol", t0.Add(time.Hour), "charlie delta", "NewTag")
	h.putPosts(changed)

	got, err := h.s.GetPost(h.ctx, changed.Key())
	if err != nil {
		h.Fatal(err)
	}
	if d := Diff(changed, got); d != "" {
		h.Errorf("GetPost after re-put: %s", d)
	}
	for _, tc := range []struct {
		name string
		q    store.PostQuery
		want []string
	}{
		{"old word", store.PostQuery{Text: "bravo"}, []string{}},
		{"shared old word", store.PostQuery{Text: "alpha"}, keys("2")},
		{"new word", store.PostQuery{Text: "charlie"}, keys("1")},
		{"old hashtag filter", store.PostQuery{Hashtag: "oldtag"}, []string{}},
		{"new hashtag filter", store.PostQuery{Hashtag: "newtag"}, keys("1")},
		{"old hashtag text", store.PostQuery{Text: "oldtag"}, []string{}},
		{"new hashtag text", store.PostQuery{Text: "newtag"}, keys("1")},
		{"old author", store.PostQuery{Author: "twitter:alice"}, []string{}},
		{"new author", store.PostQuery{Author: "twitter:carol"}, keys("1")},
		{"old time", store.PostQuery{To: t0.Add(time.Minute)}, keys("2")},
		{"new time", store.PostQuery{From: t0.Add(time.Minute)}, keys("1")},
	} {
		got, total := h.search(tc.q)
		if !slices.Equal(got, tc.want) || total != len(tc.want) {
			h.Errorf("%s: SearchPosts(%+v) = %v (total %d), want %v", tc.name, tc.q, got, total, tc.want)
		}
	}
	if st := h.stats(); st.Posts != 2 {
		h.Errorf("Stats.Posts = %d after re-put, want 2", st.Posts)
	}
}

func testPostInvalidBatch(h *harness) {
	good := mkPost("1", "alice", t0, "valide")
	bad := mkPost("", "alice", t0, "sans identifiant")
	if err := h.s.PutPosts(h.ctx, []post.Post{good, bad}); err == nil {
		h.Fatal("PutPosts with a post without ID succeeded, want an error")
	}
	h.refresh()
	if _, err := h.s.GetPost(h.ctx, good.Key()); !errors.Is(err, store.ErrNotFound) {
		h.Errorf("valid post of a refused batch: GetPost error = %v, want ErrNotFound (batches are all-or-nothing)", err)
	}
}

func testPostOrder(h *harness) {
	h.putPosts(
		mkPost("b", "alice", t0, "x"),
		mkPost("c", "alice", t0.Add(time.Second), "x"),
		mkPost("a", "alice", t0, "x"),
		mkPost("d", "alice", t0.Add(-time.Hour), "x"),
	)
	want := keys("c", "a", "b", "d") // time descending, then key ascending
	if got, _ := h.search(store.PostQuery{}); !slices.Equal(got, want) {
		h.Errorf("SearchPosts order = %v, want %v", got, want)
	}
	if got, _ := h.search(store.PostQuery{Text: "x"}); !slices.Equal(got, want) {
		h.Errorf("SearchPosts(text) order = %v, want %v", got, want)
	}
}

func testPostTimeRange(h *harness) {
	for i := range 4 {
		h.putPosts(mkPost(fmt.Sprint(i), "alice", t0.Add(time.Duration(i)*time.Second), "x"))
	}
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     []string
	}{
		{"open", time.Time{}, time.Time{}, keys("3", "2", "1", "0")},
		{"from is inclusive", sec(1), time.Time{}, keys("3", "2", "1")},
		{"to is exclusive", time.Time{}, sec(2), keys("1", "0")},
		{"one second", sec(1), sec(2), keys("1")},
		{"empty when from equals to", sec(1), sec(1), []string{}},
		{"millisecond after", t0.Add(time.Millisecond), time.Time{}, keys("3", "2", "1")},
		{"millisecond before", time.Time{}, t0.Add(time.Millisecond), keys("0")},
		{"other zone, same instants", sec(1).In(cest), sec(3).In(cest), keys("2", "1")},
		{"before everything", time.Time{}, t0.Add(-time.Hour), []string{}},
		{"after everything", sec(4), time.Time{}, []string{}},
	} {
		q := store.PostQuery{From: tc.from, To: tc.to}
		got, total := h.search(q)
		if !slices.Equal(got, tc.want) || total != len(tc.want) {
			h.Errorf("%s: SearchPosts(from %v, to %v) = %v (total %d), want %v", tc.name, tc.from, tc.to, got, total, tc.want)
		}
	}
}

func testPostFilters(h *harness) {
	m := mkPost("m1", "alice", t0.Add(3*time.Second), "toot", "MacronLeaks")
	m.Platform = post.PlatformMastodon
	h.putPosts(
		mkPost("1", "alice", t0, "a", "MacronLeaks", "Présidentielle2017"),
		mkPost("2", "bob", t0.Add(time.Second), "b", "macronleaks"),
		mkPost("3", "alice", t0.Add(2*time.Second), "c", "Macron"),
		m,
	)
	for _, tc := range []struct {
		name string
		q    store.PostQuery
		want []string
	}{
		{"author", store.PostQuery{Author: "twitter:alice"}, keys("3", "1")},
		{"author on other platform", store.PostQuery{Author: "mastodon:alice"}, []string{"mastodon:m1"}},
		{"author is a key, not a name", store.PostQuery{Author: "alice"}, []string{}},
		{"platform", store.PostQuery{Platform: post.PlatformMastodon}, []string{"mastodon:m1"}},
		{"hashtag", store.PostQuery{Hashtag: "macronleaks"}, append([]string{"mastodon:m1"}, keys("2", "1")...)},
		{"hashtag ignores case", store.PostQuery{Hashtag: "MACRONLEAKS"}, append([]string{"mastodon:m1"}, keys("2", "1")...)},
		{"hashtag ignores #", store.PostQuery{Hashtag: "#MacronLeaks"}, append([]string{"mastodon:m1"}, keys("2", "1")...)},
		{"hashtag is exact", store.PostQuery{Hashtag: "macron"}, keys("3")},
		{"hashtag unicode", store.PostQuery{Hashtag: "#présidentielle2017"}, keys("1")},
		{"author and hashtag", store.PostQuery{Author: "twitter:alice", Hashtag: "macronleaks"}, keys("1")},
		{"platform and hashtag", store.PostQuery{Platform: post.PlatformTwitter, Hashtag: "macronleaks"}, keys("2", "1")},
		{"hashtag and time", store.PostQuery{Hashtag: "macronleaks", From: t0.Add(time.Second), To: t0.Add(3 * time.Second)}, keys("2")},
		{"unknown author", store.PostQuery{Author: "twitter:nobody"}, []string{}},
	} {
		got, total := h.search(tc.q)
		if !slices.Equal(got, tc.want) || total != len(tc.want) {
			h.Errorf("%s: SearchPosts(%+v) = %v (total %d), want %v", tc.name, tc.q, got, total, tc.want)
		}
	}
}

func testPostPagination(h *harness) {
	var ps []post.Post
	var all []string
	for i := range 60 {
		ps = append(ps, mkPost(fmt.Sprintf("%02d", i), "alice", t0.Add(time.Duration(i/2)*time.Minute), "page"))
	}
	h.putPosts(ps...)
	for i := 59; i >= 0; i-- {
		all = append(all, ps[i].Key())
	}
	// Equal times pair up 2k and 2k+1; key order puts 2k first.
	for i := 0; i < 60; i += 2 {
		all[i], all[i+1] = all[i+1], all[i]
	}
	got, total := h.search(store.PostQuery{Limit: store.MaxLimit})
	if !slices.Equal(got, all) || total != 60 {
		h.Fatalf("all posts = %v (total %d), want %v", got, total, all)
	}
	for _, tc := range []struct {
		name          string
		limit, offset int
		want          []string
	}{
		{"default limit", 0, 0, all[:store.DefaultLimit]},
		{"first page", 25, 0, all[:25]},
		{"last partial page", 25, 50, all[50:]},
		{"offset at end", 10, 60, []string{}},
		{"offset past end", 10, 1000, []string{}},
		{"limit above max is capped, not refused", store.MaxLimit + 1, 0, all},
		{"text query", 5, 3, all[3:8]},
	} {
		q := store.PostQuery{Limit: tc.limit, Offset: tc.offset}
		if tc.name == "text query" {
			q.Text = "page"
		}
		got, total := h.search(q)
		if !slices.Equal(got, tc.want) || total != 60 {
			h.Errorf("%s: SearchPosts(limit %d, offset %d) = %v (total %d), want %v (total 60)", tc.name, tc.limit, tc.offset, got, total, tc.want)
		}
	}
	// Walking pages of 7 gives every post once, in order.
	var walked []string
	for off := 0; off < 70; off += 7 {
		page, _ := h.search(store.PostQuery{Limit: 7, Offset: off})
		walked = append(walked, page...)
	}
	if !slices.Equal(walked, all) {
		h.Errorf("pages of 7 = %v, want %v", walked, all)
	}
}

// textCorpus is the corpus of the full-text tests.
func textCorpus() []post.Post {
	return []post.Post{
		mkPost("1", "a", t0.Add(5*time.Second), "Les #MacronLeaks sont un faux document", "MacronLeaks"),
		mkPost("2", "b", t0.Add(4*time.Second), "Le vote est truqué, partagez !"),
		mkPost("3", "c", t0.Add(3*time.Second), "Macron et Le Pen au second tour"),
		mkPost("4", "d", t0.Add(2*time.Second), "second round vote"),
		mkPost("5", "e", t0.Add(1*time.Second), "rien à voir", "FakeNews"),
		mkPost("6", "f", t0, "日本語のテキスト"),
	}
}

func testPostText(h *harness) {
	h.putPosts(textCorpus()...)
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"macron", keys("3")},
		{"MACRON", keys("3")},
		{"second tour", keys("3")},
		{"tour second", keys("3")},
		{`"second tour"`, keys("3")},
		{`"tour second"`, []string{}},
		{"vote", keys("2", "4")},
		{"vote second", keys("4")},
		{"macr*", keys("1", "3")},
		{"fakenews", keys("5")},
		{"#FakeNews", keys("5")},
		{"truqué", keys("2")},
		{"absent", []string{}},
		{"macron absent", []string{}},
	} {
		got, total := h.search(store.PostQuery{Text: tc.text})
		if !slices.Equal(got, tc.want) || total != len(tc.want) {
			h.Errorf("SearchPosts(text %q) = %v (total %d), want %v", tc.text, got, total, tc.want)
		}
	}
}

// hostileTexts are query strings that would break a store passing user
// text to a query language. Stores must answer every one without error.
var hostileTexts = []string{
	"", " ", "\t\n", `"`, `""`, `"""`, `*`, `**`, `"*"`, `AND OR`, `OR`, `NOT`, `AND`, `NOT macron`,
	`NEAR(`, `NEAR(a b`, `NEAR("a" "b", 2)`, `NEAR/2`, `a:b`, `text:macron`, `hashtags:x`, `{text hashtags}:x`,
	`^macron`, `(`, `)`, `(macron`, `-macron`, `+macron`, `macron*vote`, `*macron`, `'`, `\`, `\"`, `%`, `_`,
	`;DROP TABLE posts;--`, `' OR 1=1 --`, "\x00", "macron\x00vote", "\xff\xfe", `{}`, `[`, `日本語`, `🇫🇷`,
	"émoji 🙂 ça", "\u200b", "e\u0301", `"macron`, `macron"`, `"macron" "`, `macron OR vote`, `~macron`,
	`macron^2`, `/.*/`, `?`, `a AND`, strings.Repeat("a ", 500), strings.Repeat("(", 300), strings.Repeat(`"`, 301),
	strings.Repeat("macron ", 300),
}

// HostileTexts returns the suite's hostile query strings, for a backend's
// fuzz test to seed its corpus with.
func HostileTexts() []string { return slices.Clone(hostileTexts) }

func testPostHostileText(h *harness) {
	corpus := textCorpus()
	h.putPosts(corpus...)
	for _, text := range hostileTexts {
		if _, _, err := h.s.SearchPosts(h.ctx, store.PostQuery{Text: text}); err != nil {
			h.Errorf("SearchPosts(text %.40q): %v", text, err)
		}
	}
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"", keys("1", "2", "3", "4", "5", "6")},
		{"  ", keys("1", "2", "3", "4", "5", "6")},
		{`"`, []string{}},
		{`*`, []string{}},
		{`AND OR`, []string{}},
		{`"macron`, keys("3")},
		{`macron"`, keys("3")},
		{`NOT macron`, []string{}},
		{`macron OR vote`, []string{}},
		{strings.Repeat("macron ", 300), keys("3")},
	} {
		got, total := h.search(store.PostQuery{Text: tc.text})
		if !slices.Equal(got, tc.want) || total != len(tc.want) {
			h.Errorf("SearchPosts(text %.40q) = %v (total %d), want %v", tc.text, got, total, tc.want)
		}
	}
	if st := h.stats(); st.Posts != int64(len(corpus)) {
		h.Errorf("after hostile queries Stats.Posts = %d, want %d", st.Posts, len(corpus))
	}
}

func fullCluster() post.Cluster {
	return post.Cluster{
		Schema:    post.SchemaVersion,
		ID:        "c-full",
		Status:    post.StatusActive,
		Platform:  post.PlatformTwitter,
		Detected:  t0.In(cest).Add(time.Hour + 123*time.Microsecond),
		FirstSeen: t0.In(cest),
		LastSeen:  t0.In(cest).Add(50 * time.Minute),
		Members:   []string{"twitter:alice", "twitter:bob", "twitter:carol"},
		Edges: []post.Edge{{
			A: "twitter:alice", B: "twitter:bob", Weight: 2,
			Signals: map[post.Kind]int{post.KindRepost: 1, post.KindLink: 1},
			First:   t0.In(cest), Last: t0.In(cest).Add(time.Minute), MeanDelta: 4.5,
			Evidence: []post.Evidence{{Kind: post.KindRepost, Key: "860", PostA: "1", PostB: "2", TimeA: t0.In(cest), TimeB: t0.In(cest).Add(3 * time.Second)}},
			Extra:    map[string]any{"note": "x", "score": 0.5},
		}, {
			A: "twitter:bob", B: "twitter:carol", Weight: 1,
			Signals: map[post.Kind]int{post.KindHashtag: 1},
			First:   t0, Last: t0,
		}},
		Signals:    map[post.Kind]int{post.KindRepost: 1, post.KindLink: 1, post.KindHashtag: 1},
		TopObjects: []post.KeyCount{{Kind: post.KindRepost, Key: "860", Count: 2}},
		Posts:      []string{"1", "2"},
		Scores: post.Scores{
			Coordination: 0.8, Density: 0.66, MeanWeight: 1.5, Synchrony: 0.9, Risk: 73.5,
			Reasons: []string{"near-simultaneous reposts", "new accounts"},
			Stance:  map[string]float64{"macron": -0.8, "le pen": 0.6},
		},
		Extra: map[string]any{"engine": "test", "round": 3.0},
	}
}

func mkCluster(id, status string, risk float64, detected time.Time, members ...string) post.Cluster {
	return post.Cluster{
		Schema: post.SchemaVersion, ID: id, Status: status, Platform: post.PlatformTwitter,
		Detected: detected, FirstSeen: detected.Add(-time.Hour), LastSeen: detected,
		Members: members, Signals: map[post.Kind]int{post.KindRepost: len(members)},
		Scores: post.Scores{Risk: risk},
	}
}

func (h *harness) getCluster(id string) post.Cluster {
	h.Helper()
	c, err := h.s.GetCluster(h.ctx, id)
	if err != nil {
		h.Fatalf("GetCluster(%s): %v", id, err)
	}
	return c
}

func testClusterRoundTrip(h *harness) {
	c := fullCluster()
	evidence := c.Edges[0].Evidence[0]
	h.putClusters(c)
	if c.Edges[0].Evidence[0] != evidence {
		h.Errorf("PutClusters changed its argument's evidence")
	}
	got := h.getCluster(c.ID)
	if d := Diff(c, got); d != "" {
		h.Errorf("GetCluster differs from what was put: %s", d)
	}
	if got.Detected.Location() != time.UTC {
		h.Errorf("GetCluster.Detected in %v, want UTC", got.Detected.Location())
	}
	list, err := h.s.ListClusters(h.ctx, store.ClusterQuery{})
	if err != nil || len(list) != 1 {
		h.Fatalf("ListClusters = %d, %v; want 1 cluster", len(list), err)
	}
	if d := Diff(store.Summarize(&c), list[0]); d != "" {
		h.Errorf("ListClusters summary: %s", d)
	}
}

func testClusterVersions(h *harness) {
	v1 := mkCluster("c1", post.StatusActive, 10, t0, "twitter:a", "twitter:b")
	v2 := mkCluster("c1", post.StatusActive, 20, t0.Add(time.Hour), "twitter:b", "twitter:c")
	merged := v2
	merged.Status, merged.MergedInto = post.StatusMerged, "c0"
	for _, tc := range []struct {
		name string
		puts []post.Cluster
		want post.Cluster
	}{
		{"newer replaces", []post.Cluster{v1, v2}, v2},
		{"older is ignored", []post.Cluster{v2, v1}, v2},
		{"replay is harmless", []post.Cluster{v1, v2, v1, v2, v1}, v2},
		{"equal detection: later write wins", []post.Cluster{v2, merged}, merged},
		{"equal detection: later write wins back", []post.Cluster{merged, v2}, v2},
		{"newer and older in one batch", nil, v2},
	} {
		h.Run(tc.name, func(t *testing.T) {
			sub := &harness{T: t, s: h.s, ctx: h.ctx}
			// Each case uses its own ID so cases do not interact.
			id := "c-" + strings.ReplaceAll(tc.name, " ", "-")
			want := tc.want
			want.ID = id
			if tc.puts == nil {
				a, b := v1, v2
				a.ID, b.ID = id, id
				sub.putClusters(b, a)
			}
			for _, c := range tc.puts {
				c.ID = id
				sub.putClusters(c)
			}
			if d := Diff(want, sub.getCluster(id)); d != "" {
				t.Errorf("GetCluster: %s", d)
			}
			// Membership follows the stored version.
			for _, m := range []string{"twitter:a", "twitter:b", "twitter:c"} {
				in := slices.Contains(sub.clusterIDs(store.ClusterQuery{Status: store.StatusAll, Account: m}), id)
				if in != slices.Contains(want.Members, m) {
					t.Errorf("ListClusters(account %s) contains %s = %v, want %v", m, id, in, !in)
				}
			}
			list, err := h.s.ListClusters(h.ctx, store.ClusterQuery{Status: store.StatusAll})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range list {
				if s.ID == id && (s.Risk != want.Scores.Risk || s.Status != want.Status || s.Size != len(want.Members)) {
					t.Errorf("summary %+v does not match the stored version %+v", s, want)
				}
			}
		})
	}
}

func testClusterStatus(h *harness) {
	h.putClusters(
		mkCluster("active", post.StatusActive, 30, t0, "twitter:a"),
		mkCluster("merged", post.StatusMerged, 20, t0, "twitter:a"),
		mkCluster("expired", post.StatusExpired, 10, t0, "twitter:a"),
	)
	for _, tc := range []struct {
		status string
		want   []string
	}{
		{"", []string{"active"}},
		{post.StatusActive, []string{"active"}},
		{post.StatusMerged, []string{"merged"}},
		{post.StatusExpired, []string{"expired"}},
		{store.StatusAll, []string{"active", "merged", "expired"}},
	} {
		if got := h.clusterIDs(store.ClusterQuery{Status: tc.status}); !slices.Equal(got, tc.want) {
			h.Errorf("ListClusters(status %q) = %v, want %v", tc.status, got, tc.want)
		}
	}
}

func testClusterOrder(h *harness) {
	h.putClusters(
		mkCluster("c1", post.StatusActive, 50, t0, "twitter:a", "twitter:b", "twitter:c"),
		mkCluster("c2", post.StatusActive, 50, t0, "twitter:a", "twitter:b", "twitter:c", "twitter:d", "twitter:e"),
		mkCluster("c3", post.StatusActive, 80, t0, "twitter:a", "twitter:b"),
		mkCluster("a4", post.StatusActive, 50, t0, "twitter:a", "twitter:b", "twitter:c", "twitter:d", "twitter:e"),
		mkCluster("c5", post.StatusActive, 49.99, t0, "twitter:a", "twitter:b", "twitter:c", "twitter:d", "twitter:e", "twitter:f"),
	)
	want := []string{"c3", "a4", "c2", "c1", "c5"} // risk desc, size desc, ID asc
	if got := h.clusterIDs(store.ClusterQuery{}); !slices.Equal(got, want) {
		h.Errorf("ListClusters order = %v, want %v", got, want)
	}
}

func testClusterFilters(h *harness) {
	h.putClusters(
		mkCluster("hi", post.StatusActive, 90, t0.Add(2*time.Hour), "twitter:alice", "twitter:bob"),
		mkCluster("mid", post.StatusActive, 50, t0.Add(time.Hour), "twitter:bob", "twitter:carol"),
		mkCluster("lo", post.StatusActive, 10, t0, "twitter:carol", "twitter:dave"),
		mkCluster("old", post.StatusExpired, 60, t0, "twitter:alice"),
	)
	for _, tc := range []struct {
		name string
		q    store.ClusterQuery
		want []string
	}{
		{"min risk is inclusive", store.ClusterQuery{MinRisk: 50}, []string{"hi", "mid"}},
		{"min risk above all", store.ClusterQuery{MinRisk: 95}, []string{}},
		{"since is inclusive", store.ClusterQuery{Since: t0.Add(time.Hour)}, []string{"hi", "mid"}},
		{"since just after", store.ClusterQuery{Since: t0.Add(time.Hour + time.Millisecond)}, []string{"hi"}},
		{"since in other zone", store.ClusterQuery{Since: t0.Add(time.Hour).In(cest)}, []string{"hi", "mid"}},
		{"account", store.ClusterQuery{Account: "twitter:bob"}, []string{"hi", "mid"}},
		{"account any status", store.ClusterQuery{Account: "twitter:alice", Status: store.StatusAll}, []string{"hi", "old"}},
		{"account active only", store.ClusterQuery{Account: "twitter:alice"}, []string{"hi"}},
		{"unknown account", store.ClusterQuery{Account: "twitter:nobody"}, []string{}},
		{"combined", store.ClusterQuery{Account: "twitter:carol", MinRisk: 20, Since: t0}, []string{"mid"}},
		{"page", store.ClusterQuery{Status: store.StatusAll, Limit: 2, Offset: 1}, []string{"old", "mid"}},
		{"page past end", store.ClusterQuery{Limit: 2, Offset: 3}, []string{}},
	} {
		if got := h.clusterIDs(tc.q); !slices.Equal(got, tc.want) {
			h.Errorf("%s: ListClusters(%+v) = %v, want %v", tc.name, tc.q, got, tc.want)
		}
	}
}

func testAccountView(h *harness) {
	var ps []post.Post
	for i := range 25 {
		ps = append(ps, mkPost(fmt.Sprintf("a%02d", i), "alice", t0.Add(time.Duration(i)*time.Minute), "msg"))
	}
	ps = append(ps, mkPost("b1", "bob", t0, "autre"))
	h.putPosts(ps...)
	h.putClusters(
		mkCluster("low", post.StatusActive, 10, t0, "twitter:alice", "twitter:carol"),
		mkCluster("high", post.StatusMerged, 90, t0, "twitter:alice", "twitter:carol"),
		mkCluster("other", post.StatusActive, 50, t0, "twitter:bob"),
	)
	v, err := h.s.GetAccount(h.ctx, "twitter:alice")
	if err != nil {
		h.Fatalf("GetAccount: %v", err)
	}
	var recent []string
	for i := 24; i >= 25-store.AccountRecentPosts; i-- {
		recent = append(recent, ps[i].Key())
	}
	var gotRecent []string
	for _, p := range v.Recent {
		gotRecent = append(gotRecent, p.Key())
	}
	switch {
	case v.Key != "twitter:alice":
		h.Errorf("Key = %q", v.Key)
	case v.Posts != 25:
		h.Errorf("Posts = %d, want 25", v.Posts)
	case !v.FirstPost.Equal(t0) || !v.LastPost.Equal(t0.Add(24*time.Minute)):
		h.Errorf("FirstPost, LastPost = %v, %v, want %v, %v", v.FirstPost, v.LastPost, t0, t0.Add(24*time.Minute))
	case v.Account != nil:
		h.Errorf("Account = %+v, want nil: no post carried a profile", v.Account)
	case !slices.Equal(gotRecent, recent):
		h.Errorf("Recent = %v, want the %d newest, newest first: %v", gotRecent, store.AccountRecentPosts, recent)
	}
	if d := Diff(ps[24], v.Recent[0]); d != "" {
		h.Errorf("Recent[0]: %s", d)
	}
	var clusters []string
	for _, c := range v.Clusters {
		clusters = append(clusters, c.ID)
	}
	if want := []string{"high", "low"}; !slices.Equal(clusters, want) {
		h.Errorf("Clusters = %v, want %v (every status, by risk)", clusters, want)
	}

	// An account seen only as a cluster member exists.
	v, err = h.s.GetAccount(h.ctx, "twitter:carol")
	if err != nil {
		h.Fatalf("GetAccount(member without posts): %v", err)
	}
	if v.Posts != 0 || len(v.Recent) != 0 || len(v.Clusters) != 2 || !v.FirstPost.IsZero() || v.Account != nil {
		h.Errorf("GetAccount(member without posts) = %+v", v)
	}
}

func testAccountSnapshot(h *harness) {
	snap := func(name string, observed time.Time) *post.Account {
		return &post.Account{Platform: post.PlatformTwitter, ID: "1", Handle: "h", Name: name, ObservedAt: observed}
	}
	withAccount := func(id, author string, at time.Time, a *post.Account) post.Post {
		p := mkPost(id, author, at, "x")
		p.Account = a
		return p
	}
	for _, tc := range []struct {
		name  string
		posts []post.Post // put one at a time, in order
		want  string      // Name of the snapshot kept
	}{
		{"latest observation kept when put first", []post.Post{
			withAccount("1", "u1", t0, snap("new", t0.Add(2*time.Hour))),
			withAccount("2", "u1", t0.Add(3*time.Hour), snap("old", t0.Add(time.Hour))),
		}, "new"},
		{"latest observation wins when put last", []post.Post{
			withAccount("3", "u2", t0, snap("old", t0.Add(time.Hour))),
			withAccount("4", "u2", t0, snap("new", t0.Add(2*time.Hour))),
		}, "new"},
		{"post time stands for a missing observation", []post.Post{
			withAccount("5", "u3", t0.Add(2*time.Hour), snap("by post time", time.Time{})),
			withAccount("6", "u3", t0, snap("observed earlier", t0.Add(time.Hour))),
		}, "by post time"},
		{"post without profile keeps the snapshot", []post.Post{
			withAccount("7", "u4", t0, snap("kept", t0)),
			withAccount("8", "u4", t0.Add(time.Hour), nil),
		}, "kept"},
	} {
		for _, p := range tc.posts {
			h.putPosts(p)
		}
		key := tc.posts[0].AuthorKey()
		v, err := h.s.GetAccount(h.ctx, key)
		if err != nil {
			h.Fatalf("%s: GetAccount(%s): %v", tc.name, key, err)
		}
		if v.Account == nil || v.Account.Name != tc.want {
			h.Errorf("%s: Account = %+v, want the snapshot named %q", tc.name, v.Account, tc.want)
		}
		if v.Posts != len(tc.posts) {
			h.Errorf("%s: Posts = %d, want %d", tc.name, v.Posts, len(tc.posts))
		}
	}
	// The snapshot round-trips whole.
	full := fullPost()
	h.putPosts(full)
	v, err := h.s.GetAccount(h.ctx, full.AuthorKey())
	if err != nil {
		h.Fatal(err)
	}
	if d := Diff(full.Account, v.Account); d != "" {
		h.Errorf("Account snapshot: %s", d)
	}
}

func mkAlert(id, cluster string, at time.Time, risk float64) post.Alert {
	return post.Alert{Schema: post.SchemaVersion, ID: id, ClusterID: cluster, Rule: "risk>=50", Time: at, Risk: risk, Size: 3, Summary: "3 comptes"}
}

func testAlerts(h *harness) {
	full := mkAlert("full", "c1", t0.In(cest).Add(3*time.Second), 80)
	full.Reasons = []string{"synchronous reposts"}
	full.Targets = []string{"macron"}
	h.putAlerts(
		mkAlert("b", "c1", t0, 60),
		mkAlert("a", "c2", t0, 60),
		mkAlert("c", "c2", t0.Add(time.Second), 60),
		full,
	)
	h.putAlerts(mkAlert("b", "c1", t0, 60)) // replay
	for _, tc := range []struct {
		name string
		q    store.AlertQuery
		want []string
	}{
		{"all: time desc, ID asc", store.AlertQuery{}, []string{"full", "c", "a", "b"}},
		{"cluster", store.AlertQuery{ClusterID: "c2"}, []string{"c", "a"}},
		{"since is inclusive", store.AlertQuery{Since: t0.Add(time.Second)}, []string{"full", "c"}},
		{"cluster and since", store.AlertQuery{ClusterID: "c1", Since: t0.Add(time.Millisecond)}, []string{"full"}},
		{"page", store.AlertQuery{Limit: 2, Offset: 1}, []string{"c", "a"}},
		{"unknown cluster", store.AlertQuery{ClusterID: "nope"}, []string{}},
	} {
		if got := h.alertIDs(tc.q); !slices.Equal(got, tc.want) {
			h.Errorf("%s: ListAlerts(%+v) = %v, want %v", tc.name, tc.q, got, tc.want)
		}
	}
	as, err := h.s.ListAlerts(h.ctx, store.AlertQuery{ClusterID: "c1", Limit: 1})
	if err != nil || len(as) != 1 {
		h.Fatalf("ListAlerts = %v, %v", as, err)
	}
	if d := Diff(full, as[0]); d != "" {
		h.Errorf("alert round trip: %s", d)
	}
	// A replayed older alert does not roll back a newer one.
	newer := mkAlert("x", "c3", t0.Add(time.Hour), 90)
	h.putAlerts(newer)
	h.putAlerts(mkAlert("x", "c3", t0, 55))
	as, err = h.s.ListAlerts(h.ctx, store.AlertQuery{ClusterID: "c3"})
	if err != nil || len(as) != 1 {
		h.Fatalf("ListAlerts(c3) = %v, %v", as, err)
	}
	if d := Diff(newer, as[0]); d != "" {
		h.Errorf("older alert overwrote newer: %s", d)
	}
	if st := h.stats(); st.Alerts != 5 {
		h.Errorf("Stats.Alerts = %d, want 5", st.Alerts)
	}
}

func testCheckpoints(h *harness) {
	if _, err := h.s.LoadCheckpoint(h.ctx, "graph"); !errors.Is(err, store.ErrNotFound) {
		h.Errorf("LoadCheckpoint(missing) error = %v, want ErrNotFound", err)
	}
	binary := []byte{0, 1, 2, 0xff, 0xfe, 0, '"', '\''}
	large := make([]byte, 1<<20)
	for i := range large {
		large[i] = byte(i * 7)
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"graph", []byte("v1")},
		{"graph", []byte("v2, longer than v1")},
		{"graph", []byte("v3")},
		{"ingest/source-a", binary},
		{"empty", []byte{}},
		{"nil", nil},
		{"large", large},
	} {
		if err := h.s.SaveCheckpoint(h.ctx, tc.name, tc.data); err != nil {
			h.Fatalf("SaveCheckpoint(%s): %v", tc.name, err)
		}
		h.refresh()
		got, err := h.s.LoadCheckpoint(h.ctx, tc.name)
		if err != nil {
			h.Fatalf("LoadCheckpoint(%s): %v", tc.name, err)
		}
		if string(got) != string(tc.data) {
			h.Errorf("LoadCheckpoint(%s) = %.40q, want %.40q", tc.name, got, tc.data)
		}
	}
	// Names are independent.
	if got, err := h.s.LoadCheckpoint(h.ctx, "graph"); err != nil || string(got) != "v3" {
		h.Errorf("LoadCheckpoint(graph) = %q, %v, want v3", got, err)
	}
}

func mkBriefing(date, summary string) store.Briefing {
	return store.Briefing{
		Date: date, Generated: t0.In(cest).Add(24 * time.Hour), Title: "Briefing " + date, Summary: summary,
		Markdown: "# Briefing " + date + "\n\n" + summary + "\n",
		HTML:     "<!doctype html><title>" + date + "</title><img src=\"data:image/png;base64,iVBORw0KGgo=\">é",
	}
}

func testBriefings(h *harness) {
	if _, err := h.s.GetBriefing(h.ctx, "2017-05-05"); !errors.Is(err, store.ErrNotFound) {
		h.Errorf("GetBriefing(missing) error = %v, want ErrNotFound", err)
	}
	if got, err := h.s.ListBriefings(h.ctx, store.BriefingQuery{}); err != nil || len(got) != 0 || got == nil {
		h.Errorf("ListBriefings(empty store) = %#v, %v, want an empty non-nil list", got, err)
	}
	b5, b6, b7 := mkBriefing("2017-05-05", "cinq"), mkBriefing("2017-05-06", "six"), mkBriefing("2017-05-07", "sept")
	for _, b := range []store.Briefing{b6, b5, b7} {
		if err := h.s.PutBriefing(h.ctx, b); err != nil {
			h.Fatalf("PutBriefing(%s): %v", b.Date, err)
		}
	}
	// A re-rendering of a day replaces the earlier one.
	b6.Summary, b6.HTML = "six, re-rendered", b6.HTML+"<p>late data</p>"
	if err := h.s.PutBriefing(h.ctx, b6); err != nil {
		h.Fatalf("PutBriefing(%s again): %v", b6.Date, err)
	}
	h.refresh()
	got, err := h.s.GetBriefing(h.ctx, "2017-05-06")
	if err != nil {
		h.Fatalf("GetBriefing: %v", err)
	}
	want := b6
	want.Generated = want.Generated.UTC()
	if d := Diff(want, got); d != "" {
		h.Errorf("briefing round trip: %s", d)
	}
	for _, tc := range []struct {
		name string
		q    store.BriefingQuery
		want []string
	}{
		{"all, newest first", store.BriefingQuery{}, []string{"2017-05-07", "2017-05-06", "2017-05-05"}},
		{"page", store.BriefingQuery{Limit: 1, Offset: 1}, []string{"2017-05-06"}},
		{"past the end", store.BriefingQuery{Offset: 5}, []string{}},
	} {
		list, err := h.s.ListBriefings(h.ctx, tc.q)
		if err != nil {
			h.Fatalf("%s: ListBriefings: %v", tc.name, err)
		}
		dates := []string{}
		for _, b := range list {
			dates = append(dates, b.Date)
		}
		if !slices.Equal(dates, tc.want) {
			h.Errorf("%s: ListBriefings(%+v) = %v, want %v", tc.name, tc.q, dates, tc.want)
		}
	}
	list, err := h.s.ListBriefings(h.ctx, store.BriefingQuery{Limit: 1, Offset: 1})
	if err != nil || len(list) != 1 {
		h.Fatalf("ListBriefings = %v, %v", list, err)
	}
	if d := Diff(want.Summarize(), list[0]); d != "" {
		h.Errorf("briefing summary: %s", d)
	}
	for _, tc := range []struct {
		name string
		b    store.Briefing
	}{
		{"empty date", store.Briefing{}},
		{"bad date", mkBriefing("2017-5-6", "x")},
		{"not a day", mkBriefing("2017-02-30", "x")},
		{"too large", store.Briefing{Date: "2017-05-08", HTML: strings.Repeat("x", store.MaxBriefingBytes+1)}},
	} {
		if err := h.s.PutBriefing(h.ctx, tc.b); err == nil {
			h.Errorf("PutBriefing(%s) succeeded, want an error", tc.name)
		}
	}
	for _, date := range []string{"", "yesterday", "2017-05-06' OR 1=1 --"} {
		if _, err := h.s.GetBriefing(h.ctx, date); !errors.Is(err, store.ErrInvalidQuery) {
			h.Errorf("GetBriefing(%q) error = %v, want ErrInvalidQuery", date, err)
		}
	}
	if _, err := h.s.ListBriefings(h.ctx, store.BriefingQuery{Limit: -1}); !errors.Is(err, store.ErrInvalidQuery) {
		h.Errorf("ListBriefings(limit -1) error = %v, want ErrInvalidQuery", err)
	}
	h.refresh()
	if list, err := h.s.ListBriefings(h.ctx, store.BriefingQuery{}); err != nil || len(list) != 3 {
		h.Errorf("after refused puts: %d briefings, %v; want 3", len(list), err)
	}
}

func testStats(h *harness) {
	if st := h.stats(); st != (store.Stats{}) {
		h.Errorf("empty store Stats = %+v, want zeros", st)
	}
	h.putPosts(mkPost("1", "alice", t0, "a"), mkPost("2", "alice", t0, "b"), mkPost("3", "bob", t0, "c"))
	h.putClusters(
		mkCluster("c1", post.StatusActive, 1, t0, "twitter:alice"),
		mkCluster("c2", post.StatusActive, 1, t0, "twitter:bob"),
		mkCluster("c3", post.StatusExpired, 1, t0, "twitter:bob"),
	)
	h.putAlerts(mkAlert("a1", "c1", t0, 1), mkAlert("a2", "c1", t0, 1))
	want := store.Stats{Posts: 3, Accounts: 2, Clusters: 3, ActiveClusters: 2, Alerts: 2}
	if st := h.stats(); st != want {
		h.Errorf("Stats = %+v, want %+v", st, want)
	}
	// A status change moves a cluster out of the active count.
	c2 := mkCluster("c2", post.StatusMerged, 1, t0, "twitter:bob")
	c2.MergedInto = "c1"
	h.putClusters(c2)
	want.ActiveClusters = 1
	if st := h.stats(); st != want {
		h.Errorf("after merge Stats = %+v, want %+v", st, want)
	}
}

func testNotFound(h *harness) {
	h.putPosts(mkPost("1", "alice", t0, "a"))
	h.putClusters(mkCluster("c1", post.StatusActive, 1, t0, "twitter:bob"))
	if err := h.s.SaveCheckpoint(h.ctx, "x", []byte("x")); err != nil {
		h.Fatal(err)
	}
	h.refresh()
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"post", func() error { _, err := h.s.GetPost(h.ctx, "twitter:2"); return err }},
		{"post of other platform", func() error { _, err := h.s.GetPost(h.ctx, "mastodon:1"); return err }},
		{"cluster", func() error { _, err := h.s.GetCluster(h.ctx, "c2"); return err }},
		{"account", func() error { _, err := h.s.GetAccount(h.ctx, "twitter:carol"); return err }},
		{"account by bare name", func() error { _, err := h.s.GetAccount(h.ctx, "alice"); return err }},
		{"checkpoint", func() error { _, err := h.s.LoadCheckpoint(h.ctx, "y"); return err }},
	} {
		if err := tc.call(); !errors.Is(err, store.ErrNotFound) {
			h.Errorf("%s: error = %v, want one wrapping store.ErrNotFound", tc.name, err)
		}
	}
}

func testInvalidQueries(h *harness) {
	for _, tc := range []struct {
		name, field string
		call        func() error
	}{
		{"post limit", "limit", func() error { _, _, err := h.s.SearchPosts(h.ctx, store.PostQuery{Limit: -1}); return err }},
		{"post offset", "offset", func() error { _, _, err := h.s.SearchPosts(h.ctx, store.PostQuery{Offset: -1}); return err }},
		{"post range", "to", func() error {
			_, _, err := h.s.SearchPosts(h.ctx, store.PostQuery{From: t0, To: t0.Add(-time.Second)})
			return err
		}},
		{"cluster limit", "limit", func() error { _, err := h.s.ListClusters(h.ctx, store.ClusterQuery{Limit: -5}); return err }},
		{"cluster offset", "offset", func() error { _, err := h.s.ListClusters(h.ctx, store.ClusterQuery{Offset: -1}); return err }},
		{"cluster status", "status", func() error { _, err := h.s.ListClusters(h.ctx, store.ClusterQuery{Status: "actif"}); return err }},
		{"alert limit", "limit", func() error { _, err := h.s.ListAlerts(h.ctx, store.AlertQuery{Limit: -1}); return err }},
		{"alert offset", "offset", func() error { _, err := h.s.ListAlerts(h.ctx, store.AlertQuery{Offset: -1}); return err }},
	} {
		err := tc.call()
		var qe *store.QueryError
		switch {
		case !errors.Is(err, store.ErrInvalidQuery):
			h.Errorf("%s: error = %v, want one wrapping store.ErrInvalidQuery", tc.name, err)
		case !errors.As(err, &qe) || qe.Field != tc.field:
			h.Errorf("%s: error %v does not name field %q", tc.name, err, tc.field)
		case !strings.Contains(err.Error(), tc.field):
			h.Errorf("%s: message %q does not name field %q", tc.name, err, tc.field)
		}
	}
}

func testInvalidRecords(h *harness) {
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"empty post batch", func() error { return h.s.PutPosts(h.ctx, nil) }},
		{"empty cluster batch", func() error { return h.s.PutClusters(h.ctx, nil) }},
		{"empty alert batch", func() error { return h.s.PutAlerts(h.ctx, []post.Alert{}) }},
	} {
		if err := tc.call(); err != nil {
			h.Errorf("%s: %v", tc.name, err)
		}
	}
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"post without time", func() error { return h.s.PutPosts(h.ctx, []post.Post{mkPost("1", "a", time.Time{}, "x")}) }},
		{"post without author", func() error { return h.s.PutPosts(h.ctx, []post.Post{mkPost("1", "", t0, "x")}) }},
		{"cluster without ID", func() error {
			return h.s.PutClusters(h.ctx, []post.Cluster{mkCluster("", post.StatusActive, 1, t0, "twitter:a")})
		}},
		{"alert without ID", func() error { return h.s.PutAlerts(h.ctx, []post.Alert{mkAlert("", "c", t0, 1)}) }},
		{"checkpoint without name", func() error { return h.s.SaveCheckpoint(h.ctx, "", []byte("x")) }},
	} {
		if err := tc.call(); err == nil {
			h.Errorf("%s: no error", tc.name)
		}
	}
	h.refresh()
	if st := h.stats(); st != (store.Stats{}) {
		h.Errorf("after refused writes Stats = %+v, want zeros", st)
	}
}

func testContext(h *harness) {
	ctx, cancel := context.WithCancel(h.ctx)
	cancel()
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"PutPosts", func() error { return h.s.PutPosts(ctx, []post.Post{mkPost("1", "a", t0, "x")}) }},
		{"PutClusters", func() error {
			return h.s.PutClusters(ctx, []post.Cluster{mkCluster("c", post.StatusActive, 1, t0, "twitter:a")})
		}},
		{"PutAlerts", func() error { return h.s.PutAlerts(ctx, []post.Alert{mkAlert("a", "c", t0, 1)}) }},
		{"SaveCheckpoint", func() error { return h.s.SaveCheckpoint(ctx, "x", []byte("x")) }},
		{"PutBriefing", func() error {
			return h.s.PutBriefing(ctx, store.Briefing{Date: "2017-05-05", Generated: t0, Markdown: "x"})
		}},
		{"SearchPosts", func() error { _, _, err := h.s.SearchPosts(ctx, store.PostQuery{Text: "x"}); return err }},
		{"ListClusters", func() error { _, err := h.s.ListClusters(ctx, store.ClusterQuery{}); return err }},
		{"Stats", func() error { _, err := h.s.Stats(ctx); return err }},
	} {
		if err := tc.call(); !errors.Is(err, context.Canceled) {
			h.Errorf("%s with a cancelled context: error = %v, want one wrapping context.Canceled", tc.name, err)
		}
	}
	h.refresh()
	if st := h.stats(); st != (store.Stats{}) {
		h.Errorf("after cancelled writes Stats = %+v, want zeros", st)
	}
}

// testRetention checks store.Retention: posts before the cut go with
// their text, hashtags and orphaned accounts; the cut itself, newer posts,
// clusters, alerts and the accounts of authors with posts left stay. The
// posts span several UTC days so that a backend with daily indices both
// drops whole days and trims the day of the cut.
func testRetention(h *harness) {
	cut := t0.Add(-36 * time.Hour) // 2017-05-04 06:00 UTC, mid-day
	withAccount := func(p post.Post, name string) post.Post {
		p.Account = &post.Account{Platform: post.PlatformTwitter, ID: p.Author, Handle: p.Author, Name: name, ObservedAt: p.Time}
		return p
	}
	old := []post.Post{
		withAccount(mkPost("o1", "gone", t0.Add(-72*time.Hour), "ancien message oublié", "Oubli"), "Gone Person"),
		mkPost("o2", "gone", t0.Add(-60*time.Hour), "ancien message oublié bis"),
		mkPost("o3", "stays", cut.Add(-time.Hour), "ancien message du même jour", "Oubli"),
		mkPost("o4", "stays", cut.Add(-time.Nanosecond).Add(-time.Millisecond), "juste avant la coupure"),
	}
	kept := []post.Post{
		mkPost("k1", "stays", cut, "exactement à la coupure"),
		withAccount(mkPost("k2", "stays", cut.Add(time.Hour), "message récent", "Garde"), "Stays Person"),
		mkPost("k3", "new", t0, "message du jour", "Garde"),
	}
	h.putPosts(append(append([]post.Post{}, old...), kept...)...)
	c := mkCluster("c1", post.StatusActive, 70, t0, "twitter:gone", "twitter:stays")
	c.Edges = []post.Edge{{A: "twitter:gone", B: "twitter:stays", Weight: 3, First: old[0].Time, Last: t0,
		Evidence: []post.Evidence{{Kind: post.KindRepost, Key: "x", PostA: old[0].Key(), PostB: old[2].Key(), TimeA: old[0].Time, TimeB: old[2].Time}}}}
	c.Posts = []string{old[0].Key(), kept[1].Key()}
	h.putClusters(c)
	h.putAlerts(mkAlert("a1", "c1", old[0].Time, 70))
	before := h.stats()
	if before.Posts != 7 || before.Accounts != 3 {
		h.Fatalf("before retention Stats = %+v, want 7 posts by 3 accounts", before)
	}

	n, err := h.s.DeletePostsBefore(h.ctx, cut)
	if err != nil {
		h.Fatalf("DeletePostsBefore: %v", err)
	}
	h.refresh()
	if n != int64(len(old)) {
		h.Errorf("DeletePostsBefore deleted %d posts, want %d", n, len(old))
	}
	want := store.Stats{Posts: 3, Accounts: 2, Clusters: 1, ActiveClusters: 1, Alerts: 1}
	if st := h.stats(); st != want {
		h.Errorf("after retention Stats = %+v, want %+v", st, want)
	}
	for _, p := range old {
		if _, err := h.s.GetPost(h.ctx, p.Key()); !errors.Is(err, store.ErrNotFound) {
			h.Errorf("GetPost(%s) after retention: error = %v, want ErrNotFound", p.Key(), err)
		}
	}
	for _, p := range kept {
		got, err := h.s.GetPost(h.ctx, p.Key())
		if err != nil {
			h.Errorf("GetPost(%s) after retention: %v", p.Key(), err)
			continue
		}
		if d := Diff(p, got); d != "" {
			h.Errorf("kept post %s changed: %s", p.Key(), d)
		}
	}
	// Text and hashtags of deleted posts no longer match.
	if got, total := h.search(store.PostQuery{Text: "ancien"}); total != 0 || len(got) != 0 {
		h.Errorf("text search for deleted posts = %v (total %d), want none", got, total)
	}
	if got, total := h.search(store.PostQuery{Hashtag: "oubli"}); total != 0 || len(got) != 0 {
		h.Errorf("hashtag search for deleted posts = %v (total %d), want none", got, total)
	}
	if got, total := h.search(store.PostQuery{Hashtag: "garde"}); total != 2 || !slices.Equal(got, keys("k3", "k2")) {
		h.Errorf("hashtag search for kept posts = %v (total %d), want [k3 k2]", got, total)
	}
	if got, total := h.search(store.PostQuery{}); total != 3 || !slices.Equal(got, keys("k3", "k2", "k1")) {
		h.Errorf("all posts = %v (total %d), want [k3 k2 k1]", got, total)
	}
	// An author left without posts keeps no profile; one still posting
	// keeps it, and a cluster member stays findable through the cluster.
	v, err := h.s.GetAccount(h.ctx, "twitter:gone")
	if err != nil {
		h.Errorf("GetAccount(member whose posts were all deleted): %v", err)
	} else if v.Posts != 0 || v.Account != nil || len(v.Recent) != 0 || len(v.Clusters) != 1 {
		h.Errorf("GetAccount(member whose posts were all deleted) = %+v, want no posts, no profile, 1 cluster", v)
	}
	v, err = h.s.GetAccount(h.ctx, "twitter:stays")
	if err != nil {
		h.Fatalf("GetAccount(stays): %v", err)
	}
	if v.Posts != 2 || v.Account == nil || v.Account.Name != "Stays Person" || !v.FirstPost.Equal(cut) {
		h.Errorf("GetAccount(stays) = posts %d, account %+v, first %v; want 2 posts from %v with its profile", v.Posts, v.Account, v.FirstPost, cut)
	}
	// Clusters keep their evidence (keys and times, no text); alerts stay.
	if d := Diff(c, h.getCluster("c1")); d != "" {
		h.Errorf("cluster changed by retention: %s", d)
	}
	if got := h.alertIDs(store.AlertQuery{}); !slices.Equal(got, []string{"a1"}) {
		h.Errorf("alerts after retention = %v, want [a1]", got)
	}
	// Idempotent, and a cut before everything deletes nothing.
	for _, at := range []time.Time{cut, t0.Add(-1000 * time.Hour)} {
		n, err := h.s.DeletePostsBefore(h.ctx, at)
		if err != nil || n != 0 {
			h.Errorf("DeletePostsBefore(%v) again = %d, %v; want 0, nil", at, n, err)
		}
	}
	h.refresh()
	if st := h.stats(); st != want {
		h.Errorf("after a second retention run Stats = %+v, want %+v", st, want)
	}
	// A post re-put after deletion is stored again (retention does not
	// block writes; the index stage filters what it writes).
	h.putPosts(old[0])
	if _, err := h.s.GetPost(h.ctx, old[0].Key()); err != nil {
		h.Errorf("re-put deleted post: %v", err)
	}
	// A cancelled context deletes nothing and says so.
	ctx, cancel := context.WithCancel(h.ctx)
	cancel()
	if _, err := h.s.DeletePostsBefore(ctx, t0.Add(time.Hour)); !errors.Is(err, context.Canceled) {
		h.Errorf("DeletePostsBefore with a cancelled context: error = %v, want context.Canceled", err)
	}
	h.refresh()
	if st := h.stats(); st.Posts != 4 {
		h.Errorf("after a cancelled retention run %d posts, want 4", st.Posts)
	}
}
