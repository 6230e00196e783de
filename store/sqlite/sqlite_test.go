package sqlite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store"
	"github.com/vigie-osint/vigie/store/storetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// openAt opens the store at path and closes it when the test ends, unless
// the test closed it already.
func openAt(tb testing.TB, path string, opts ...Option) *Store {
	tb.Helper()
	s, err := Open(tb.Context(), path, append([]Option{WithLogger(testLogger(tb))}, opts...)...)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func openTemp(tb testing.TB) *Store {
	tb.Helper()
	return openAt(tb, filepath.Join(tb.TempDir(), "vigie.db"))
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		path := filepath.Join(t.TempDir(), "vigie.db")
		s, err := Open(t.Context(), path, WithLogger(testLogger(t)))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s // storetest.Run closes it
	})
}

func TestPragmas(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	for _, tc := range []struct {
		name, pragma string
		r            bool // ask a read connection instead of the writer
		want         string
	}{
		{"WAL journal", "journal_mode", false, "wal"},
		{"fsync on every commit", "synchronous", false, "2"},
		{"writer foreign keys", "foreign_keys", false, "1"},
		{"reader foreign keys", "foreign_keys", true, "1"},
		{"writer busy timeout", "busy_timeout", false, "10000"},
		{"reader busy timeout", "busy_timeout", true, "10000"},
		{"reader is query-only", "query_only", true, "1"},
		{"writer is not query-only", "query_only", false, "0"},
		{"schema version", "user_version", false, fmt.Sprint(len(migrations))},
	} {
		db := s.w
		if tc.r {
			db = s.r
		}
		var got string
		if err := db.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got != tc.want {
			t.Errorf("%s: PRAGMA %s = %s, want %s", tc.name, tc.pragma, got, tc.want)
		}
	}
	if _, err := s.r.ExecContext(ctx, "INSERT INTO checkpoints(name, data, updated) VALUES ('x', x'00', 0)"); err == nil {
		t.Error("a read connection accepted a write")
	}
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		path string
		opts []Option
	}{
		{"empty path", "", nil},
		{"in-memory", ":memory:", nil},
		{"in-memory URI", "file::memory:?cache=shared", nil},
		{"question mark", filepath.Join(dir, "a?b.db"), nil},
		{"missing directory", filepath.Join(dir, "no", "such", "dir", "x.db"), nil},
		{"no readers", filepath.Join(dir, "x.db"), []Option{WithReaders(0)}},
	} {
		s, err := Open(t.Context(), tc.path, tc.opts...)
		if err == nil {
			s.Close()
			t.Errorf("%s: Open(%q) succeeded", tc.name, tc.path)
		}
	}
}

