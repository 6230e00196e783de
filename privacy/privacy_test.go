package privacy

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var (
	keyA = []byte("0123456789abcdef-key-A")
	keyB = []byte("0123456789abcdef-key-B")
)

func mustNew(t testing.TB, key []byte) *Pseudonymizer {
	t.Helper()
	p, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var pseudonymRE = regexp.MustCompile(`^acct_[a-z2-7]{16}$`)

func TestNewRefusesShortKeys(t *testing.T) {
	for _, key := range [][]byte{nil, {}, []byte("short"), []byte("fifteen-bytes!!")} {
		if _, err := New(key); err == nil {
			t.Errorf("New(%d-byte key): no error", len(key))
		}
	}
	if _, err := New([]byte("sixteen-bytes!!!")); err != nil {
		t.Errorf("New(16-byte key): %v", err)
	}
}

func TestHandle(t *testing.T) {
	a, a2, b := mustNew(t, keyA), mustNew(t, keyA), mustNew(t, keyB)
	tests := []struct {
		name     string
		platform string
		x, y     string
		same     bool
	}{
		{"deterministic", "twitter", "alice", "alice", true},
		{"case folded", "twitter", "Alice", "alice", true},
		{"leading @ ignored", "twitter", "@alice", "alice", true},
		{"spaces trimmed", "twitter", " alice ", "alice", true},
		{"different handles", "twitter", "alice", "alicf", false},
		{"prefix is not the handle", "twitter", "alice", "alice2", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x, y := a.Handle(tc.platform, tc.x), a2.Handle(tc.platform, tc.y)
			if !pseudonymRE.MatchString(x) || !pseudonymRE.MatchString(y) {
				t.Fatalf("pseudonyms %q, %q do not look like acct_ + 16 base32 characters", x, y)
			}
			if (x == y) != tc.same {
				t.Errorf("Handle(%q) = %q, Handle(%q) = %q; want same=%v", tc.x, x, tc.y, y, tc.same)
			}
			if strings.Contains(x, strings.ToLower(strings.TrimSpace(strings.TrimPrefix(tc.x, "@")))) {
				t.Errorf("pseudonym %q contains the handle", x)
			}
		})
	}
	t.Run("key separation", func(t *testing.T) {
		for _, h := range []string{"alice", "bob", "EmmanuelMacron", "x"} {
			if a.Handle("twitter", h) == b.Handle("twitter", h) {
				t.Errorf("%s: same pseudonym under two keys", h)
			}
		}
	})
	t.Run("platform separation", func(t *testing.T) {
		if a.Handle("twitter", "alice") == a.Handle("mastodon", "alice") {
			t.Error("alice on twitter and on mastodon got one pseudonym")
		}
	})
	t.Run("empty stays empty", func(t *testing.T) {
		if got := a.Handle("twitter", ""); got != "" {
			t.Errorf("Handle(\"\") = %q", got)
		}
	})
	t.Run("no collisions in 100k handles", func(t *testing.T) {
		seen := map[string]string{}
		for i := range 100_000 {
			h := fmt.Sprintf("user%d", i)
			ps := a.Handle("twitter", h)
			if other, ok := seen[ps]; ok {
				t.Fatalf("%s and %s share %s", h, other, ps)
			}
			seen[ps] = h
		}
	})
}

