package web

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/store"
)

// FuzzAPI fires fuzzed requests (method, request target, headers, body)
// at every route of a Server over a small real store, through the whole
// middleware (access control, audit). Requests are parsed by
// http.ReadRequest, as the real server parses them; what it refuses never
// reaches a handler. Whatever gets through must not panic, must not be a
// server error (bad input is a 4xx), and a JSON answer must be valid JSON.
func FuzzAPI(f *testing.F) {
	const id = "c-0123456789abcdef"
	admin := "Authorization: Bearer " + adminTok + "\n"
	analyst := "Authorization: Bearer " + analystTok + "\n"
	form := "Content-Type: application/x-www-form-urlencoded\n"
	seeds := []struct{ method, target, headers, body string }{
		{"GET", "/healthz", "", ""},
		{"GET", "/readyz", "", ""},
		{"GET", "/static/dist/app.css?v=1", "Accept-Encoding: gzip\n", ""},
		{"GET", "/static/favicon.svg", "If-None-Match: \"x\"\n", ""},
		{"GET", "/api/clusters?min_risk=50&status=active&limit=10&offset=0&since=2017-05-01", analyst, ""},
		{"GET", "/api/clusters?account=twitter:a&status=all", analyst, ""},
		{"GET", "/api/clusters/" + id, analyst, ""},
		{"GET", "/api/clusters/" + id + "/graph", analyst, ""},
		{"GET", "/api/accounts/twitter:a", analyst, ""},
		{"GET", "/api/posts?q=macronleaks&author=a&platform=twitter&hashtag=%23MacronLeaks&from=2017-05-05&to=2017-05-06T00:00:00Z&limit=2", analyst, ""},
		{"GET", "/api/posts/twitter:1", analyst, ""},
		{"GET", "/api/alerts?cluster=" + id + "&since=2017-05-01&limit=5", analyst, ""},
		{"GET", "/api/stats", analyst, ""},
		{"GET", "/api/trends?window=6h&now=2017-05-06T00:00:00Z&limit=5", analyst, ""},
		{"GET", "/api/briefings?limit=5", analyst, ""},
		{"GET", "/api/briefings/2017-05-05", analyst, ""},
		{"GET", "/api/subscriptions", admin, ""},
		{"PUT", "/api/subscriptions/team", admin + "Content-Type: application/json\n", `{"url":"https://example.org/h","format":"slack","candidates":["macron"],"min_risk":60}`},
		{"PUT", "/api/subscriptions/team", analyst, `{"url":"https://example.org/h"}`},
		{"DELETE", "/api/subscriptions/team", admin, ""},
		{"GET", "/api/export/graph?format=graphml&status=all&min_risk=0", analyst, ""},
		{"GET", "/api/export/graph?format=gexf", analyst, ""},
		{"GET", "/api/export/graph?format=csv&part=nodes", analyst, ""},
		{"GET", "/api/audit?limit=5", admin, ""},
		{"GET", "/login?next=/alerts", "", ""},
		{"POST", "/login", form, "token=" + adminTok + "&next=%2Fclusters"},
		{"POST", "/login", form + "Sec-Fetch-Site: cross-site\n", "token=x"},
		{"POST", "/logout", "Cookie: vigie_session=e30.AAAA\n", ""},
		{"GET", "/", analyst, ""},
		{"GET", "/?min_risk=50", "Cookie: vigie_session=garbage\n", ""},
		{"GET", "/clusters/" + id, analyst, ""},
		{"GET", "/accounts/twitter:a", analyst, ""},
		{"GET", "/posts?q=macronleaks&offset=0", analyst, ""},
		{"GET", "/posts/twitter:2", analyst, ""},
		{"GET", "/alerts?cluster=" + id, analyst, ""},
		{"GET", "/briefings?offset=0", analyst, ""},
		{"GET", "/briefings/2017-05-05", analyst, ""},
		{"GET", "/briefings/2017-05-05?format=markdown", analyst, ""},
		{"OPTIONS", "/api/subscriptions/x", "Origin: https://dash.example.org\nAccess-Control-Request-Method: PUT\n", ""},
		{"GET", "/api/clusters", "X-Forwarded-User: alice\nX-Forwarded-Groups: vigie-admins\nX-Forwarded-For: 203.0.113.9\n", ""},
		{"GET", "/api/posts?q=%ff%fe", analyst, ""},
		{"GET", "/posts?q=%22unclosed&hashtag=%c3%28", analyst, ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.headers, []byte(s.body), uint8(0))
	}

	st, reg := accessStore(f)
	ctx := context.Background()
	if err := st.PutBriefing(ctx, store.Briefing{Date: "2017-05-05", Generated: time.Date(2017, 5, 6, 6, 0, 0, 0, time.UTC),
		Title: "Briefing", Summary: "Résumé", Markdown: "# B", HTML: "<p>B</p>"}); err != nil {
		f.Fatal(err)
	}
	acc, err := NewAccess(AccessOptions{Tokens: testTokens(), RateLimit: -1, AuditFile: filepath.Join(f.TempDir(), "audit.jsonl"),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, AdminGroups: []string{"vigie-admins"},
		CORSOrigins: []string{"https://dash.example.org"}, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	defer acc.Close()
	acc.failures = nil // guessing is what a fuzzer does: keep every input reaching the handlers
	srv := &Server{Store: st, Log: slog.New(slog.DiscardHandler), Subscriptions: reg, Access: acc,
		Live: func() map[string]any { return map[string]any{"ingested": 1} }}
	h := srv.Handler()
	peers := []string{"192.0.2.1:1234", "10.0.0.1:5678", "[2001:db8::1]:80"}

	f.Fuzz(func(t *testing.T, method, target, headers string, body []byte, peer uint8) {
		var raw strings.Builder
		raw.WriteString(method + " " + target + " HTTP/1.1\r\nHost: vigie.test\r\n")
		for _, line := range strings.Split(headers, "\n") {
			if line = strings.TrimRight(line, "\r"); line != "" {
				raw.WriteString(line + "\r\n")
			}
		}
		raw.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
		raw.Write(body)
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw.String())))
		if err != nil {
			return // the server answers 400 before any handler runs
		}
		req.RemoteAddr = peers[int(peer)%len(peers)]
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s (headers %q, body %q) = %d %s", method, target, headers, body, w.Code, w.Body)
		}
		if ct := w.Header().Get("Content-Type"); strings.HasPrefix(ct, "application/json") && w.Body.Len() > 0 && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s = %d: invalid JSON %q", method, target, w.Code, w.Body)
		}
		if w.Header().Get("Content-Security-Policy") == "" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%s %s = %d without security headers", method, target, w.Code)
		}
	})
}
