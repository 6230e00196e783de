package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/alert"
	"github.com/vigie-osint/vigie/store"
	"github.com/vigie-osint/vigie/store/sqlite"
)

func subsServer(t *testing.T, token string) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.PutBriefing(ctx, store.Briefing{Date: "2017-05-05", Generated: time.Date(2017, 5, 6, 6, 0, 0, 0, time.UTC),
		Title: "Briefing", Summary: "Résumé", Markdown: "# B", HTML: "<p>B</p>"}); err != nil {
		t.Fatal(err)
	}
	o, err := alert.OpenOutbox(ctx, filepath.Join(t.TempDir(), "outbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	reg := &alert.Registry{Static: []alert.Subscription{{Name: "cfg", URL: "https://example.org/h", Format: "json", Secret: "topsecret"}}, Outbox: o}
	s := &Server{Store: st, Log: slog.New(slog.DiscardHandler), Subscriptions: reg, APIToken: token}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func do(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestSubscriptionsAPI(t *testing.T) {
	ts := subsServer(t, "tok")
	u := ts.URL + "/api/subscriptions"
	for _, tc := range []struct {
		name, method, path, token, body string
		code                            int
		contains                        string
	}{
		{"list redacts secrets", "GET", "", "", "", 200, `"name": "cfg"`},
		{"no token", "PUT", "/team", "", `{"url":"https://example.org/x"}`, 401, "bearer"},
		{"wrong token", "PUT", "/team", "nope", `{"url":"https://example.org/x"}`, 401, "bearer"},
		{"invalid url", "PUT", "/team", "tok", `{"url":"ftp://example.org/x"}`, 400, `\"url\"`},
		{"unknown field", "PUT", "/team", "tok", `{"url":"https://example.org/x","colour":"red"}`, 400, "colour"},
		{"name mismatch", "PUT", "/team", "tok", `{"name":"other","url":"https://example.org/x"}`, 400, "name"},
		{"configured is read-only", "PUT", "/cfg", "tok", `{"url":"https://example.org/x"}`, 409, "configuration"},
		{"create returns the secret", "PUT", "/team", "tok", `{"url":"https://example.org/x","format":"slack","candidates":["Macron"]}`, 200, `"secret": "`},
		{"listed", "GET", "", "", "", 200, `"name": "team"`},
		{"delete configured", "DELETE", "/cfg", "tok", "", 409, "configuration"},
		{"delete", "DELETE", "/team", "tok", "", 204, ""},
		{"delete again", "DELETE", "/team", "tok", "", 404, "not found"},
	} {
		code, body := do(t, tc.method, u+tc.path, tc.token, tc.body)
		if code != tc.code || !strings.Contains(body, tc.contains) {
			t.Errorf("%s: %s %s = %d %s; want %d containing %q", tc.name, tc.method, tc.path, code, body, tc.code, tc.contains)
		}
		if tc.method == "GET" && strings.Contains(body, "topsecret") {
			t.Errorf("%s: the list shows a secret: %s", tc.name, body)
		}
	}
	_, body := do(t, "GET", u, "", "")
	var list struct {
		Subscriptions []alert.Subscription `json:"subscriptions"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil || len(list.Subscriptions) != 1 {
		t.Errorf("after delete: %s, %v", body, err)
	}
	// Without a token configured, the API is read-only.
	ro := subsServer(t, "")
	if code, body := do(t, "PUT", ro.URL+"/api/subscriptions/x", "", `{"url":"https://example.org/x"}`); code != 403 || !strings.Contains(body, "api_token") {
		t.Errorf("read-only PUT = %d %s", code, body)
	}
}

func TestBriefingsAPI(t *testing.T) {
	ts := subsServer(t, "")
	for _, tc := range []struct {
		path     string
		code     int
		contains string
	}{
		{"/api/briefings", 200, `"date": "2017-05-05"`},
		{"/api/briefings?limit=-1", 400, "limit"},
		{"/api/briefings/2017-05-05", 200, `"html": "\u003cp\u003eB\u003c/p\u003e"`},
		{"/api/briefings/2017-05-06", 404, "not found"},
		{"/api/briefings/yesterday", 400, "date"},
	} {
		code, body := get(t, ts.URL+tc.path)
		if code != tc.code || !strings.Contains(body, tc.contains) {
			t.Errorf("GET %s = %d %s; want %d containing %q", tc.path, code, body, tc.code, tc.contains)
		}
	}
}
