package graph

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vigie-osint/vigie/post"
)

func TestParsePHash(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"c3a1b0f0e8c4d2b1", 0xc3a1b0f0e8c4d2b1, true},
		{"C3A1B0F0E8C4D2B1", 0xc3a1b0f0e8c4d2b1, true},
		{"0000000000000000", 0, true},
		{"ffffffffffffffff", 1<<64 - 1, true},
		{"c3a1b0f0e8c4d2b", 0, false},   // 15 digits
		{"c3a1b0f0e8c4d2b10", 0, false}, // 17
		{"0xc3a1b0f0e8c4d2", 0, false},
		{"c3a1b0f0e8c4d2bg", 0, false},
		{"sha256:c3a1b0f0e8", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		got, ok := parsePHash(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parsePHash(%q) = %x, %v; want %x, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzParsePHash: a parsed hash formats back to the lower-cased input,
// and anything else is refused.
func FuzzParsePHash(f *testing.F) {
	for _, s := range []string{"c3a1b0f0e8c4d2b1", "C3A1B0F0E8C4D2B1", "0x00000000000000", "zz", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, ok := parsePHash(s)
		if ok != (len(s) == 16 && strings.Trim(strings.ToLower(s), "0123456789abcdef") == "") {
			t.Fatalf("parsePHash(%q) ok %v", s, ok)
		}
		if ok && formatPHash(h) != strings.ToLower(s) {
			t.Fatalf("parsePHash(%q) = %x formats as %q", s, h, formatPHash(h))
		}
	})
}

// TestMIHPigeonhole checks the property lookup relies on: two hashes
// within distance d share at least one of their d+1 bucket keys.
func TestMIHPigeonhole(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for d := 0; d <= MaxMediaDistance; d++ {
		for range 300 {
			a := r.Uint64()
			b := a
			for bits.OnesCount64(a^b) < d {
				b ^= 1 << r.IntN(64)
			}
			ka, kb := mihKeys(nil, a, d), mihKeys(nil, b, d)
			if len(ka) != d+1 {
				t.Fatalf("d %d: %d keys", d, len(ka))
			}
			shared := false
			for i := range ka {
				shared = shared || ka[i] == kb[i]
			}
			if !shared {
				t.Fatalf("d %d: %016x and %016x at distance %d share no bucket", d, a, b, bits.OnesCount64(a^b))
			}
		}
	}
}

// mediaPost is an original post by author at t0+sec with one media hash.
func mediaPost(id, author string, sec float64, hash string) *post.Post {
	p := tp(id, author, sec, "")
	p.MediaHashes = []string{hash}
	return p
}

// TestMediaDistance pairs hashes at distance d and not at d+1, for
// several d, with the flipped bits packed in one block or spread one per
// block (the case where only one block is left intact).
func TestMediaDistance(t *testing.T) {
	const base = 0xc3a1b0f0e8c4d2b1
	spread := func(n, d int) uint64 { // n bits, in distinct blocks of d+1
		var m uint64
		for i := range n {
			m |= 1 << (64 * (i % (d + 1)) / (d + 1))
		}
		return m
	}
	packed := func(n int) uint64 { return 1<<n - 1 }
	for _, d := range []int{1, 6, 10, MaxMediaDistance} {
		cfg := Config{Signals: []post.Kind{post.KindMedia}, MediaMaxDistance: d}
		if d == DefaultMediaMaxDistance {
			cfg.MediaMaxDistance = 0 // the default
		}
		for _, tc := range []struct {
			name string
			mask uint64
			pair bool
		}{
			{"packed d", packed(d), true},
			{"spread d", spread(d, d), true},
			{"packed d+1", packed(d + 1), false},
			{"spread d+1", spread(d+1, d), false},
			{"same", 0, true},
		} {
			got := weights(run(t, cfg, []*post.Post{
				mediaPost("1", "a", 0, formatPHash(base)),
				mediaPost("2", "b", 1, strings.ToUpper(formatPHash(base^tc.mask))),
			}))
			if pair := len(got) == 1; pair != tc.pair {
				t.Errorf("d %d, %s (distance %d): paired %v, want %v", d, tc.name, bits.OnesCount64(tc.mask), pair, tc.pair)
			}
		}
	}
	// Negative: exact matching only.
	exact := Config{Signals: []post.Kind{post.KindMedia}, MediaMaxDistance: -1}
	if got := weights(run(t, exact, []*post.Post{mediaPost("1", "a", 0, "c3a1b0f0e8c4d2b1"), mediaPost("2", "b", 1, "c3a1b0f0e8c4d2b0")})); len(got) != 0 {
		t.Errorf("exact mode paired distance 1: %v", got)
	}
	if got := weights(run(t, exact, []*post.Post{mediaPost("1", "a", 0, "c3a1b0f0e8c4d2b1"), mediaPost("2", "b", 1, "C3A1B0F0E8C4D2B1")})); len(got) != 1 {
		t.Errorf("exact mode did not pair equal hashes in two cases: %v", got)
	}
}

// TestMediaExactFallback: hashes that are not 64-bit perceptual hashes
// pair on equality only.
func TestMediaExactFallback(t *testing.T) {
	sha := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	for _, tc := range []struct {
		a, b string
		pair bool
	}{
		{sha, sha, true},
		{sha, sha[:63] + "9", false},
		{"media:12345", "media:12345", true},
		{"media:12345", "media:12344", false},
		{"c3a1b0f0e8c4d2b", "c3a1b0f0e8c4d2b", true}, // 15 digits: a key
		{"c3a1b0f0e8c4d2b", "c3a1b0f0e8c4d2a", false},
	} {
		got := weights(run(t, Config{Signals: []post.Kind{post.KindMedia}}, []*post.Post{mediaPost("1", "a", 0, tc.a), mediaPost("2", "b", 1, tc.b)}))
		if pair := len(got) == 1; pair != tc.pair {
			t.Errorf("%q and %q: paired %v, want %v", tc.a, tc.b, pair, tc.pair)
		}
	}
}

// TestMediaFamilyIsOneObject: 12 accounts attach re-encoded copies of
// one image (each within 3 bits of the original, so within 6 of each
// other): every pair counts one object, named by the first copy's hash.
// Two of them also share an image 20 bits away, another object.
func TestMediaFamilyIsOneObject(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12))
	const orig = 0x9a3c5e7f01b2d4c6
	var posts []*post.Post
	for a := range 12 {
		h := uint64(orig)
		for range r.IntN(4) {
			h ^= 1 << r.IntN(64)
		}
		posts = append(posts, mediaPost(fmt.Sprint(a), fmt.Sprint("acc", a), float64(a), formatPHash(h)))
	}
	other := formatPHash(orig ^ 0xfffff)
	posts = append(posts, mediaPost("x0", "acc0", 20, other), mediaPost("x1", "acc1", 21, other))
	e := run(t, Config{Signals: []post.Kind{post.KindMedia}, MinWeight: 1}, posts)
	edges := e.Edges(1)
	if len(edges) != 12*11/2 {
		t.Fatalf("%d edges, want 66", len(edges))
	}
	for _, ed := range edges {
		want := 1
		if ed.A == "twitter:acc0" && ed.B == "twitter:acc1" {
			want = 2
		}
		if ed.Weight != want || ed.Evidence[0].Key != posts[0].MediaHashes[0] {
			t.Errorf("edge %s-%s: weight %d, object %q; want %d, %q", ed.A, ed.B, ed.Weight, ed.Evidence[0].Key, want, posts[0].MediaHashes[0])
		}
	}
}
