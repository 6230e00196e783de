package elastic

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/store"
	"github.com/vigie-osint/vigie/store/storetest"
)

// EnvURL names the Elasticsearch the integration tests use
// (scripts/elasticsearch.sh start prints it).
const EnvURL = "VIGIE_TEST_ELASTICSEARCH"

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// serverURL returns the test server's URL, or skips the test with the
// reason when none is set, except under CI=true, where a missing server
// fails the test: CI must not pass by skipping.
func serverURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s is not set and CI=true: .ci/run must start Elasticsearch (scripts/elasticsearch.sh start)", EnvURL)
		}
		tb.Skipf("%s is not set: start a server with scripts/elasticsearch.sh start and export %s=http://127.0.0.1:19200", EnvURL, EnvURL)
	}
	return u
}

var prefixSeq atomic.Int64

// uniquePrefix gives a test its own indices and templates on the shared
// server.
func uniquePrefix() string {
	return fmt.Sprintf("vigietest-%d-%d", time.Now().UnixNano()%1_000_000_000, prefixSeq.Add(1))
}

func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// openTest opens a store with its own prefix and deletes its indices and
// templates when the test ends.
func openTest(tb testing.TB, opts ...Option) *Store {
	tb.Helper()
	u := serverURL(tb)
	s, err := Open(tb.Context(), Config{URLs: []string{u}},
		append([]Option{WithPrefix(uniquePrefix()), WithLogger(testLogger(tb)), withLazyIndices()}, opts...)...)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		// The suite closes s before this runs: clean up with a client of
		// our own.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := Open(ctx, Config{URLs: []string{u}}, WithPrefix(s.prefix), WithoutSetup(), WithLogger(testLogger(tb)))
		if err != nil {
			tb.Errorf("cleanup: %v", err)
			return
		}
		defer c.Close()
		if err := c.DeleteAll(ctx); err != nil {
			tb.Errorf("DeleteAll: %v", err)
		}
		s.Close()
	})
	return s
}

func TestConformance(t *testing.T) {
	serverURL(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTest(t)
	})
}

// TestConformanceWaitFor runs the suite's read-after-write checks with no
// explicit refresh: the store's own refresh policy must make each Put
// visible to searches when it returns.
func TestConformanceWaitFor(t *testing.T) {
	serverURL(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return noRefresh{openTest(t, WithRefresh("wait_for"))}
	})
}

// noRefresh hides the Refresh method from the suite.
type noRefresh struct{ *Store }

func (noRefresh) Refresh() {}

// TestSetupIdempotent checks what `vigie es setup` and every start do:
// templates installed, fixed indices created, and a second run (an
// upgrade, a restart) accepted with the data kept.
func TestSetupIdempotent(t *testing.T) {
	u := serverURL(t)
	prefix := uniquePrefix()
	open := func() *Store {
		s, err := Open(t.Context(), Config{URLs: []string{u}}, WithPrefix(prefix), WithLogger(testLogger(t)))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	}
	s := open()
	t.Cleanup(func() {
		if err := s.DeleteAll(context.Background()); err != nil {
			t.Errorf("DeleteAll: %v", err)
		}
		s.Close()
	})
	for _, kind := range kinds {
		if kind == kindPosts {
			continue
		}
		if err := s.do(t.Context(), "HEAD", "/"+s.index(kind), nil, nil, nil); err != nil {
			t.Errorf("index %s after setup: %v", s.index(kind), err)
		}
	}
	if err := s.SaveCheckpoint(t.Context(), "graph", []byte("state")); err != nil {
		t.Fatal(err)
	}
	s2 := open() // setup again, on existing indices
	defer s2.Close()
	if got, err := s2.LoadCheckpoint(t.Context(), "graph"); err != nil || string(got) != "state" {
		t.Errorf("checkpoint after a second setup = %q, %v", got, err)
	}
	var tmpl struct {
		IndexTemplates []struct {
			Name string `json:"name"`
		} `json:"index_templates"`
	}
	if err := s.do(t.Context(), "GET", "/_index_template/"+prefix+"-*", nil, nil, &tmpl); err != nil {
		t.Fatal(err)
	}
	if len(tmpl.IndexTemplates) != len(kinds) {
		t.Errorf("%d templates installed, want %d", len(tmpl.IndexTemplates), len(kinds))
	}
}
