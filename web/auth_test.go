package web

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/alert"
	"github.com/vigie-osint/vigie/config"
	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store/sqlite"
)

const (
	analystTok = "analyst-token-0123456789"
	adminTok   = "admin-token-0123456789ab"
)

// accessStore is a small real store: three posts, one cluster, and a
// webhook registry over a real outbox, for the access-control tests.
func accessStore(t testing.TB) (*sqlite.Store, *alert.Registry) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "web.db"), sqlite.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	at := time.Date(2017, 5, 5, 19, 0, 0, 0, time.UTC)
	posts := []post.Post{
		{Platform: post.PlatformTwitter, ID: "1", Author: "a", Time: at, Text: "Les #MacronLeaks arrivent", Hashtags: []string{"macronleaks"}},
		{Platform: post.PlatformTwitter, ID: "2", Author: "b", Time: at.Add(5 * time.Second), RepostOf: "1", Text: "RT #MacronLeaks", Hashtags: []string{"macronleaks"}},
		{Platform: post.PlatformTwitter, ID: "3", Author: "c", Time: at.Add(9 * time.Second), RepostOf: "1", Text: "RT #MacronLeaks", Hashtags: []string{"macronleaks"}},
	}
	if err := st.PutPosts(ctx, posts); err != nil {
		t.Fatal(err)
	}
	c := post.Cluster{
		ID: "c-0123456789abcdef", Status: post.StatusActive, Platform: post.PlatformTwitter, Detected: at,
		FirstSeen: at, LastSeen: at.Add(9 * time.Second), Members: []string{"twitter:a", "twitter:b", "twitter:c"},
		Edges: []post.Edge{
			{A: "twitter:a", B: "twitter:b", Weight: 3, Evidence: []post.Evidence{{Kind: post.KindRepost, Key: "twitter:1", PostA: "twitter:1", PostB: "twitter:2", TimeA: at, TimeB: at}}},
			{A: "twitter:a", B: "twitter:c", Weight: 3},
		},
		Signals: map[post.Kind]int{post.KindRepost: 3}, Posts: []string{"twitter:1", "twitter:2"},
		Scores: post.Scores{Risk: 80, Reasons: []string{"fast reposts"}},
	}
	if err := st.PutClusters(ctx, []post.Cluster{c}); err != nil {
		t.Fatal(err)
	}
	o, err := alert.OpenOutbox(ctx, filepath.Join(dir, "outbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return st, &alert.Registry{Outbox: o}
}

func testTokens() []Token {
	return []Token{{Name: "ana", Role: RoleAnalyst, Value: analystTok}, {Name: "root", Role: RoleAdmin, Value: adminTok}}
}

// accessServer serves a Server with the given access options over a real
// HTTP server.
func accessServer(t *testing.T, o AccessOptions, tls ...bool) (*httptest.Server, *Access) {
	t.Helper()
	st, reg := accessStore(t)
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	acc, err := NewAccess(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { acc.Close() })
	s := &Server{Store: st, Log: slog.New(slog.DiscardHandler), Subscriptions: reg, Access: acc}
	var ts *httptest.Server
	if len(tls) > 0 && tls[0] {
		ts = httptest.NewTLSServer(s.Handler())
	} else {
		ts = httptest.NewServer(s.Handler())
	}
	t.Cleanup(ts.Close)
	return ts, acc
}

type reqSpec struct {
	method, path, body string
	hdr                []string // name, value pairs
}

// send does one request without following redirects.
func send(t *testing.T, c *http.Client, base string, rs reqSpec) *http.Response {
	t.Helper()
	if rs.method == "" {
		rs.method = "GET"
	}
	req, err := http.NewRequest(rs.method, base+rs.path, strings.NewReader(rs.body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(rs.hdr); i += 2 {
		req.Header.Set(rs.hdr[i], rs.hdr[i+1])
	}
	if c == nil {
		c = http.DefaultClient
	}
	nc := *c
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := nc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(b))
	return res
}

func bodyOf(res *http.Response) string {
	b, _ := io.ReadAll(res.Body)
	res.Body = io.NopCloser(bytes.NewReader(b))
	return string(b)
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

const subBody = `{"url":"https://example.org/hook","format":"json"}`

func TestAccessRoles(t *testing.T) {
	ts, _ := accessServer(t, AccessOptions{Tokens: testTokens(), RateLimit: -1,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	tests := []struct {
		name     string
		rs       reqSpec
		code     int
		contains string
	}{
		{"health open", reqSpec{path: "/healthz"}, 200, "ok"},
		{"ready open", reqSpec{path: "/readyz"}, 200, "ready"},
		{"static open", reqSpec{path: "/static/favicon.svg"}, 200, "svg"},
		{"login form open", reqSpec{path: "/login"}, 200, `name="token"`},
		{"api refused", reqSpec{path: "/api/clusters"}, 401, "authentication required"},
		{"metrics refused", reqSpec{path: "/api/stats"}, 401, "authentication required"},
		{"page redirects", reqSpec{path: "/clusters/c-0123456789abcdef"}, 303, ""},
		{"wrong token", reqSpec{path: "/api/clusters", hdr: bearer("not-a-token-at-all-000")}, 401, "wrong bearer token"},
		{"basic scheme", reqSpec{path: "/api/clusters", hdr: []string{"Authorization", "Basic YTpi"}}, 401, "Bearer"},
		{"analyst reads", reqSpec{path: "/api/clusters", hdr: bearer(analystTok)}, 200, "c-0123456789abcdef"},
		{"analyst page", reqSpec{path: "/", hdr: bearer(analystTok)}, 200, "Overview"},
		{"analyst export", reqSpec{path: "/api/export/graph?format=gexf", hdr: bearer(analystTok)}, 200, "<gexf"},
		{"analyst cannot subscribe", reqSpec{method: "PUT", path: "/api/subscriptions/team", body: subBody, hdr: bearer(analystTok)}, 403, "admin role"},
		{"analyst cannot delete", reqSpec{method: "DELETE", path: "/api/subscriptions/team", hdr: bearer(analystTok)}, 403, "admin role"},
		{"analyst cannot read audit", reqSpec{path: "/api/audit", hdr: bearer(analystTok)}, 403, "admin role"},
		{"admin subscribes", reqSpec{method: "PUT", path: "/api/subscriptions/team", body: subBody, hdr: bearer(adminTok)}, 200, `"secret"`},
		{"admin reads audit", reqSpec{path: "/api/audit", hdr: bearer(adminTok)}, 200, `"entries"`},
		{"admin deletes", reqSpec{method: "DELETE", path: "/api/subscriptions/team", hdr: bearer(adminTok)}, 204, ""},
		{"forged proxy header from untrusted peer", reqSpec{path: "/api/clusters", hdr: []string{"X-Forwarded-User", "mallory", "X-Forwarded-Groups", "admins"}}, 401, "trusted_proxies"},
		{"forged proxy header cannot mutate", reqSpec{method: "PUT", path: "/api/subscriptions/x", body: subBody, hdr: []string{"X-Forwarded-User", "mallory"}}, 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := send(t, nil, ts.URL, tt.rs)
			b := bodyOf(res)
			if res.StatusCode != tt.code || !strings.Contains(b, tt.contains) {
				t.Fatalf("%s %s = %d %s; want %d containing %q", tt.rs.method, tt.rs.path, res.StatusCode, b, tt.code, tt.contains)
			}
			if tt.code == 401 && res.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
			if tt.code == 303 {
				if loc := res.Header.Get("Location"); loc != "/login?next="+url.QueryEscape(tt.rs.path) {
					t.Errorf("Location = %q", loc)
				}
			}
		})
	}
}

func TestTrustedProxy(t *testing.T) {
	// The test client connects from 127.0.0.1: trust it as the proxy.
	ts, _ := accessServer(t, AccessOptions{RateLimit: -1, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
		AdminGroups: []string{"vigie-admins"}, AnalystGroups: []string{"vigie-analysts"}, UserHeader: "X-Auth-Request-User", GroupsHeader: "X-Auth-Request-Groups"})
	user := func(name, groups string) []string {
		return []string{"X-Auth-Request-User", name, "X-Auth-Request-Groups", groups}
	}
	tests := []struct {
		name string
		rs   reqSpec
		code int
	}{
		{"no header", reqSpec{path: "/api/clusters"}, 401},
		{"analyst group reads", reqSpec{path: "/api/clusters", hdr: user("alice", "staff,vigie-analysts")}, 200},
		{"analyst group cannot mutate", reqSpec{method: "PUT", path: "/api/subscriptions/t", body: subBody, hdr: user("alice", "vigie-analysts")}, 403},
		{"admin group mutates", reqSpec{method: "PUT", path: "/api/subscriptions/t", body: subBody, hdr: user("bob", "vigie-admins")}, 200},
		{"no allowed group", reqSpec{path: "/api/clusters", hdr: user("eve", "staff")}, 401},
		{"default header names ignored", reqSpec{path: "/api/clusters", hdr: []string{"X-Forwarded-User", "mallory"}}, 401},
		{"overlong name", reqSpec{path: "/api/clusters", hdr: user(strings.Repeat("a", 300), "vigie-admins")}, 401},
		{"a bearer token is still checked", reqSpec{path: "/api/clusters", hdr: append(user("alice", "vigie-admins"), "Authorization", "Bearer wrong-token-0123456789")}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := send(t, nil, ts.URL, tt.rs)
			if res.StatusCode != tt.code {
				t.Fatalf("%s %s = %d %s; want %d", tt.rs.method, tt.rs.path, res.StatusCode, bodyOf(res), tt.code)
			}
		})
	}
}

// login signs in with tok and returns the session cookie.
func login(t *testing.T, c *http.Client, base, tok string, hdr ...string) *http.Cookie {
	t.Helper()
	res := send(t, c, base, reqSpec{method: "POST", path: "/login", body: url.Values{"token": {tok}, "next": {"/alerts"}}.Encode(),
		hdr: append([]string{"Content-Type", "application/x-www-form-urlencoded"}, hdr...)})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/alerts" {
		t.Fatalf("login = %d %s (Location %q)", res.StatusCode, bodyOf(res), res.Header.Get("Location"))
	}
	for _, ck := range res.Cookies() {
		if ck.Name == sessionCookie {
			return ck
		}
	}
	t.Fatal("no session cookie")
	return nil
}

func TestSessionCookie(t *testing.T) {
	ts, acc := accessServer(t, AccessOptions{Tokens: testTokens(), RateLimit: -1,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}})
	ck := login(t, nil, ts.URL, analystTok)
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure || ck.Path != "/" || ck.MaxAge <= 0 {
		t.Errorf("cookie attributes %+v: want HttpOnly, SameSite=Strict, not Secure over plain HTTP", ck)
	}
	if strings.Contains(ck.Value, analystTok) {
		t.Error("the cookie carries the token")
	}
	// Behind a TLS-terminating trusted proxy the cookie is Secure.
	if ck2 := login(t, nil, ts.URL, analystTok, "X-Forwarded-Proto", "https"); !ck2.Secure {
		t.Error("cookie not Secure behind a trusted proxy that says https")
	}
	cookie := []string{"Cookie", sessionCookie + "=" + ck.Value}
	if res := send(t, nil, ts.URL, reqSpec{path: "/api/clusters", hdr: cookie}); res.StatusCode != 200 {
		t.Fatalf("with the session: %d", res.StatusCode)
	}
	if res := send(t, nil, ts.URL, reqSpec{path: "/", hdr: cookie}); res.StatusCode != 200 || !strings.Contains(bodyOf(res), `action="/logout"`) {
		t.Errorf("the page does not offer to sign out: %d", res.StatusCode)
	}
	// The session keeps the analyst role.
	if res := send(t, nil, ts.URL, reqSpec{method: "PUT", path: "/api/subscriptions/x", body: subBody, hdr: cookie}); res.StatusCode != 403 {
		t.Errorf("analyst session PUT = %d", res.StatusCode)
	}
	// Tampered: the role changed in the payload.
	payload, sig, _ := strings.Cut(ck.Value, ".")
	claims, _ := base64.RawURLEncoding.DecodeString(payload)
	forged := base64.RawURLEncoding.EncodeToString(bytes.Replace(claims, []byte(`"analyst"`), []byte(`"admin"`), 1)) + "." + sig
	if forged == ck.Value {
		t.Fatal("forging failed")
	}
	for name, v := range map[string]string{"tampered": forged, "garbage": "x.y", "no signature": payload, "empty": ""} {
		res := send(t, nil, ts.URL, reqSpec{path: "/api/clusters", hdr: []string{"Cookie", sessionCookie + "=" + v}})
		if res.StatusCode != 401 {
			t.Errorf("%s cookie: %d", name, res.StatusCode)
		}
	}
	// Expired: the same claims, signed with the right key, a minute old.
	var c sessionClaims
	if err := json.Unmarshal(claims, &c); err != nil || c.Name != "ana" || c.Role != "analyst" {
		t.Fatalf("claims %s: %v", claims, err)
	}
	c.Expires = time.Now().Add(-time.Minute).Unix()
	claims, _ = json.Marshal(c)
	mac := hmac.New(sha256.New, acc.sessionKey)
	mac.Write(claims)
	expired := base64.RawURLEncoding.EncodeToString(claims) + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	if res := send(t, nil, ts.URL, reqSpec{path: "/api/clusters", hdr: []string{"Cookie", sessionCookie + "=" + expired}}); res.StatusCode != 401 {
		t.Errorf("expired session: %d", res.StatusCode)
	}
	// Wrong token at sign-in; open redirects refused.
	res := send(t, nil, ts.URL, reqSpec{method: "POST", path: "/login", body: "token=wrong-token-0123456789", hdr: []string{"Content-Type", "application/x-www-form-urlencoded"}})
	if res.StatusCode != 401 || len(res.Cookies()) != 0 {
		t.Errorf("wrong token sign-in = %d, cookies %v", res.StatusCode, res.Cookies())
	}
	for _, next := range []string{"//evil.example/", `/\evil.example`, "https://evil.example/", "javascript:alert(1)"} {
		res := send(t, nil, ts.URL, reqSpec{method: "POST", path: "/login", body: url.Values{"token": {adminTok}, "next": {next}}.Encode(),
			hdr: []string{"Content-Type", "application/x-www-form-urlencoded"}})
		if loc := res.Header.Get("Location"); res.StatusCode != 303 || loc != "/" {
			t.Errorf("next=%q: %d Location %q; want /", next, res.StatusCode, loc)
		}
	}
	// Sign-out clears the cookie.
	res = send(t, nil, ts.URL, reqSpec{method: "POST", path: "/logout", hdr: cookie})
	if res.StatusCode != 303 || len(res.Cookies()) != 1 || res.Cookies()[0].MaxAge >= 0 {
		t.Errorf("logout = %d %v", res.StatusCode, res.Cookies())
	}
}

func TestSessionCookieSecureOverTLS(t *testing.T) {
	ts, _ := accessServer(t, AccessOptions{Tokens: testTokens(), RateLimit: -1}, true)
	if ck := login(t, ts.Client(), ts.URL, adminTok); !ck.Secure {
		t.Errorf("cookie over TLS not Secure: %+v", ck)
	}
}

// TestSessionEndsWithItsToken: a session made from a token stops working
// once the token is gone from the configuration (here: a new Access with
// the same key and without the token).
func TestSessionEndsWithItsToken(t *testing.T) {
	key := bytes.Repeat([]byte("k"), 32)
	a1, err := NewAccess(AccessOptions{Tokens: testTokens(), SessionKey: key})
	if err != nil {
		t.Fatal(err)
	}
	id, ok := a1.lookupToken(analystTok)
	if !ok {
		t.Fatal("token not found")
	}
	v, _ := a1.signSession(id)
	if _, ok := a1.verifySession(v); !ok {
		t.Fatal("fresh session refused")
	}
	a2, err := NewAccess(AccessOptions{Tokens: testTokens()[1:], SessionKey: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := a2.verifySession(v); ok {
		t.Error("session of a removed token accepted")
	}
	a3, err := NewAccess(AccessOptions{Tokens: testTokens()}) // another key
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := a3.verifySession(v); ok {
		t.Error("session signed with another key accepted")
	}
}

func TestCSRF(t *testing.T) {
	ts, _ := accessServer(t, AccessOptions{Tokens: testTokens(), RateLimit: -1})
	ck := login(t, nil, ts.URL, adminTok)
	cookie := []string{"Cookie", sessionCookie + "=" + ck.Value}
	put := func(hdr ...string) *http.Response {
		return send(t, nil, ts.URL, reqSpec{method: "PUT", path: "/api/subscriptions/team", body: subBody, hdr: append(append([]string{}, cookie...), hdr...)})
	}
	tests := []struct {
		name string
		hdr  []string
		code int
	}{
		{"cross-site fetch", []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"same-site other origin", []string{"Sec-Fetch-Site", "same-site"}, 403},
		{"foreign Origin", []string{"Origin", "https://evil.example"}, 403},
		{"same origin", []string{"Sec-Fetch-Site", "same-origin"}, 200},
		{"own Origin", []string{"Origin", ts.URL}, 200},
	}
	for _, tt := range tests {
		if res := put(tt.hdr...); res.StatusCode != tt.code {
			t.Errorf("%s: PUT with session = %d %s; want %d", tt.name, res.StatusCode, bodyOf(res), tt.code)
		}
	}
	// A cross-site form posting to /login or /logout is refused too.
	for _, p := range []string{"/login", "/logout"} {
		res := send(t, nil, ts.URL, reqSpec{method: "POST", path: p, body: "token=" + adminTok,
			hdr: []string{"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "cross-site"}})
		if res.StatusCode != 403 {
			t.Errorf("cross-site POST %s = %d", p, res.StatusCode)
		}
	}
	// A bearer token is never sent by a browser on its own: no check.
	res := send(t, nil, ts.URL, reqSpec{method: "PUT", path: "/api/subscriptions/team2", body: subBody, hdr: append(bearer(adminTok), "Sec-Fetch-Site", "cross-site")})
	if res.StatusCode != 200 {
		t.Errorf("bearer PUT with Sec-Fetch-Site cross-site = %d", res.StatusCode)
	}
}

func TestCORS(t *testing.T) {
	const allowed = "https://dash.example.org"
	ts, _ := accessServer(t, AccessOptions{Tokens: testTokens(), RateLimit: -1, CORSOrigins: []string{allowed}})
	preflight := func(origin string) *http.Response {
		return send(t, nil, ts.URL, reqSpec{method: "OPTIONS", path: "/api/subscriptions/x",
			hdr: []string{"Origin", origin, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "authorization,content-type"}})
	}
	res := preflight(allowed)
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != allowed ||
		!strings.Contains(res.Header.Get("Access-Control-Allow-Methods"), "PUT") ||
		!strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "Authorization") || res.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("allowed preflight = %d %v", res.StatusCode, res.Header)
	}
	res = preflight("https://evil.example")
	if res.StatusCode != 403 || res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign preflight = %d %v", res.StatusCode, res.Header)
	}
	res = send(t, nil, ts.URL, reqSpec{path: "/api/clusters", hdr: append(bearer(analystTok), "Origin", allowed)})
	if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != allowed {
		t.Errorf("allowed GET = %d ACAO %q", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}
	// The allowed origin's script may change things with an admin token.
	res = send(t, nil, ts.URL, reqSpec{method: "PUT", path: "/api/subscriptions/x", body: subBody, hdr: append(bearer(adminTok), "Origin", allowed, "Sec-Fetch-Site", "cross-site")})
	if res.StatusCode != 200 {
		t.Errorf("allowed cross-origin PUT = %d %s", res.StatusCode, bodyOf(res))
	}
	res = send(t, nil, ts.URL, reqSpec{path: "/api/clusters", hdr: append(bearer(analystTok), "Origin", "https://evil.example")})
	if res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign origin got ACAO %q", res.Header.Get("Access-Control-Allow-Origin"))
	}
	// By default no origin is ever allowed.
	def, _ := accessServer(t, AccessOptions{RateLimit: -1})
	for _, rs := range []reqSpec{{path: "/api/clusters", hdr: []string{"Origin", allowed}},
		{method: "OPTIONS", path: "/api/clusters", hdr: []string{"Origin", allowed, "Access-Control-Request-Method", "GET"}}} {
		if res := send(t, nil, def.URL, rs); res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("default %s %s: ACAO %q", rs.method, rs.path, res.Header.Get("Access-Control-Allow-Origin"))
		}
	}
}

func TestRateLimit(t *testing.T) {
	ts, _ := accessServer(t, AccessOptions{Tokens: testTokens(), RateLimit: 0.5, RateBurst: 3})
	for i := range 3 {
		if res := send(t, nil, ts.URL, reqSpec{path: "/api/stats", hdr: bearer(analystTok)}); res.StatusCode != 200 {
			t.Fatalf("request %d = %d", i, res.StatusCode)
		}
	}
	res := send(t, nil, ts.URL, reqSpec{path: "/api/stats", hdr: bearer(analystTok)})
	if res.StatusCode != 429 {
		t.Fatalf("4th request = %d, want 429", res.StatusCode)
	}
	if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 2 {
		t.Errorf("Retry-After = %q", res.Header.Get("Retry-After"))
	}
	if !json.Valid([]byte(bodyOf(res))) {
		t.Errorf("429 body not JSON")
	}
	// Another identity has its own bucket; probes and static files none.
	if res := send(t, nil, ts.URL, reqSpec{path: "/api/stats", hdr: bearer(adminTok)}); res.StatusCode != 200 {
		t.Errorf("other identity = %d", res.StatusCode)
	}
	for i := range 10 {
		for _, p := range []string{"/healthz", "/readyz", "/static/favicon.svg"} {
			if res := send(t, nil, ts.URL, reqSpec{path: p}); res.StatusCode != 200 {
				t.Fatalf("%s #%d = %d", p, i, res.StatusCode)
			}
		}
	}
}

// TestFailedSignInsSlowDown: guessing tokens from one address is stopped
// after ten failures, even with the general rate limit off.
func TestFailedSignInsSlowDown(t *testing.T) {
	ts, _ := accessServer(t, AccessOptions{Tokens: testTokens(), RateLimit: -1})
	for i := range 10 {
		if res := send(t, nil, ts.URL, reqSpec{path: "/api/stats", hdr: bearer("guess-" + strconv.Itoa(i) + "-0123456789")}); res.StatusCode != 401 {
			t.Fatalf("guess %d = %d", i, res.StatusCode)
		}
	}
	res := send(t, nil, ts.URL, reqSpec{path: "/api/stats", hdr: bearer("guess-x-0123456789")})
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("11th guess = %d, want 429 with Retry-After", res.StatusCode)
	}
}

func TestAuditLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit", "audit.jsonl")
	var logBuf safeBuffer
	ts, acc := accessServer(t, AccessOptions{Tokens: testTokens(), RateLimit: -1, AuditFile: path,
		Log: slog.New(slog.NewJSONHandler(&logBuf, nil))})
	type want struct {
		endpoint string
		records  int
		detail   map[string]int
	}
	tests := []struct {
		path string
		tok  string
		want *want // nil: not an export, no line
	}{
		{"/api/clusters", analystTok, &want{"GET /api/clusters", 1, nil}},
		{"/api/clusters/c-0123456789abcdef", analystTok, &want{"GET /api/clusters/{id}", 1, map[string]int{"members": 3, "edges": 2, "posts": 2}}},
		{"/api/clusters/c-0123456789abcdef/graph", analystTok, &want{"GET /api/clusters/{id}/graph", 1, map[string]int{"members": 3, "edges": 2}}},
		{"/api/posts?q=macronleaks&limit=2", analystTok, &want{"GET /api/posts", 2, map[string]int{"total": 3}}},
		{"/api/alerts", analystTok, &want{"GET /api/alerts", 0, nil}},
		{"/api/export/graph?format=graphml&status=all", adminTok, &want{"GET /api/export/graph", 1, nil}},
		{"/api/export/graph?format=csv&part=edges", analystTok, &want{"GET /api/export/graph", 1, nil}},
		{"/api/posts/twitter:1", analystTok, nil},
		{"/api/stats", analystTok, nil},
		{"/api/clusters?min_risk=x", analystTok, nil}, // refused: nothing left
	}
	var wantLines []want
	for _, tt := range tests {
		res := send(t, nil, ts.URL, reqSpec{path: tt.path, hdr: bearer(tt.tok)})
		if res.StatusCode >= 500 {
			t.Fatalf("GET %s = %d", tt.path, res.StatusCode)
		}
		if tt.want != nil {
			wantLines = append(wantLines, *tt.want)
		}
	}
	got := readAudit(t, path)
	if len(got) != len(wantLines) {
		t.Fatalf("%d audit lines, want %d: %+v", len(got), len(wantLines), got)
	}
	for i, w := range wantLines {
		e := got[i]
		if e.Endpoint != w.endpoint || e.Records != w.records || e.Identity == "" || e.Role == "none" || e.Remote == "" || e.Time.IsZero() {
			t.Errorf("line %d = %+v; want endpoint %q, %d records", i, e, w.endpoint, w.records)
		}
		for k, v := range w.detail {
			if e.Detail[k] != v {
				t.Errorf("line %d: detail %s = %d, want %d", i, k, e.Detail[k], v)
			}
		}
	}
	if got[0].Identity != "ana" || got[0].Role != "analyst" || got[0].Via != ViaToken {
		t.Errorf("identity %+v", got[0])
	}
	if got[3].Params["q"] != "macronleaks" || got[3].Params["limit"] != "2" {
		t.Errorf("params %v", got[3].Params)
	}
	if got[5].Identity != "root" || got[5].Role != "admin" || got[5].Params["status"] != "all" || got[5].Detail["nodes"] != 3 || got[5].Detail["edges"] != 2 {
		t.Errorf("graph export line %+v", got[5])
	}
	// The dedicated logger got the same lines, and never a token.
	logs := logBuf.String()
	if n := strings.Count(logs, `"msg":"audit: export"`); n != len(wantLines) {
		t.Errorf("%d audit log records, want %d", n, len(wantLines))
	}
	if strings.Contains(logs, analystTok) || strings.Contains(logs, adminTok) {
		t.Error("a token was logged")
	}
	// Admins read it back; analysts may not.
	res := send(t, nil, ts.URL, reqSpec{path: "/api/audit?limit=3", hdr: bearer(adminTok)})
	var list struct {
		Entries []AuditEntry `json:"entries"`
		Count   int          `json:"count"`
	}
	if err := json.Unmarshal([]byte(bodyOf(res)), &list); err != nil || res.StatusCode != 200 || list.Count != 3 || list.Entries[2].Endpoint != "GET /api/export/graph" {
		t.Errorf("GET /api/audit = %d %+v %v", res.StatusCode, list, err)
	}
	if res := send(t, nil, ts.URL, reqSpec{path: "/api/audit?limit=5000", hdr: bearer(adminTok)}); res.StatusCode != 400 {
		t.Errorf("limit=5000: %d", res.StatusCode)
	}
	// No audit line, no data.
	acc.audit.Close()
	res = send(t, nil, ts.URL, reqSpec{path: "/api/clusters", hdr: bearer(analystTok)})
	if res.StatusCode != 500 || strings.Contains(bodyOf(res), "c-0123456789abcdef") {
		t.Errorf("export with a broken audit log = %d %s", res.StatusCode, bodyOf(res))
	}
}

