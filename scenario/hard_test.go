package scenario

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// hardBase is a small background for the tactic tests: a day around the
// debate with a few hundred users, so every test runs in well under a
// second.
func hardBase() Config {
	return Config{
		Seed: 11, Start: time.Date(2017, 5, 3, 0, 0, 0, 0, time.UTC), Duration: 24 * time.Hour,
		OrganicUsers: 300, PostsPerDay: 3, CascadesPerDay: 4, CascadeSize: 40, SnapshotEvery: 24 * time.Hour,
		Networks: []NetworkSpec{},
	}
}

// streamIndex is what the tactic tests look at: posts by key, accounts'
// creation times, and who is in which network.
type streamIndex struct {
	posts   []*post.Post
	byID    map[string]*post.Post
	created map[string]time.Time // account key -> creation time
	first   map[string]time.Time // account key -> time of its first post
}

func index(posts []*post.Post) streamIndex {
	ix := streamIndex{posts: posts, byID: map[string]*post.Post{}, created: map[string]time.Time{}, first: map[string]time.Time{}}
	for _, p := range posts {
		ix.byID[p.ID] = p
		k := string(p.Platform) + ":" + p.Author
		if p.Account != nil {
			if _, ok := ix.created[k]; !ok {
				ix.created[k] = p.Account.CreatedAt
			}
		}
		if _, ok := ix.first[k]; !ok {
			ix.first[k] = p.Time
		}
	}
	return ix
}

func key(p *post.Post) string { return string(p.Platform) + ":" + p.Author }

