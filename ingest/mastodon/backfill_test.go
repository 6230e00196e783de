package mastodon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/ingest"
)

// statusAt is a status in the real format with the given ID, created
// 2024-03-01 plus id seconds.
func statusAt(t testing.TB, id int) string {
	created := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(id) * time.Second)
	return compact(t, "status.json", fmt.Sprint(id), created.Format("2006-01-02T15:04:05.000Z"))
}

func page(t testing.TB, ids ...int) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = statusAt(t, id)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// drain reads a source to its end: post IDs, and "!" for each record
// error.
func drain(t testing.TB, src ingest.Source) ([]string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []string
	for {
		p, err := src.Next(ctx)
		var re *ingest.RecordError
		switch {
		case errors.Is(err, io.EOF):
			return out, nil
		case errors.As(err, &re):
			out = append(out, "!")
		case err != nil:
			return out, err
		default:
			out = append(out, strings.TrimPrefix(p.ID, "m.example:"))
		}
	}
}

func TestBackfillPagingAndRateLimits(t *testing.T) {
	serverNow := time.Date(2024, 3, 2, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	var requests []string
	attempts := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/timelines/tag/vote" || r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "bad request", 400)
			return
		}
		maxID := r.URL.Query().Get("max_id")
		mu.Lock()
		requests = append(requests, r.URL.RawQuery)
		attempts[maxID]++
		n := attempts[maxID]
		mu.Unlock()
		next := func(id string) {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s/api/v1/timelines/tag/vote?limit=40&max_id=%s>; rel="next", <http://%s/api/v1/timelines/tag/vote?limit=40&min_id=99>; rel="prev"`, r.Host, id, r.Host))
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Date", serverNow.Format(http.TimeFormat))
		h.Set("X-RateLimit-Limit", "300")
		switch maxID {
		case "":
			// The window is used up: the next request must wait for the
			// reset, 30 s later by the server's clock.
			h.Set("X-RateLimit-Remaining", "0")
			h.Set("X-RateLimit-Reset", serverNow.Add(30*time.Second).Format("2006-01-02T15:04:05.000Z"))
			next("97")
			fmt.Fprint(w, page(t, 99, 98, 97))
		case "97":
			if n == 1 {
				h.Set("X-RateLimit-Remaining", "0")
				h.Set("X-RateLimit-Reset", serverNow.Add(5*time.Second).Format("2006-01-02T15:04:05.000Z"))
				http.Error(w, `{"error":"Too many requests"}`, http.StatusTooManyRequests)
				return
			}
			h.Set("X-RateLimit-Remaining", "299")
			next("94")
			fmt.Fprint(w, page(t, 96, 95, 94))
		case "94":
			h.Set("X-RateLimit-Remaining", "298")
			// A status the instance cannot describe properly, among good
			// ones; no Link: the timeline ends.
			fmt.Fprintf(w, "[%s,%s,%s]", statusAt(t, 93), `{"id":"92","created_at":"not a time","account":{"acct":"x"}}`, statusAt(t, 91))
		default:
			http.Error(w, "unexpected", 500)
		}
	}))
	defer srv.Close()
	sl := &sleeps{}
	src, err := New(Config{URL: srv.URL + "/api/v1/timelines/tag/vote", Token: "tok", Instance: "m.example",
		Sleep: sl.sleep, Log: slog.New(slog.DiscardHandler)}, ingest.Position{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := drain(t, src)
	if err != nil {
		t.Fatal(err)
	}
	if want := "[99 98 97 96 95 94 93 ! 91]"; fmt.Sprint(got) != want {
		t.Errorf("got %v, want %s", got, want)
	}
	waits := sl.all()
	if len(waits) != 2 || waits[0] < 29*time.Second || waits[0] > 30*time.Second || waits[1] != 5*time.Second {
		t.Errorf("waits %v, want ~30s for the used-up window then 5s for the 429", waits)
	}
	mu.Lock()
	if len(requests) != 4 {
		t.Errorf("requests %q", requests)
	}
	for _, q := range requests {
		if !strings.Contains(q, "limit=40") {
			t.Errorf("request %q without limit=40", q)
		}
	}
	mu.Unlock()
	pos := src.Position()
	if pos.Cursor != "91" || pos.Line != 9 {
		t.Errorf("position %+v", pos)
	}
	st := src.(*Backfill).Stats()
	if st.RateWaits != 2 || st.Requests != 4 || st.Posts != 8 || st.Rejected != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestBackfillStops(t *testing.T) {
	// One timeline of 10 pages of 3, ids 30 down to 1.
	var mu sync.Mutex
	var firstQuery []string
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		top := 30
		if m := r.URL.Query().Get("max_id"); m != "" {
			fmt.Sscan(m, &top)
			top--
		} else {
			mu.Lock()
			firstQuery = append(firstQuery, r.URL.RawQuery)
			mu.Unlock()
		}
		var ids []int
		for id := top; id > top-3 && id > 0; id-- {
			ids = append(ids, id)
		}
		if len(ids) > 0 && ids[len(ids)-1] > 1 {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s%s?max_id=%d>; rel="next"`, r.Host, r.URL.Path, ids[len(ids)-1]))
		}
		fmt.Fprint(w, page(t, ids...))
	})
	srv := httptest.NewServer(handler)
	defer srv.Close()
	since := time.Date(2024, 3, 1, 0, 0, 25, 0, time.UTC)
	tests := []struct {
		name string
		cfg  Config
		from ingest.Position
		want string
	}{
		{"whole timeline", Config{}, ingest.Position{}, "[30 29 28 27 26 25 24 23 22 21 20 19 18 17 16 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1]"},
		{"since", Config{Since: since}, ingest.Position{}, "[30 29 28 27 26 25]"},
		{"max posts", Config{MaxPosts: 4}, ingest.Position{}, "[30 29 28 27]"},
		{"resume from cursor", Config{MaxPosts: 3}, ingest.Position{Cursor: "12", Line: 18}, "[11 10 9]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.URL = srv.URL + "/api/v1/timelines/public?local=true"
			tc.cfg.Instance = "m.example"
			src, err := New(tc.cfg, tc.from)
			if err != nil {
				t.Fatal(err)
			}
			got, err := drain(t, src)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != tc.want {
				t.Errorf("got %v, want %s", got, tc.want)
			}
			if tc.from.Cursor != "" && src.Position().Line != tc.from.Line+3 {
				t.Errorf("position %+v", src.Position())
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(firstQuery[0], "local=true") {
		t.Errorf("first query %q lost the timeline's parameters", firstQuery[0])
	}
}

func TestBackfillFailures(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string // posts and "!" before the end
		errWant string // "" = ends with io.EOF
	}{
		{"bad page is dead-lettered and its link followed", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("max_id") == "" {
				w.Header().Set("Link", fmt.Sprintf(`<http://%s%s?max_id=50>; rel="next"`, r.Host, r.URL.Path))
				fmt.Fprint(w, "<html>maintenance</html>")
				return
			}
			fmt.Fprint(w, page(t, 49))
		}, "[! 49]", ""},
		{"link to another host is not followed", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Link", `<http://evil.example/api/v1/timelines/public?max_id=1>; rel="next"`)
			fmt.Fprint(w, page(t, 5))
		}, "[5]", ""},
		{"5xx retried, then given up", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "down", http.StatusBadGateway)
		}, "[]", "HTTP 502"},
		{"5xx then success", func() http.HandlerFunc {
			var mu sync.Mutex
			n := 0
			return func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				n++
				c := n
				mu.Unlock()
				if c == 1 {
					http.Error(w, "down", http.StatusServiceUnavailable)
					return
				}
				fmt.Fprint(w, page(t, 8, 7))
			}
		}(), "[8 7]", ""},
		{"refused token is fatal at once", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"error":"The access token is invalid"}`, http.StatusUnauthorized)
		}, "[]", "HTTP 401"},
		{"empty page ends", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s%s?max_id=1>; rel="next"`, r.Host, r.URL.Path))
			fmt.Fprint(w, "[]")
		}, "[]", ""},
		{"oversized page", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "["+strings.Repeat(" ", 50<<10)+"]")
		}, "[]", "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			src, err := New(Config{URL: srv.URL + "/api/v1/timelines/public", Instance: "m.example", MaxRetries: 2,
				MaxEventBytes: 1 << 10, Sleep: (&sleeps{}).sleep, Log: slog.New(slog.DiscardHandler)}, ingest.Position{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := drain(t, src)
			if fmt.Sprint(got) != tc.want {
				t.Errorf("got %v, want %s", got, tc.want)
			}
			switch {
			case tc.errWant == "" && err != nil:
				t.Errorf("error %v", err)
			case tc.errWant != "" && (err == nil || !strings.Contains(err.Error(), tc.errWant)):
				t.Errorf("error %v, want %q", err, tc.errWant)
			}
		})
	}
}