func readAudit(t *testing.T, path string) []AuditEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []AuditEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("audit file mode %v %v", fi.Mode(), err)
	}
	return out
}

// TestAuditTail reads back the last entries of a file longer than the
// window Tail reads, past a torn last line.
func TestAuditTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	a, err := OpenAudit(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for i := range 50 {
		if err := a.Record(AuditEntry{Identity: "x", Endpoint: "e", Records: i, Params: map[string]string{"pad": strings.Repeat("p", 2000)}}); err != nil {
			t.Fatal(err)
		}
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"identity":"torn`)
	f.Close()
	got, err := a.Tail(3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Records != 48 || got[1].Records != 49 {
		t.Errorf("Tail(3) = %d entries %+v", len(got), got)
	}
}

// TestOpenLoopbackMode: with nothing configured (make run), every page
// and read answers as before, changes need alerts.api_token.
func TestOpenLoopbackMode(t *testing.T) {
	ts, _ := accessServer(t, AccessOptions{})
	for _, p := range []string{"/", "/api/clusters", "/posts?q=macronleaks", "/api/export/graph"} {
		if res := send(t, nil, ts.URL, reqSpec{path: p}); res.StatusCode != 200 {
			t.Errorf("GET %s = %d", p, res.StatusCode)
		}
	}
	if res := send(t, nil, ts.URL, reqSpec{method: "PUT", path: "/api/subscriptions/x", body: subBody}); res.StatusCode != 403 {
		t.Errorf("anonymous PUT = %d", res.StatusCode)
	}
	if res := send(t, nil, ts.URL, reqSpec{path: "/api/audit"}); res.StatusCode != 403 {
		t.Errorf("anonymous audit = %d", res.StatusCode)
	}
}

func TestAccessFromConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tokFile := write("tok", "file-token-0123456789\n")
	tokens := write("tokens", "# name role token\nalice analyst alice-token-0123456789\n\nbob admin bob-token-0123456789ab\n")
	key := write("key", strings.Repeat("s", 40)+"\n")
	t.Setenv("VIGIE_TEST_TOKEN", "env-token-0123456789")
	base := func() config.HTTP {
		c := config.Default().HTTP
		c.AuditFile = filepath.Join(dir, "audit.jsonl")
		return c
	}
	good := base()
	good.Auth.Tokens = []config.HTTPToken{
		{Name: "cfg", Role: "analyst", Token: "config-token-0123456789"},
		{Name: "file", Role: "admin", TokenFile: tokFile},
		{Name: "env", Role: "analyst", TokenEnv: "VIGIE_TEST_TOKEN"},
	}
	good.Auth.TokensFile = tokens
	good.Auth.SessionKeyFile = key
	good.Auth.TrustedProxies = []string{"10.0.0.1", "192.0.2.0/24"}
	a, err := AccessFromConfig(good, "legacy", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for tok, want := range map[string]string{"config-token-0123456789": "cfg/analyst", "file-token-0123456789": "file/admin",
		"env-token-0123456789": "env/analyst", "alice-token-0123456789": "alice/analyst", "bob-token-0123456789ab": "bob/admin",
		"legacy": legacyTokenName + "/admin"} {
		id, ok := a.lookupToken(tok)
		if !ok || id.Name+"/"+id.Role.String() != want {
			t.Errorf("token of %s: %+v %v", want, id, ok)
		}
	}
	if !a.Required() || len(a.proxies) != 2 || !a.trusted(netip.MustParseAddr("10.0.0.1")) || a.trusted(netip.MustParseAddr("10.0.0.2")) {
		t.Errorf("required %v proxies %v", a.Required(), a.proxies)
	}
	// Only the hashes are kept.
	for _, te := range a.tokens {
		if strings.Contains(string(te.hash[:]), "token") {
			t.Error("plain token kept")
		}
	}
	// Legacy token alone keeps reads open.
	legacy, err := AccessFromConfig(base(), "legacy", nil)
	if err != nil || legacy.Required() {
		t.Errorf("alerts.api_token alone: required %v, %v", legacy.Required(), err)
	}
	legacy.Close()
	bad := []struct {
		name string
		edit func(*config.HTTP)
		want string
	}{
		{"missing file", func(c *config.HTTP) {
			c.Auth.Tokens = []config.HTTPToken{{Name: "f", Role: "admin", TokenFile: filepath.Join(dir, "nope")}}
		}, "http.auth.tokens[0].token_file"},
		{"short file token", func(c *config.HTTP) {
			c.Auth.Tokens = []config.HTTPToken{{Name: "f", Role: "admin", TokenFile: write("short", "abc\n")}}
		}, "at least 16"},
		{"unset env", func(c *config.HTTP) {
			c.Auth.Tokens = []config.HTTPToken{{Name: "e", Role: "admin", TokenEnv: "VIGIE_TEST_UNSET_TOKEN"}}
		}, "VIGIE_TEST_UNSET_TOKEN"},
		{"bad tokens file line", func(c *config.HTTP) { c.Auth.TokensFile = write("bad", "alice analyst\n") }, "bad:1"},
		{"bad role in tokens file", func(c *config.HTTP) { c.Auth.TokensFile = write("bad2", "alice root alice-token-0123456789\n") }, "bad2:1"},
		{"duplicate name", func(c *config.HTTP) {
			c.Auth.Tokens = []config.HTTPToken{{Name: "alice", Role: "admin", Token: "x-token-0123456789ab"}}
			c.Auth.TokensFile = tokens
		}, "used twice"},
		{"short session key", func(c *config.HTTP) { c.Auth.SessionKeyFile = write("k2", "short") }, "32 bytes"},
		{"one value, two names", func(c *config.HTTP) {
			c.Auth.Tokens = []config.HTTPToken{{Name: "x", Role: "admin", Token: "alice-token-0123456789"}}
			c.Auth.TokensFile = tokens
		}, "same value"},
		{"audit dir is a file", func(c *config.HTTP) { c.AuditFile = filepath.Join(tokFile, "audit.jsonl") }, "audit log"},
	}
	for _, tt := range bad {
		c := base()
		tt.edit(&c)
		a, err := AccessFromConfig(c, "", nil)
		if err == nil {
			a.Close()
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v; want %q", tt.name, err, tt.want)
		}
		for _, secret := range []string{"alice-token-0123456789", "x-token-0123456789ab"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: the error quotes a token: %v", tt.name, err)
			}
		}
	}
}

func TestClientIP(t *testing.T) {
	a, err := NewAccess(AccessOptions{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ remote, xff, want string }{
		{"192.0.2.7:1234", "203.0.113.9", "192.0.2.7"},            // untrusted peer: its header is ignored
		{"10.0.0.2:1234", "203.0.113.9", "203.0.113.9"},           // trusted proxy
		{"10.0.0.2:1234", "1.2.3.4, 203.0.113.9", "203.0.113.9"},  // the left part is the client's own claim
		{"10.0.0.2:1234", "203.0.113.9, 10.0.0.3", "203.0.113.9"}, // two trusted hops
		{"10.0.0.2:1234", "garbage", "10.0.0.2"},
		{"10.0.0.2:1234", "", "10.0.0.2"},
		{"[::ffff:10.0.0.2]:1", "203.0.113.9", "203.0.113.9"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := a.clientIP(r).String(); got != tt.want {
			t.Errorf("%s via %q = %s, want %s", tt.remote, tt.xff, got, tt.want)
		}
	}
}

func TestSecurityHeadersEverywhere(t *testing.T) {
	ts, _ := accessServer(t, AccessOptions{Tokens: testTokens(), RateLimit: 1, RateBurst: 1})
	for _, rs := range []reqSpec{{path: "/"}, {path: "/api/clusters"}, {path: "/login"}, {path: "/healthz"}, {path: "/static/favicon.svg"},
		{path: "/api/clusters", hdr: bearer(analystTok)}, {path: "/api/clusters", hdr: bearer(analystTok)}, // the second is 429
		{path: "/nowhere", hdr: bearer(adminTok)}} {
		res := send(t, nil, ts.URL, rs)
		h := res.Header
		if h.Get("Content-Security-Policy") != CSP || !strings.Contains(CSP, "frame-ancestors 'none'") || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s (%d): headers %v", rs.path, res.StatusCode, h)
		}
		if strings.HasPrefix(rs.path, "/api/") && h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", rs.path, h.Get("Cache-Control"))
		}
	}
}

// safeBuffer is a bytes.Buffer safe for the server's goroutines.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// BenchmarkAuditRecord: one durable (fsynced) audit line, the price every
// export pays before it is sent.
func BenchmarkAuditRecord(b *testing.B) {
	a, err := OpenAudit(filepath.Join(b.TempDir(), "audit.jsonl"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	e := AuditEntry{Identity: "ana", Role: "analyst", Via: ViaToken, Remote: "203.0.113.9", Method: "GET", Endpoint: "GET /api/posts",
		Path: "/api/posts", Params: map[string]string{"q": "macronleaks", "limit": "50"}, Records: 50}
	for b.Loop() {
		if err := a.Record(e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAccessCheck: what the access layer adds to a request that
// authenticates with a bearer token (hash, constant-time lookup among 100
// tokens, rate limit, role check), on a handler that does nothing.
func BenchmarkAccessCheck(b *testing.B) {
	var tokens []Token
	for i := range 100 {
		tokens = append(tokens, Token{Name: "t" + strconv.Itoa(i), Role: RoleAnalyst, Value: "token-" + strconv.Itoa(i) + "-0123456789"})
	}
	a, err := NewAccess(AccessOptions{Tokens: tokens, RateLimit: 1e9, RateBurst: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	h := a.wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest("GET", "/api/clusters", nil)
	req.Header.Set("Authorization", "Bearer token-99-0123456789")
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