// TestDurableAcrossReopen checks that what a Put returned for is there
// after Close and Open, the promise stages rely on to commit offsets.
func TestDurableAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.db")
	ctx := t.Context()
	s := openAt(t, path)
	p := post.Post{Platform: post.PlatformTwitter, ID: "1", Author: "alice", Time: time.Date(2017, 5, 5, 18, 0, 0, 0, time.UTC), Text: "persistant", Hashtags: []string{"Tag"}}
	c := post.Cluster{ID: "c1", Status: post.StatusActive, Detected: p.Time, Members: []string{"twitter:alice"}, Scores: post.Scores{Risk: 42}}
	a := post.Alert{ID: "a1", ClusterID: "c1", Time: p.Time}
	if err := s.PutPosts(ctx, []post.Post{p}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutClusters(ctx, []post.Cluster{c}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAlerts(ctx, []post.Alert{a}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCheckpoint(ctx, "graph", []byte("state")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openAt(t, path)
	if got, err := s.GetPost(ctx, p.Key()); err != nil || storetest.Diff(p, got) != "" {
		t.Errorf("GetPost after reopen = %+v, %v", got, err)
	}
	if ps, _, err := s.SearchPosts(ctx, store.PostQuery{Text: "persistant", Hashtag: "tag"}); err != nil || len(ps) != 1 {
		t.Errorf("SearchPosts after reopen = %d posts, %v", len(ps), err)
	}
	if got, err := s.GetCluster(ctx, c.ID); err != nil || storetest.Diff(c, got) != "" {
		t.Errorf("GetCluster after reopen = %+v, %v", got, err)
	}
	if ids, err := s.ListClusters(ctx, store.ClusterQuery{Account: "twitter:alice"}); err != nil || len(ids) != 1 {
		t.Errorf("ListClusters(account) after reopen = %v, %v", ids, err)
	}
	if as, err := s.ListAlerts(ctx, store.AlertQuery{}); err != nil || len(as) != 1 {
		t.Errorf("ListAlerts after reopen = %v, %v", as, err)
	}
	if data, err := s.LoadCheckpoint(ctx, "graph"); err != nil || string(data) != "state" {
		t.Errorf("LoadCheckpoint after reopen = %q, %v", data, err)
	}
}

func userVersion(t *testing.T, s *Store) int {
	t.Helper()
	var v int
	if err := s.w.QueryRowContext(t.Context(), "PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMigrations(t *testing.T) {
	ctx := t.Context()
	v2 := migration{name: "add notes", sql: `ALTER TABLE posts ADD COLUMN note TEXT; CREATE TABLE notes(x TEXT);`}
	broken := migration{name: "broken", sql: `CREATE TABLE half(x TEXT); SELECT * FROM no_such_table;`}
	p := post.Post{Platform: post.PlatformTwitter, ID: "1", Author: "alice", Time: time.Date(2017, 5, 5, 18, 0, 0, 0, time.UTC), Text: "avant migration"}

	path := filepath.Join(t.TempDir(), "vigie.db")
	s := openAt(t, path, withMigrations(migrations[:1]))
	if got := userVersion(t, s); got != 1 {
		t.Fatalf("new database at version %d, want 1", got)
	}
	if err := s.PutPosts(ctx, []post.Post{p}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	t.Run("upgrade keeps data", func(t *testing.T) {
		s := openAt(t, path, withMigrations(append(migrations[:1:1], v2)))
		if got := userVersion(t, s); got != 2 {
			t.Errorf("upgraded database at version %d, want 2", got)
		}
		if _, err := s.w.ExecContext(ctx, "UPDATE posts SET note = 'ok'"); err != nil {
			t.Errorf("migration 2 did not run: %v", err)
		}
		if ps, _, err := s.SearchPosts(ctx, store.PostQuery{Text: "migration"}); err != nil || len(ps) != 1 {
			t.Errorf("post written before the upgrade: %d found, %v", len(ps), err)
		}
		s.Close()
		// Opening again runs nothing: ALTER TABLE would fail if re-run.
		s = openAt(t, path, withMigrations(append(migrations[:1:1], v2)))
		s.Close()
	})
	t.Run("newer schema refused", func(t *testing.T) {
		s, err := Open(ctx, path, withMigrations(migrations[:1]))
		if err == nil {
			s.Close()
			t.Fatal("an older build opened a newer schema")
		}
		if !strings.Contains(err.Error(), "newer") {
			t.Errorf("error %q does not say the schema is newer", err)
		}
	})
	t.Run("failed migration rolls back", func(t *testing.T) {
		s, err := Open(ctx, path, withMigrations(append(migrations[:1:1], v2, broken)))
		if err == nil {
			s.Close()
			t.Fatal("Open succeeded with a broken migration")
		}
		if !strings.Contains(err.Error(), "broken") {
			t.Errorf("error %q does not name the migration", err)
		}
		s = openAt(t, path, withMigrations(append(migrations[:1:1], v2)))
		if got := userVersion(t, s); got != 2 {
			t.Errorf("version after failed migration = %d, want 2", got)
		}
		var n int
		if err := s.w.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE name = 'half'").Scan(&n); err != nil || n != 0 {
			t.Errorf("failed migration left table half behind (%d, %v)", n, err)
		}
	})
}

// TestConcurrentOpen opens one new file from several goroutines at once,
// as several stages of one process may: each migration must run once.
func TestConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.db")
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			s, err := Open(t.Context(), path, WithLogger(testLogger(t)))
			if err != nil {
				errs <- err
				return
			}
			errs <- s.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// genPosts makes n synthetic posts numbered from start, spread over 200
// authors and 50 hashtags, one in ten with a profile snapshot.
func genPosts(start, n int) []post.Post {
	words := []string{"macron", "lepen", "vote", "fraude", "bureau", "second", "tour", "document", "fuite", "compte",
		"offshore", "bahamas", "partagez", "vérité", "médias", "élection", "dimanche", "silence", "preuve", "urgent"}
	base := time.Date(2017, 5, 5, 18, 0, 0, 0, time.UTC)
	ps := make([]post.Post, n)
	for i := range n {
		k := start + i
		var text strings.Builder
		for j := range 12 {
			text.WriteString(words[(k*7+j*13+j*j)%len(words)])
			text.WriteByte(' ')
		}
		fmt.Fprintf(&text, "n%d", k)
		p := post.Post{
			Platform: post.PlatformTwitter,
			ID:       fmt.Sprintf("%d", 860000000000000000+k),
			Author:   fmt.Sprintf("user%03d", k%200),
			Time:     base.Add(time.Duration(k) * time.Second),
			Text:     text.String(),
			Lang:     "fr",
			Hashtags: []string{fmt.Sprintf("Tag%02d", k%50), "MacronLeaks"},
			URLs:     []string{fmt.Sprintf("https://example.org/%d", k%1000)},
		}
		if k%10 == 0 {
			p.Account = &post.Account{Platform: post.PlatformTwitter, ID: p.Author, Handle: p.Author, Followers: int64(k), ObservedAt: p.Time}
		}
		ps[i] = p
	}
	return ps
}

// TestConcurrentReadersDuringWrites runs readers against a writer (run it
// with -race): no read may fail or see a torn snapshot.
func TestConcurrentReadersDuringWrites(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	// Small enough to stay quick under -race on two cores, where the
	// transpiled SQLite runs many times slower.
	const batches, size = 10, 50
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		for b := range batches {
			if err := s.PutPosts(ctx, genPosts(b*size, size)); err != nil {
				t.Errorf("PutPosts: %v", err)
				return
			}
			c := post.Cluster{ID: fmt.Sprintf("c%d", b%3), Status: post.StatusActive, Detected: time.Unix(int64(b), 0), Members: []string{"twitter:user001"}}
			if err := s.PutClusters(ctx, []post.Cluster{c}); err != nil {
				t.Errorf("PutClusters: %v", err)
				return
			}
		}
	})
	for r := range 3 {
		wg.Go(func() {
			last := 0
			for reads := 0; ; reads++ {
				select {
				case <-done:
					if reads == 0 {
						t.Errorf("reader %d never read", r)
					}
					return
				default:
				}
				ps, total, err := s.SearchPosts(ctx, store.PostQuery{Text: "macron", Limit: 5})
				if err != nil {
					t.Errorf("reader %d: SearchPosts: %v", r, err)
					return
				}
				if total < last || len(ps) != min(total, 5) {
					t.Errorf("reader %d: total %d after %d, %d posts", r, total, last, len(ps))
				}
				last = total
				if _, err := s.Stats(ctx); err != nil {
					t.Errorf("reader %d: Stats: %v", r, err)
				}
				if _, err := s.GetAccount(ctx, "twitter:user001"); err != nil && !errors.Is(err, store.ErrNotFound) {
					t.Errorf("reader %d: GetAccount: %v", r, err)
				}
				// Leave the writer some CPU: the point is overlap, not
				// load.
				time.Sleep(time.Millisecond)
			}
		})
	}
	wg.Wait()
	st, err := s.Stats(ctx)
	if err != nil || st.Posts != batches*size || st.Accounts != min(batches*size, 200) || st.Clusters != 3 {
		t.Errorf("Stats = %+v, %v; want %d posts, %d accounts, 3 clusters", st, err, batches*size, min(batches*size, 200))
	}
}

// TestCancelMidBatch cancels a large batch while it is being written: the
// error must say so and nothing of the batch may be stored. The deadline
// doubles until it falls after the transaction began (validation and
// encoding come first and take a machine-dependent time).
func TestCancelMidBatch(t *testing.T) {
	batch := genPosts(0, 2000)
	for timeout := 5 * time.Millisecond; timeout < 10*time.Second; timeout *= 2 {
		s := openTemp(t)
		ctx, cancel := context.WithTimeout(t.Context(), timeout)
		err := s.PutPosts(ctx, batch)
		cancel()
		if err != nil && strings.Contains(err.Error(), "begin:") {
			continue // cancelled before the transaction: too early
		}
		t.Logf("timeout %v: PutPosts: %v", timeout, err)
		st, serr := s.Stats(t.Context())
		if serr != nil {
			t.Fatal(serr)
		}
		switch {
		case err == nil:
			t.Skipf("the machine wrote %d posts before the deadline: nothing to check", len(batch))
		case !errors.Is(err, context.DeadlineExceeded):
			t.Errorf("PutPosts error = %v, want one wrapping context.DeadlineExceeded", err)
		case st != (store.Stats{}):
			t.Errorf("cancelled batch left %+v behind", st)
		}
		// The writer works again after its connection was rolled back.
		if err := s.PutPosts(t.Context(), batch[:10]); err != nil {
			t.Errorf("PutPosts after a cancelled batch: %v", err)
		}
		return
	}
	t.Skip("no deadline fell inside the transaction")
}

// TestTextFolding covers what this backend's tokenizer adds beyond the
// conformance suite: diacritics fold, so French text matches unaccented
// queries and the other way round.
func TestTextFolding(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	at := time.Date(2017, 5, 5, 18, 0, 0, 0, time.UTC)
	if err := s.PutPosts(ctx, []post.Post{
		{Platform: post.PlatformTwitter, ID: "1", Author: "a", Time: at, Text: "Le vote est truqué"},
		{Platform: post.PlatformTwitter, ID: "2", Author: "a", Time: at, Text: "ÉLECTION présidentielle"},
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		text string
		want int
	}{
		{"truque", 1}, {"TRUQUÉ", 1}, {"election", 1}, {"élection", 1}, {"presidentielle", 1}, {"e\u0301lection", 1},
	} {
		if _, total, err := s.SearchPosts(ctx, store.PostQuery{Text: tc.text}); err != nil || total != tc.want {
			t.Errorf("SearchPosts(%q) total = %d, %v; want %d", tc.text, total, err, tc.want)
		}
	}
}

// TestSearchPlansAgree checks that the plan SearchPosts picks does not
// change its answer: every plan postFilter can build must give the same
// page and total, on a corpus where the text and hashtag filters range
// from rare to common.
func TestSearchPlansAgree(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	if err := s.PutPosts(ctx, genPosts(0, 1000)); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2017, 5, 5, 18, 0, 0, 0, time.UTC)
	var queries []store.PostQuery
	for _, text := range []string{"", "macron", "n123", "fraude bahamas", "élect*", `"second tour"`, "absent"} {
		for _, tag := range []string{"", "macronleaks", "tag07"} {
			for _, window := range [][2]time.Time{{}, {base.Add(5 * time.Minute), base.Add(10 * time.Minute)}} {
				for _, page := range [][2]int{{7, 10}, {100, 300}} {
					queries = append(queries, store.PostQuery{Text: text, Hashtag: tag, From: window[0], To: window[1], Limit: page[0], Offset: page[1]})
				}
			}
		}
	}
	queries = append(queries,
		store.PostQuery{Text: "macron", Author: "twitter:user007"},
		store.PostQuery{Hashtag: "macronleaks", Platform: post.PlatformTwitter, Limit: 3},
		store.PostQuery{Hashtag: "tag07", Author: "twitter:user007"},
	)
	for _, q := range queries {
		ps, total, err := s.SearchPosts(ctx, q)
		if err != nil {
			t.Fatalf("SearchPosts(%+v): %v", q, err)
		}
		got := make([]string, len(ps))
		for i := range ps {
			got[i] = ps[i].Key()
		}
		nq, _ := q.Normalized()
		match := ""
		if terms := store.ParseText(q.Text); len(terms) > 0 {
			match = ftsQuery(terms)
		}
		for _, byTime := range []bool{false, true} {
			for _, tagDrives := range []bool{false, true} {
				from, args := postFilter(nq, match, byTime, tagDrives)
				var want int
				if err := s.r.QueryRowContext(ctx, "SELECT count(*)"+from, args...).Scan(&want); err != nil {
					t.Fatal(err)
				}
				rows, err := s.r.QueryContext(ctx, "SELECT key"+from+" ORDER BY time DESC, key LIMIT ? OFFSET ?", append(args, nq.Limit, nq.Offset)...)
				if err != nil {
					t.Fatal(err)
				}
				keys := []string{}
				for rows.Next() {
					var k string
					rows.Scan(&k)
					keys = append(keys, k)
				}
				rows.Close()
				if total != want || !slices.Equal(got, keys) {
					t.Errorf("SearchPosts(%+v) = %d posts of %d; plan byTime=%v tagDrives=%v gives %d of %d", q, len(got), total, byTime, tagDrives, len(keys), want)
				}
			}
		}
	}
}

func TestFTSQuery(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"macron vote", `"macron" "vote"`},
		{`"second tour"`, `"second tour"`},
		{`"second tour"*`, `"second tour"*`},
		{"macr*", `"macr"*`},
		{"AND OR NEAR(", `"AND" "OR" "NEAR("`},
		{`text:x`, `"text:x"`},
		{`a"b`, `"a" "b"`},
		{"*", ``},
		{"a\x00b", `"a" "b"`},
	} {
		if got := ftsQuery(store.ParseText(tc.in)); got != tc.want {
			t.Errorf("ftsQuery(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// FuzzSearchText checks that no query text makes SearchPosts fail (other
// than by its context) or panic.
func FuzzSearchText(f *testing.F) {
	s := openTemp(f)
	if err := s.PutPosts(f.Context(), genPosts(0, 200)); err != nil {
		f.Fatal(err)
	}
	for _, text := range storetest.HostileTexts() {
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		ps, total, err := s.SearchPosts(t.Context(), store.PostQuery{Text: text, Limit: 10})
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("SearchPosts(%q): %v", text, err)
		}
		if len(ps) > total || len(ps) > 10 {
			t.Fatalf("SearchPosts(%q): %d posts, total %d", text, len(ps), total)
		}
		for _, term := range store.ParseText(text) {
			if term.Text == "" || strings.ContainsAny(term.Text, "\"\x00") {
				t.Fatalf("ParseText(%q) gave term %q", text, term.Text)
			}
		}
	})
}

// mutant is a deliberately broken store, to show that the conformance
// suite fails on the bugs it is meant to catch.
type mutant struct {
	*Store
	kind string
}

func (m mutant) PutClusters(ctx context.Context, cs []post.Cluster) error {
	if m.kind == "older-cluster-overwrites" {
		cs = slices.Clone(cs)
		for i := range cs {
			// Pretend each incoming cluster is as new as the stored one.
			if old, err := m.Store.GetCluster(ctx, cs[i].ID); err == nil && old.Detected.After(cs[i].Detected) {
				cs[i].Detected = old.Detected
			}
		}
	}
	return m.Store.PutClusters(ctx, cs)
}

func (m mutant) ListClusters(ctx context.Context, q store.ClusterQuery) ([]store.ClusterSummary, error) {
	cs, err := m.Store.ListClusters(ctx, q)
	if m.kind == "cluster-order-ignores-size" {
		slices.SortStableFunc(cs, func(a, b store.ClusterSummary) int {
			if a.Risk != b.Risk {
				return map[bool]int{true: -1, false: 1}[a.Risk > b.Risk]
			}
			return strings.Compare(a.ID, b.ID)
		})
	}
	return cs, err
}

func (m mutant) SearchPosts(ctx context.Context, q store.PostQuery) ([]post.Post, int, error) {
	if m.kind == "to-inclusive" && !q.To.IsZero() {
		q.To = q.To.Add(time.Nanosecond)
	}
	return m.Store.SearchPosts(ctx, q)
}

func (m mutant) GetCluster(ctx context.Context, id string) (post.Cluster, error) {
	c, err := m.Store.GetCluster(ctx, id)
	if m.kind == "notfound-unwrapped" && err != nil {
		err = errors.New(err.Error())
	}
	return c, err
}

func (m mutant) GetAccount(ctx context.Context, key string) (store.AccountView, error) {
	v, err := m.Store.GetAccount(ctx, key)
	if m.kind == "recent-oldest-first" {
		slices.Reverse(v.Recent)
	}
	return v, err
}

func (m mutant) SaveCheckpoint(ctx context.Context, name string, data []byte) error {
	if m.kind == "checkpoint-first-write-wins" {
		if _, err := m.Store.LoadCheckpoint(ctx, name); err == nil {
			return nil
		}
	}
	return m.Store.SaveCheckpoint(ctx, name, data)
}

const mutantEnv = "VIGIE_STORE_MUTANT"

// TestMutant runs the conformance suite against a mutant, only when
// TestSuiteDetectsBrokenBackends asks for it in a child process.
func TestMutant(t *testing.T) {
	kind := os.Getenv(mutantEnv)
	if kind == "" {
		t.Skip("run by TestSuiteDetectsBrokenBackends")
	}
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "vigie.db"), WithLogger(testLogger(t)))
		if err != nil {
			t.Fatal(err)
		}
		return mutant{Store: s, kind: kind}
	})
}

// TestSuiteDetectsBrokenBackends shows the suite can fail: each mutant
// breaks one promise, and the suite's test of that promise must fail.
func TestSuiteDetectsBrokenBackends(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite in child processes")
	}
	for _, tc := range []struct{ kind, test string }{
		{"older-cluster-overwrites", "Clusters/Versions"},
		{"cluster-order-ignores-size", "Clusters/Order"},
		{"to-inclusive", "Posts/TimeRange"},
		{"notfound-unwrapped", "NotFound"},
		{"recent-oldest-first", "Accounts/View"},
		{"checkpoint-first-write-wins", "Checkpoints"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			t.Parallel()
			run := "^TestMutant$/^" + strings.ReplaceAll(tc.test, "/", "$/^") + "$"
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run="+run, "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), mutantEnv+"="+tc.kind)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a store with bug %q:\n%s", tc.kind, out)
			}
			if want := "--- FAIL: TestMutant/" + tc.test; !strings.Contains(string(out), want) {
				t.Errorf("bug %q: output lacks %q:\n%s", tc.kind, want, out)
			}
		})
	}
}