func TestHardTactics(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2017, 5, 3, h, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		check func(t *testing.T, ix streamIndex, truth Truth)
	}{
		{"reply brigade replies within minutes to the target's own posts", func(c *Config) {
			c.Networks = []NetworkSpec{{Name: "brigade", Tactic: ReplyBrigade, Size: 12, Target: "macron", Stance: StanceSmear, Bursts: 8, Start: at(6)}}
		}, func(t *testing.T, ix streamIndex, truth Truth) {
			n := truth.Networks[0]
			member := set(n.Members)
			perSeed := map[string][]time.Duration{}
			for _, p := range ix.posts {
				if !member[key(p)] || p.ReplyTo == "" {
					continue
				}
				seed := ix.byID[p.ReplyTo]
				if seed == nil {
					t.Fatalf("reply %s to a post not in the stream", p.ID)
				}
				// Replies of the brigade's bursts (camouflage replies go to anyone).
				if seed.Author == "" || !slices.Contains(p.Hashtags, "StopMacron") {
					continue
				}
				if h := seed.Account; h != nil && h.Handle != "EmmanuelMacron" && h.Handle != "enmarchefr" {
					t.Errorf("brigade reply %s answers @%s, not the target", p.ID, h.Handle)
				}
				perSeed[seed.ID] = append(perSeed[seed.ID], p.Time.Sub(seed.Time))
			}
			if len(perSeed) < 5 {
				t.Fatalf("brigade hit %d posts of the target, want at least 5", len(perSeed))
			}
			for id, lags := range perSeed {
				if len(lags) < 3 {
					t.Errorf("post %s: %d brigade replies, want 3 or more", id, len(lags))
				}
				for _, l := range lags {
					if l < 0 || l > 121*time.Second {
						t.Errorf("post %s: reply %v after it, want within MaxLag", id, l)
					}
				}
			}
			if n.Tactic != string(ReplyBrigade) || n.Posts == 0 {
				t.Errorf("truth %+v", n)
			}
		}},
		{"slow push spreads each seed's reposts over half an hour", func(c *Config) {
			c.Networks = []NetworkSpec{{Name: "slow", Tactic: SlowPush, Size: 10, Target: "melenchon", Stance: StanceFavour, Bursts: 12, Leaders: 1}}
		}, func(t *testing.T, ix streamIndex, truth Truth) {
			n := truth.Networks[0]
			member, leader := set(n.Members), set(n.Leaders)
			spread := map[string][2]time.Time{}
			for _, p := range ix.posts {
				if !member[key(p)] || p.RepostOf == "" || !leader[key(ix.byID[p.RepostOf])] {
					continue
				}
				s, ok := spread[p.RepostOf]
				if !ok {
					s = [2]time.Time{p.Time, p.Time}
				}
				s[1] = p.Time
				spread[p.RepostOf] = s
			}
			wide := 0
			for _, s := range spread {
				if s[1].Sub(s[0]) > 10*time.Minute {
					wide++
				}
			}
			if len(spread) < 10 || wide < len(spread)*2/3 {
				t.Errorf("%d seeds, %d with reposts spread over more than 10 minutes: want most", len(spread), wide)
			}
			if span := n.End.Sub(n.Start); span < 6*time.Hour {
				t.Errorf("network active %v, want hours", span)
			}
		}},
		{"sleeper accounts come from old batches and post nothing before waking", func(c *Config) {
			c.Networks = []NetworkSpec{{Name: "sleepers", Tactic: RepostRing, Size: 30, Target: "lepen", Stance: StanceFavour, Bursts: 10, Leaders: 2,
				Sleeper: true, Camouflage: 0.01, Start: at(12)}}
		}, func(t *testing.T, ix streamIndex, truth Truth) {
			n := truth.Networks[0]
			if !n.Sleeper {
				t.Error("truth does not mark the network as sleeper")
			}
			var created []time.Time
			for _, m := range n.Members {
				c, ok := ix.created[m]
				if !ok {
					t.Fatalf("member %s has no account snapshot", m)
				}
				if f := ix.first[m]; f.Before(at(12)) {
					t.Errorf("sleeper %s posted at %v, before waking at 12:00", m, f)
				}
				created = append(created, c)
			}
			slices.SortFunc(created, func(a, b time.Time) int { return a.Compare(b) })
			// Accounts of one batch are minutes apart; batches are months
			// apart. Count the gaps of more than a day.
			batches := 1
			for i := 1; i < len(created); i++ {
				if created[i].Sub(created[i-1]) > 24*time.Hour {
					batches++
				}
			}
			if old := at(12).AddDate(-1, 0, 0); created[len(created)-1].After(old) {
				t.Errorf("newest sleeper created %v, want a year or more before the operation", created[len(created)-1])
			}
			if max := 1 + 30/15 + 1; batches > max { // +1: the camouflaged member
				t.Errorf("%d creation batches, want at most %d", batches, max)
			}
		}},
		{"news bots are organic and co-share links within seconds", func(c *Config) {
			c.NewsBots = 6
		}, func(t *testing.T, ix streamIndex, truth Truth) {
			if len(truth.NewsBots) != 6 {
				t.Fatalf("truth lists %d news bots, want 6", len(truth.NewsBots))
			}
			bot := set(truth.NewsBots)
			for _, n := range truth.Networks {
				for _, m := range n.Members {
					if bot[m] {
						t.Errorf("news bot %s is a network member", m)
					}
				}
			}
			// Same link from two bots within 60 s: the hard negative.
			last := map[string]map[string]time.Time{}
			close := 0
			for _, p := range ix.posts {
				if !bot[key(p)] {
					continue
				}
				if len(p.URLs) != 1 || p.RepostOf != "" {
					t.Fatalf("news bot post %s: %d links, repost %q", p.ID, len(p.URLs), p.RepostOf)
				}
				u := p.URLs[0]
				for b, tm := range last[u] {
					if b != key(p) && p.Time.Sub(tm) <= time.Minute {
						close++
					}
				}
				if last[u] == nil {
					last[u] = map[string]time.Time{}
				}
				last[u][key(p)] = p.Time
			}
			if close < 30 {
				t.Errorf("%d bot pairs co-shared a link within a minute, want many", close)
			}
		}},
		{"breaking news: many organic users share one link within minutes", func(c *Config) {
			c.BreakingNews = 2
			c.BreakingSize = 60
		}, func(t *testing.T, ix streamIndex, truth Truth) {
			if len(truth.Breaking) != 2 {
				t.Fatalf("truth lists %d breaking stories, want 2", len(truth.Breaking))
			}
			for _, b := range truth.Breaking {
				var n int
				seen := map[string]bool{}
				for _, p := range ix.posts {
					if !slices.Contains(p.URLs, b.URL) && (p.RepostOf == "" || !slices.Contains(ix.byID[p.RepostOf].URLs, b.URL)) {
						continue
					}
					n++
					seen[key(p)] = true
					if d := p.Time.Sub(b.Time); d < 0 || d > 46*time.Minute {
						t.Errorf("%s: post %v after the story broke", b.URL, d)
					}
				}
				if n != b.Posts || n < 30 {
					t.Errorf("%s: %d posts in the stream, truth says %d; want 30 or more", b.URL, n, b.Posts)
				}
				if len(seen) != n {
					t.Errorf("%s: %d posts by %d accounts, want one each", b.URL, n, len(seen))
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := hardBase()
			tc.edit(&cfg)
			posts, truth := collect(t, cfg)
			tc.check(t, index(posts), truth)
		})
	}
}

func set(xs []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// TestHardOrganicOff checks that the hard organic cases are off by
// default and leave a scenario as it was when off: the bundled scenario's
// golden file depends on it, and so do the tests pinned to it.
func TestHardOrganicOff(t *testing.T) {
	_, truth := collect(t, hardBase())
	if len(truth.NewsBots) != 0 || len(truth.Breaking) != 0 {
		t.Errorf("news bots %d, breaking %d: want none by default", len(truth.NewsBots), len(truth.Breaking))
	}
}

func TestPresets(t *testing.T) {
	for _, name := range Presets {
		if _, err := Preset(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Preset("nope"); err == nil {
		t.Error("unknown preset accepted")
	}
	if c, _ := Preset("organic-week"); len(c.Networks) != 0 || c.Duration != 7*24*time.Hour {
		t.Errorf("organic-week: %d networks over %v, want none over a week", len(c.Networks), c.Duration)
	}
	if testing.Short() {
		t.Skip("generating the hard preset twice in -short mode")
	}
	// Same seed, byte-identical output, for the largest preset the
	// benchmarks generate on every run.
	a, at := render(t, Hard())
	b, bt := render(t, Hard())
	if !bytes.Equal(a, b) || !bytes.Equal(at, bt) {
		t.Fatal("the hard preset differs between two generations")
	}
	var truth struct {
		Networks []struct{ Tactic string } `json:"networks"`
		NewsBots []string                  `json:"news_bots"`
		Breaking []struct{ URL string }    `json:"breaking"`
	}
	if err := json.Unmarshal(at, &truth); err != nil {
		t.Fatal(err)
	}
	tactics := map[string]bool{}
	for _, n := range truth.Networks {
		tactics[n.Tactic] = true
	}
	for _, tc := range []Tactic{RepostRing, CopyPaste, LinkPush, HashtagPush, ReplyBrigade, SlowPush} {
		if !tactics[string(tc)] {
			t.Errorf("hard preset lacks tactic %s", tc)
		}
	}
	if len(truth.NewsBots) == 0 || len(truth.Breaking) == 0 {
		t.Errorf("hard preset: %d news bots, %d breaking stories", len(truth.NewsBots), len(truth.Breaking))
	}
}
