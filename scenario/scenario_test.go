package scenario

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

var update = flag.Bool("update", false, "rewrite golden files")

// bundledDir holds the compact scenario that `make run` and the
// end-to-end test replay.
const bundledDir = "../testdata/scenario"

// tinyConfig is small enough to read whole in a diff: an hour of the
// #MacronLeaks evening with a handful of users and two small networks.
func tinyConfig() Config {
	at := time.Date(2017, 5, 5, 18, 50, 0, 0, time.UTC)
	return Config{
		Seed: 7, Start: at, Duration: time.Hour, SnapshotEvery: 24 * time.Hour,
		OrganicUsers: 25, PostsPerDay: 4, CascadesPerDay: 24, CascadeSize: 6,
		Networks: []NetworkSpec{
			{Name: "tiny-ring", Tactic: RepostRing, Size: 4, Target: "lepen", Stance: StanceFavour, Bursts: 3, Leaders: 1},
			{Name: "tiny-leaks", Tactic: HashtagPush, Size: 3, Target: "macron", Stance: StanceSmear, Bursts: 3, Leaders: 1,
				Start: at.Add(10 * time.Minute), Hashtag: "MacronLeaks"},
		},
	}
}

func render(t *testing.T, cfg Config) ([]byte, []byte) {
	t.Helper()
	var buf bytes.Buffer
	truth, err := WriteJSONL(context.Background(), cfg, &buf)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := encodeTruth(truth)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), tb
}

