package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

func TestCanonicalURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://www.LeMonde.fr/politique/article/2017/05/05/macron.html", "https://www.lemonde.fr/politique/article/2017/05/05/macron.html"},
		{"HTTPS://example.org:443/a/?utm_source=twitter&utm_medium=social&id=4", "https://example.org/a?id=4"},
		{"http://example.org:80/", "http://example.org"},
		{"http://example.org:8080/x#comments", "http://example.org:8080/x"},
		{"https://example.org/a?b=2&a=1&fbclid=XYZ&gclid=1", "https://example.org/a?a=1&b=2"},
		{"https://user:pw@example.org/a", "https://example.org/a"},
		{"example.org/article", "http://example.org/article"},
		{"  https://example.org/a  ", "https://example.org/a"},
		{"mailto:someone@example.org", "mailto:someone@example.org"},
		{"https://example.org/a?q=%C3%A9t%C3%A9", "https://example.org/a?q=%C3%A9t%C3%A9"},
	}
	for _, tt := range tests {
		got, err := CanonicalURL(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("CanonicalURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"http://", "https://exa mple.org/%zz", "http://[::1"} {
		if got, err := CanonicalURL(bad); err == nil {
			t.Errorf("CanonicalURL(%q) = %q, want an error", bad, got)
		}
	}
}

func TestDomain(t *testing.T) {
	for in, want := range map[string]string{
		"https://www.lemonde.fr/a": "lemonde.fr", "http://example.org:8080/x": "example.org", "nonsense": "",
	} {
		if got := Domain(in); got != want {
			t.Errorf("Domain(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDetectLanguage(t *testing.T) {
	tests := []struct{ text, want string }{
		{"Le débat présidentiel de ce soir a montré deux visions très différentes de la France et de l'Europe.", "fr"},
		{"Tonight's presidential debate showed two very different visions of France and of Europe.", "en"},
		{"Die Bundestagswahl zeigt, dass die Wähler sich eine andere Politik für Deutschland wünschen.", "de"},
		{"court", ""},
	}
	for _, tt := range tests {
		if got := DetectLanguage(tt.text); got != tt.want {
			t.Errorf("DetectLanguage(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestNormaliserDedupeAndURLs(t *testing.T) {
	n := NewNormaliser(2)
	n.DetectLanguage = true
	mk := func(id string) *post.Post {
		return &post.Post{Platform: post.PlatformTwitter, ID: id, Author: "a", Time: time.Date(2017, 5, 5, 0, 0, 0, 0, time.UTC),
			Text:     "Le débat présidentiel de ce soir a montré deux visions très différentes de la France.",
			URLs:     []string{"https://LeMonde.fr/a?utm_source=x", "https://lemonde.fr/a"},
			Hashtags: []string{"#Macron"}}
	}
	p := mk("1")
	if err := n.Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if len(p.URLs) != 1 || p.URLs[0] != "https://lemonde.fr/a" || p.Lang != "fr" || p.Hashtags[0] != "macron" {
		t.Errorf("normalised post = %+v", p)
	}
	if err := n.Apply(context.Background(), mk("1")); !errors.Is(err, ErrDuplicate) {
		t.Errorf("second sight of post 1 = %v, want ErrDuplicate", err)
	}
	// The set is bounded: after enough newer keys an old one is forgotten.
	for _, id := range []string{"2", "3", "4", "5"} {
		if err := n.Apply(context.Background(), mk(id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.Apply(context.Background(), mk("1")); err != nil {
		t.Errorf("post 1 should have been forgotten by a 2-key set: %v", err)
	}
	bad := mk("9")
	bad.URLs = []string{"http://[::1"}
	var fe *post.FieldError
	if err := n.Apply(context.Background(), bad); !errors.As(err, &fe) || fe.Field != "urls[0]" {
		t.Errorf("bad URL = %v, want a FieldError on urls[0]", err)
	}
}

func TestResolver(t *testing.T) {
	var hits atomic.Int64
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/s1": // shortener → shortener → article
			http.Redirect(w, r, srv.URL+"/s2", http.StatusMovedPermanently)
		case "/s2":
			http.Redirect(w, r, "https://www.example.org/article/?utm_campaign=push", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, srv.URL+"/loop", http.StatusFound)
		case "/slow":
			time.Sleep(500 * time.Millisecond)
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	hostname := strings.Split(host, ":")[0]
	r := &Resolver{AllowPrivate: true, Hosts: map[string]bool{hostname: true}, Timeout: 200 * time.Millisecond}
	ctx := context.Background()
	got, err := r.Expand(ctx, srv.URL+"/s1")
	if err != nil || got != "https://www.example.org/article" {
		t.Fatalf("Expand = %q, %v", got, err)
	}
	before := hits.Load()
	if got2, _ := r.Expand(ctx, srv.URL+"/s1"); got2 != got || hits.Load() != before {
		t.Errorf("second expansion was not served from the cache (%d requests)", hits.Load()-before)
	}
	if _, err := r.Expand(ctx, srv.URL+"/loop"); err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Errorf("redirect loop = %v", err)
	}
	if got, err := r.Expand(ctx, srv.URL+"/slow"); err == nil || got != srv.URL+"/slow" {
		t.Errorf("slow shortener = %q, %v; want a timeout and the link unchanged", got, err)
	}
	if got, _ := r.Expand(ctx, "https://lemonde.fr/a"); got != "https://lemonde.fr/a" {
		t.Errorf("non-shortener link changed: %q", got)
	}
	// Without AllowPrivate a loopback target is refused.
	strict := &Resolver{Hosts: map[string]bool{hostname: true}}
	if _, err := strict.Expand(ctx, srv.URL+"/s1"); err == nil || !strings.Contains(err.Error(), "non-public") {
		t.Errorf("loopback expansion = %v, want a refusal", err)
	}
}

func FuzzCanonicalURL(f *testing.F) {
	for _, s := range []string{"https://www.LeMonde.fr/a/?utm_source=x#f", "example.org/a", "http://[::1]:80/", "ftp://x", "%", "http://a/%2F/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := CanonicalURL(s)
		if err != nil {
			return
		}
		c2, err := CanonicalURL(c)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", c, s, err)
		}
		if u, _ := url.Parse(c); u != nil && (u.Scheme == "http" || u.Scheme == "https") && c2 != c {
			t.Fatalf("not idempotent: %q → %q → %q", s, c, c2)
		}
	})
}

// TestNormaliserEdits: an edit of a Mastodon or Bluesky post (same ID, new
// content) passes as an update, an exact redelivery is dropped, and on a
// platform without edits the first version of a key wins.
func TestNormaliserEdits(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC)
	mk := func(pl post.Platform, text string, followers int64) *post.Post {
		return &post.Post{Platform: pl, ID: "x.social:1", Author: "a", Time: at, Text: text,
			Account: &post.Account{ID: "a", Followers: followers, ObservedAt: at.Add(time.Duration(followers))}}
	}
	tests := []struct {
		name     string
		platform post.Platform
		steps    []struct {
			text      string
			followers int64
			dup       bool
		}
	}{
		{"mastodon", post.PlatformMastodon, []struct {
			text      string
			followers int64
			dup       bool
		}{
			{"first", 1, false},
			{"first", 1, true},   // redelivery: dropped
			{"first", 5, true},   // same content, newer profile snapshot: still a redelivery
			{"edited", 5, false}, // an edit: passes
			{"edited", 5, true},
			{"first", 5, false}, // edited back: content changed again
		}},
		{"bluesky", post.PlatformBluesky, []struct {
			text      string
			followers int64
			dup       bool
		}{{"a", 1, false}, {"b", 1, false}, {"b", 1, true}}},
		{"twitter keeps the first version", post.PlatformTwitter, []struct {
			text      string
			followers int64
			dup       bool
		}{{"a", 1, false}, {"b", 1, true}, {"a", 1, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := NewNormaliser(10)
			for i, s := range tt.steps {
				err := n.Apply(ctx, mk(tt.platform, s.text, s.followers))
				if got := errors.Is(err, ErrDuplicate); got != s.dup || (err != nil && !got) {
					t.Fatalf("step %d (%q): err = %v, want duplicate %v", i, s.text, err, s.dup)
				}
			}
		})
	}
	// Edits survive generation turnover: a key in the previous generation
	// is compared with its remembered content too.
	n := NewNormaliser(1)
	if err := n.Apply(ctx, mk(post.PlatformMastodon, "v1", 1)); err != nil {
		t.Fatal(err)
	}
	other := mk(post.PlatformMastodon, "other", 1)
	other.ID = "x.social:2"
	if err := n.Apply(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := n.Apply(ctx, mk(post.PlatformMastodon, "v1", 1)); !errors.Is(err, ErrDuplicate) {
		t.Errorf("redelivery from the previous generation = %v, want ErrDuplicate", err)
	}
	if err := n.Apply(ctx, mk(post.PlatformMastodon, "v2", 1)); err != nil {
		t.Errorf("edit of a key in the previous generation = %v, want it to pass", err)
	}
}

// TestRecentSetDigests: keys are held as digests; keys that differ in one
// byte, or are prefixes of each other, stay distinct.
func TestRecentSetDigests(t *testing.T) {
	s := newRecentSet(100_000)
	var keys []string
	for i := range 20_000 {
		k := fmt.Sprintf("twitter:%d", i)
		keys = append(keys, k, k+"/", k+"\x00")
	}
	for _, k := range keys {
		if !s.add(k, 0) {
			t.Fatalf("%q reported seen on first sight", k)
		}
	}
	for _, k := range keys {
		if s.add(k, 0) {
			t.Fatalf("%q reported new on second sight", k)
		}
	}
	// A known key with changed content is new again (edits), once.
	if !s.add(keys[0], 42) || s.add(keys[0], 42) {
		t.Error("an edit should pass once")
	}
}