func TestAccount(t *testing.T) {
	p := mustNew(t, keyA)
	tests := []struct {
		key  string
		want string
	}{
		{"twitter:alice", "twitter:" + p.Handle("twitter", "alice")},
		{"mastodon:alice@example.social", "mastodon:" + p.Handle("mastodon", "alice@example.social")},
		{"alice", p.Handle("", "alice")},
		{"", ""},
	}
	for _, tc := range tests {
		if got := p.Account(tc.key); got != tc.want {
			t.Errorf("Account(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
	// The key's pseudonym and the mention's agree, so a network's members
	// can be matched with the accounts their posts mention.
	if p.Account("twitter:Alice") != "twitter:"+p.Text("twitter", "@alice") {
		t.Error("account key and mention of the same handle differ")
	}
}

func TestText(t *testing.T) {
	p := mustNew(t, keyA)
	h := func(s string) string { return p.Handle("twitter", s) }
	hm := func(s string) string { return p.Handle("mastodon", s) }
	tests := []struct {
		name, platform, in, want string
	}{
		{"no mention", "twitter", "Votez dimanche #Presidentielle2017", "Votez dimanche #Presidentielle2017"},
		{"one mention", "twitter", "RT @alice: lisez ça", "RT " + h("alice") + ": lisez ça"},
		{"case folded", "twitter", "@Alice et @ALICE", h("alice") + " et " + h("alice")},
		{"several", "twitter", "@a @b_1 @c.", h("a") + " " + h("b_1") + " " + h("c") + "."},
		{"e-mail kept", "twitter", "write to press@example.org", "write to press@example.org"},
		{"bare @ kept", "twitter", "rendez-vous @ 18h, @ @", "rendez-vous @ 18h, @ @"},
		{"accents in handles", "twitter", "@élodie!", h("élodie") + "!"},
		{"mastodon full handle", "mastodon", "cc @bob@example.social.", "cc " + hm("bob@example.social") + "."},
		{"mastodon profile link", "mastodon", "see https://example.social/@bob/1 now", "see https://example.social/" + hm("bob@example.social") + "/" + p.postID("mastodon", "1") + " now"},
		{"twitter link in text", "twitter", "(https://twitter.com/bob/status/9)", "(https://twitter.com/" + h("bob") + "/status/" + p.postID("twitter", "9)")},
		{"@ path segment in any link", "twitter", "lire https://example.org/@home?x=1 et @bob", "lire https://example.org/" + hm("home@example.org") + " et " + h("bob")},
		{"mention then @", "twitter", "@bob@ fin", h("bob") + "@ fin"},
		{"invalid UTF-8 repaired", "twitter", "a\xffb @x\xfe", "a\uFFFDb " + h("x") + "\uFFFD"},
		{"invalid UTF-8 without mention untouched", "twitter", "a\xffb", "a\xffb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.Text(tc.platform, tc.in); got != tc.want {
				t.Errorf("Text(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestNilIsOff(t *testing.T) {
	var p *Pseudonymizer
	if p.Enabled() || p.Handle("twitter", "alice") != "alice" || p.Account("twitter:alice") != "twitter:alice" ||
		p.Text("twitter", "@alice") != "@alice" || p.Mentions("twitter", []string{"a"})[0] != "a" {
		t.Error("a nil Pseudonymizer changed its input")
	}
}

func TestKeyNeverPrinted(t *testing.T) {
	p := mustNew(t, keyA)
	for _, s := range []string{fmt.Sprint(p), fmt.Sprintf("%v %+v %#v %s", p, p, p, p)} {
		if strings.Contains(s, string(keyA)) || strings.Contains(s, "0123456789") {
			t.Errorf("printed form %q shows the key", s)
		}
	}
}

func TestParseRetention(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"", 0, false},
		{"0", 0, false},
		{"0d", 0, false},
		{"30d", 30 * 24 * time.Hour, false},
		{"720h", 720 * time.Hour, false},
		{"90m", 90 * time.Minute, false},
		{" 7d ", 7 * 24 * time.Hour, false},
		{"-1d", 0, true},
		{"-5h", 0, true},
		{"thirty days", 0, true},
		{"1.5d", 0, true},
		{"d", 0, true},
		{"99999999d", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseRetention(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseRetention(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

// FuzzText checks that rewriting never crashes, always gives valid UTF-8,
// leaves no mention of a handle in place and is deterministic.
func FuzzText(f *testing.F) {
	for _, s := range []string{"", "@", "@@", "@a@b.c", "x@y", "RT @alice: hi", "\xff@\xfe", "@é@-.", "@a@b..-"} {
		f.Add(s)
	}
	p := mustNew(f, keyA)
	f.Fuzz(func(t *testing.T, s string) {
		out := p.Text("mastodon", s)
		if strings.Contains(s, "@") && !utf8.ValidString(out) {
			t.Fatalf("Text(%q) = %q: invalid UTF-8", s, out)
		}
		if out != p.Text("mastodon", s) {
			t.Fatal("not deterministic")
		}
		if !strings.Contains(s, "@") && out != s {
			t.Fatalf("Text(%q) changed a text without '@' to %q", s, out)
		}
	})
}

func FuzzParseRetention(f *testing.F) {
	for _, s := range []string{"", "0", "30d", "720h", "-1d", "1e9d", "9223372036854775807d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseRetention(s)
		if err == nil && d < 0 {
			t.Fatalf("ParseRetention(%q) = %v: negative", s, d)
		}
	})
}

func BenchmarkText(b *testing.B) {
	p := mustNew(b, keyA)
	s := "RT @alice: Le compte offshore de #Macron, lisez @bob et @carol_2017 avant le silence électoral https://example.org/a"
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		p.Text("twitter", s)
	}
}