// checkFile compares got with the file at path, or rewrites the file
// under -update.
func checkFile(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./scenario -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
		for i := range min(len(gl), len(wl)) {
			if !bytes.Equal(gl[i], wl[i]) {
				t.Fatalf("%s differs from the generator at line %d (run go test ./scenario -update if the change is intended):\ngot  %s\nwant %s", path, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s differs from the generator: %d lines, want %d (run go test ./scenario -update if the change is intended)", path, len(gl), len(wl))
	}
}

func TestGolden(t *testing.T) {
	posts, truth := render(t, tinyConfig())
	checkFile(t, "testdata/tiny.golden.jsonl", posts)
	checkFile(t, "testdata/tiny.golden.truth.json", truth)
}

// TestBundledUpToDate regenerates the bundled scenario and compares it
// with the committed copy, so the copy cannot drift from the generator.
func TestBundledUpToDate(t *testing.T) {
	posts, truth := render(t, Compact())
	checkFile(t, filepath.Join(bundledDir, "posts.jsonl"), posts)
	checkFile(t, filepath.Join(bundledDir, "truth.json"), truth)
	if len(posts) > 10<<20 {
		t.Errorf("bundled posts.jsonl is %d bytes, over the 10 MB budget", len(posts))
	}
}

func TestDeterministic(t *testing.T) {
	cfg := Compact()
	cfg.OrganicUsers = 300
	a, at := render(t, cfg)
	b, bt := render(t, cfg)
	if !bytes.Equal(a, b) || !bytes.Equal(at, bt) {
		t.Fatal("two generations of the same config differ")
	}
	cfg.Seed++
	c, _ := render(t, cfg)
	if bytes.Equal(a, c) {
		t.Fatal("a different seed gives the same scenario")
	}
}

// TestStream checks the invariants consumers rely on, on the bundled
// scenario: valid posts in time order, tweet-like IDs growing with time,
// references to earlier posts, snapshots, and the race's chronology.
func TestStream(t *testing.T) {
	posts, truth := collect(t, Compact())
	if truth.Posts != len(posts) {
		t.Errorf("truth says %d posts, stream has %d", truth.Posts, len(posts))
	}
	seen := map[string]*post.Post{}
	authors := map[string]bool{}
	handles := map[string]string{}
	var prevID uint64
	var prevTime time.Time
	candidatePosts := map[string]bool{}
	for _, c := range candidates {
		candidatePosts[c.handle] = true
		candidatePosts[c.partyHandle] = true
	}
	var kinds [4]int
	for i, p := range posts {
		if err := p.Validate(); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
		if p.Platform != post.PlatformTwitter || p.Schema != post.SchemaVersion {
			t.Fatalf("post %s: platform %q schema %d", p.ID, p.Platform, p.Schema)
		}
		id, err := strconv.ParseUint(p.ID, 10, 64)
		if err != nil || id <= prevID {
			t.Fatalf("post %d: ID %s not numeric or not above the previous %d", i, p.ID, prevID)
		}
		if ms := int64(id>>22) + twitterEpoch; p.Time.UnixMilli()/1000 != ms/1000 {
			t.Fatalf("post %s: ID encodes %d ms, time is %v", p.ID, ms, p.Time)
		}
		if p.Time.Before(prevTime) || p.Time.Before(truth.Start) || !p.Time.Before(truth.End) {
			t.Fatalf("post %s at %v: out of order or outside %v-%v", p.ID, p.Time, truth.Start, truth.End)
		}
		prevID, prevTime = id, p.Time
		if _, err := strconv.ParseUint(p.Author, 10, 64); err != nil {
			t.Fatalf("post %s: author %q not numeric", p.ID, p.Author)
		}
		if !authors[p.Author] && p.Account == nil {
			t.Fatalf("post %s: the author's first post has no account snapshot", p.ID)
		}
		authors[p.Author] = true
		if a := p.Account; a != nil {
			if a.ID != p.Author || a.Handle == "" || !a.ObservedAt.Equal(p.Time) || !a.CreatedAt.Before(p.Time) {
				t.Fatalf("post %s: bad snapshot %+v", p.ID, a)
			}
			if h, ok := handles[p.Author]; ok && h != a.Handle {
				t.Fatalf("author %s changed handle %s -> %s", p.Author, h, a.Handle)
			}
			handles[p.Author] = a.Handle
		}
		n := 0
		for k, ref := range []string{p.RepostOf, p.ReplyTo, p.QuoteOf} {
			if ref == "" {
				continue
			}
			n++
			kinds[k+1]++
			orig, ok := seen[ref]
			if !ok {
				t.Fatalf("post %s refers to %s, not an earlier post", p.ID, ref)
			}
			if orig.RepostOf != "" {
				t.Fatalf("post %s refers to a repost", p.ID)
			}
			if k == 0 {
				if h := handles[orig.Author]; !strings.HasPrefix(p.Text, "RT @"+h+":") || len(p.URLs) != 0 {
					t.Fatalf("repost %s of @%s: text %q, urls %v", p.ID, h, p.Text, p.URLs)
				}
				if orig.Author == p.Author {
					t.Fatalf("post %s reposts its own author", p.ID)
				}
			}
		}
		if n == 0 {
			kinds[0]++
		}
		if n > 1 {
			t.Fatalf("post %s has %d references", p.ID, n)
		}
		seen[p.ID] = p
		for _, h := range p.Hashtags {
			if strings.EqualFold(h, "MacronLeaks") && p.Time.Before(leaksDump) {
				t.Fatalf("post %s uses #MacronLeaks at %v, before the dump", p.ID, p.Time)
			}
		}
		if p.Account != nil && candidatePosts[p.Account.Handle] && !p.Time.Before(reserveStart) {
			t.Fatalf("candidate account @%s posts at %v, during the electoral silence", p.Account.Handle, p.Time)
		}
		if len([]rune(p.Text)) > 140+len("RT @xxxxxxxxxxxxxxx: ") {
			t.Fatalf("post %s: %d characters", p.ID, len([]rune(p.Text)))
		}
	}
	if truth.Accounts != len(authors) {
		t.Errorf("truth says %d accounts, stream has %d authors", truth.Accounts, len(authors))
	}
	t.Logf("%d originals, %d reposts, %d replies, %d quotes, %d authors", kinds[0], kinds[1], kinds[2], kinds[3], len(authors))
	if kinds[1] < len(posts)/3 || kinds[2] == 0 || kinds[3] == 0 {
		t.Errorf("unrealistic mix of post kinds: %v", kinds)
	}
	for _, n := range truth.Networks {
		if len(n.Members) < 15 || n.Posts == 0 || n.End.Before(n.Start) {
			t.Errorf("network %s: %d members, %d posts, %v-%v", n.Name, len(n.Members), n.Posts, n.Start, n.End)
		}
		for _, m := range append(append([]string{}, n.Members...), n.Leaders...) {
			if !authors[strings.TrimPrefix(m, "twitter:")] {
				t.Errorf("network %s: account %s never posts", n.Name, m)
			}
		}
	}
	for _, c := range truth.Cascades {
		if seen[strings.TrimPrefix(c, "twitter:")] == nil {
			t.Errorf("cascade %s is not in the stream", c)
		}
	}
}

func TestWriteFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	truth, err := WriteFiles(context.Background(), tinyConfig(), dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "posts.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		if _, err := post.DecodePost("line "+strconv.Itoa(n), sc.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	if n != truth.Posts {
		t.Errorf("%d lines, truth says %d posts", n, truth.Posts)
	}
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Truth
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Posts != truth.Posts || len(back.Networks) != 2 || len(back.Networks[0].Members) != 4 {
		t.Errorf("truth.json round trip: %+v", back)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.tmp-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestWriteFilesCancelled(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := WriteFiles(ctx, Compact(), dir); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("cancelled run left %v", entries)
	}
}

func TestGenerateStopsOnError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	_, err := Generate(tinyConfig(), func(*post.Post) error {
		if n++; n == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 10 {
		t.Fatalf("err = %v after %d posts, want stop after 10", err, n)
	}
}

func TestConfigErrors(t *testing.T) {
	ok := NetworkSpec{Name: "n", Tactic: LinkPush, Size: 5, Target: "macron", Stance: StanceFavour}
	with := func(f func(*NetworkSpec)) Config {
		n := ok
		f(&n)
		return Config{Networks: []NetworkSpec{n}}
	}
	for name, cfg := range map[string]Config{
		"duration":      {Duration: time.Minute},
		"users":         {OrganicUsers: -1},
		"shares":        {RetweetShare: 0.7, ReplyShare: 0.4},
		"link share":    {LinkShare: 2},
		"snapshot":      {SnapshotEvery: -time.Hour},
		"no name":       with(func(n *NetworkSpec) { n.Name = "" }),
		"tactic":        with(func(n *NetworkSpec) { n.Tactic = "astroturf" }),
		"size":          with(func(n *NetworkSpec) { n.Size = 2 }),
		"target":        with(func(n *NetworkSpec) { n.Target = "bayrou" }),
		"stance":        with(func(n *NetworkSpec) { n.Stance = "neutral" }),
		"lang":          with(func(n *NetworkSpec) { n.Lang = "de" }),
		"window":        with(func(n *NetworkSpec) { n.Start = time.Date(2017, 6, 1, 0, 0, 0, 0, time.UTC) }),
		"participation": with(func(n *NetworkSpec) { n.Participation = 1.5 }),
		"lag":           with(func(n *NetworkSpec) { n.MaxLag = time.Second }),
		"duplicate":     {Networks: []NetworkSpec{ok, ok}},
	} {
		if _, err := Generate(cfg, func(*post.Post) error { return nil }); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if c := Default(); c.OrganicUsers != 3000 || len(c.Networks) != 7 || c.Networks[1].MaxLag == 0 {
		t.Errorf("Default() not filled in: %+v", c)
	}
}

// BenchmarkGenerate measures the default scenario, which should stay
// within a few seconds so tests and `vigie gen` stay quick.
func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		n := 0
		if _, err := Generate(Config{}, func(*post.Post) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n), "posts/op")
	}
}
