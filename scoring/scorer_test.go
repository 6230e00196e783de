package scoring

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/election"
	"github.com/vigie-osint/vigie/post"
)

var t0 = time.Date(2017, 5, 4, 12, 0, 0, 0, time.UTC)

// memberPosts makes n members post in lockstep, k rounds, with a
// smearing hashtag, from young accounts with digit handles.
func memberPosts(r *rand.Rand, n, k int) []post.Post {
	var ps []post.Post
	for round := range k {
		for m := range n {
			at := t0.Add(time.Duration(round)*20*time.Minute + time.Duration(r.IntN(30))*time.Second)
			ps = append(ps, post.Post{Platform: post.PlatformTwitter, ID: fmt.Sprintf("m%d-%d", m, round), Author: fmt.Sprintf("bot%d", m), Time: at,
				Text: "Macron, le candidat de la finance. #StopMacron", Lang: "fr", Hashtags: []string{"StopMacron"},
				Account: &post.Account{Platform: post.PlatformTwitter, ID: fmt.Sprintf("bot%d", m), Handle: fmt.Sprintf("patriote_%08d", 10000000+m),
					CreatedAt: t0.Add(-30*24*time.Hour + time.Duration(m)*5*time.Minute), Followers: 12, Following: 400, Posts: 3000, DefaultProfile: true, ObservedAt: at}})
		}
	}
	return ps
}

// organicPosts are by unrelated, long-standing accounts on other topics.
func organicPosts(r *rand.Rand, n int) []post.Post {
	var ps []post.Post
	for i := range n {
		a := fmt.Sprintf("human%d", r.IntN(200))
		at := t0.Add(time.Duration(r.IntN(int(6 * time.Hour))))
		ps = append(ps, post.Post{Platform: post.PlatformTwitter, ID: fmt.Sprintf("o%d", i), Author: a, Time: at,
			Text: "Belle journée à Lyon, match ce soir #OLOM", Lang: "fr", Hashtags: []string{"OLOM", fmt.Sprintf("tag%d", r.IntN(20))},
			Account: &post.Account{Platform: post.PlatformTwitter, ID: a, Handle: "Claire_" + a, CreatedAt: time.Date(2011, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(1000)) * 24 * time.Hour),
				Followers: 300, Following: 250, Posts: 4000, ObservedAt: at}})
	}
	return ps
}

func clusterOf(r *rand.Rand, n int, edgeShare float64, w int, delta float64) post.Cluster {
	c := post.Cluster{ID: "c-test", Status: post.StatusActive, Platform: post.PlatformTwitter,
		FirstSeen: t0, Detected: t0.Add(6 * time.Hour), Signals: map[post.Kind]int{post.KindRepost: 3 * w}}
	for i := range n {
		c.Members = append(c.Members, fmt.Sprintf("twitter:bot%d", i))
	}
	for i := range n {
		for j := i + 1; j < n; j++ {
			if r.Float64() < edgeShare {
				c.Edges = append(c.Edges, post.Edge{A: c.Members[i], B: c.Members[j], Weight: w + r.IntN(3), MeanDelta: delta * (0.5 + r.Float64())})
			}
		}
	}
	return c
}

func feed(s *Scorer, ps []post.Post) {
	for i := range ps {
		s.Observe(&ps[i])
	}
	s.Detect()
}

// TestMoreCoordinationNeverLowersRisk: strengthening edges, making them
// closer in time, or adding edges at least as strong never lowers risk.
func TestMoreCoordinationNeverLowersRisk(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	el := election.Default()
	for trial := range 200 {
		n := 3 + r.IntN(30)
		ps := memberPosts(r, n, 1+r.IntN(5))
		base := clusterOf(r, n, 0.2+0.8*r.Float64(), 1+r.IntN(8), 5+50*r.Float64())
		more := base
		more.Edges = append([]post.Edge(nil), base.Edges...)
		switch trial % 3 {
		case 0:
			for i := range more.Edges {
				more.Edges[i].Weight += 1 + r.IntN(3)
			}
		case 1:
			for i := range more.Edges {
				more.Edges[i].MeanDelta *= r.Float64()
			}
		default:
			maxW, minD := 0, 60.0
			for _, e := range base.Edges {
				maxW, minD = max(maxW, e.Weight), min(minD, e.MeanDelta)
			}
			have := map[[2]string]bool{}
			for _, e := range base.Edges {
				have[[2]string{e.A, e.B}] = true
			}
			for i := range n {
				for j := i + 1; j < n; j++ {
					if !have[[2]string{base.Members[i], base.Members[j]}] && r.IntN(2) == 0 {
						more.Edges = append(more.Edges, post.Edge{A: base.Members[i], B: base.Members[j], Weight: maxW, MeanDelta: minD})
					}
				}
			}
		}
		sa, sb := NewWith(Config{}, el), NewWith(Config{}, el)
		feed(sa, ps)
		feed(sb, ps)
		sa.ScoreCluster(&base)
		sb.ScoreCluster(&more)
		if more.Scores.Risk < base.Scores.Risk {
			t.Fatalf("trial %d: more coordination lowered risk %.1f -> %.1f\nbase %+v\nmore %+v", trial, base.Scores.Risk, more.Scores.Risk, base.Scores.Factors, more.Scores.Factors)
		}
	}
}

// TestOrganicActivityNeverRaisesRisk: interleaving unrelated organic posts
// (other accounts, other hashtags) into the stream never raises a
// cluster's risk.
func TestOrganicActivityNeverRaisesRisk(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	el := election.Default()
	for trial := range 30 {
		n := 3 + r.IntN(20)
		ps := memberPosts(r, n, 1+r.IntN(6))
		org := organicPosts(r, r.IntN(2000))
		mixed := append(append([]post.Post(nil), ps...), org...)
		r.Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })
		c1 := clusterOf(r, n, 0.5+0.5*r.Float64(), 2+r.IntN(6), 20)
		c2 := c1
		sa, sb := NewWith(Config{}, el), NewWith(Config{}, el)
		feed(sa, ps)
		feed(sb, mixed)
		sa.ScoreCluster(&c1)
		sb.ScoreCluster(&c2)
		if c2.Scores.Risk > c1.Scores.Risk {
			t.Fatalf("trial %d: organic activity raised risk %.1f -> %.1f\n%+v\n%+v", trial, c1.Scores.Risk, c2.Scores.Risk, c1.Scores.Factors, c2.Scores.Factors)
		}
	}
}

// TestSnapshotRestore: a scorer restored from a snapshot scores and
// continues exactly as the original.
func TestSnapshotRestore(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	ps := append(memberPosts(r, 12, 4), organicPosts(r, 500)...)
	half := len(ps) / 2
	a := NewWith(Config{}, election.Default())
	feed(a, ps[:half])
	var buf bytes.Buffer
	if err := a.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	b := NewWith(Config{}, election.Default())
	if err := b.Restore(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	feed(a, ps[half:])
	feed(b, ps[half:])
	c1 := clusterOf(rand.New(rand.NewPCG(7, 8)), 12, 0.8, 4, 10)
	c2 := clusterOf(rand.New(rand.NewPCG(7, 8)), 12, 0.8, 4, 10)
	a.ScoreCluster(&c1)
	b.ScoreCluster(&c2)
	if !reflect.DeepEqual(c1, c2) {
		t.Errorf("restored scorer differs:\n%+v\n%+v", c1, c2)
	}
	if c1.Target != "macron" || c1.TargetStance != Smear {
		t.Errorf("target %s/%s, want macron/smear", c1.Target, c1.TargetStance)
	}
	if c1.BotShare != 1 {
		t.Errorf("bot share %v, want 1 (young default-profile batch accounts with digit handles)", c1.BotShare)
	}
}

func TestRestoreRejectsGarbage(t *testing.T) {
	s := NewWith(Config{}, election.Default())
	for _, b := range [][]byte{nil, []byte("not gob"), {0x10, 0xff, 0x81}} {
		if err := s.Restore(bytes.NewReader(b)); err == nil {
			t.Errorf("Restore(%q) accepted", b)
		}
	}
}

func FuzzRestore(f *testing.F) {
	s := NewWith(Config{}, election.Default())
	feed(s, memberPosts(rand.New(rand.NewPCG(1, 1)), 3, 2))
	b, _ := s.SnapshotBytes()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		s := NewWith(Config{}, election.Default())
		if s.Restore(bytes.NewReader(b)) == nil {
			c := clusterOf(rand.New(rand.NewPCG(1, 1)), 3, 1, 3, 5)
			s.ScoreCluster(&c) // must not panic
		}
	})
}

func TestGrowthAndNovelty(t *testing.T) {
	s := NewWith(Config{}, election.Default())
	r := rand.New(rand.NewPCG(9, 9))
	feed(s, memberPosts(r, 20, 2))
	small := clusterOf(r, 5, 1, 4, 5)
	small.Detected = t0.Add(time.Hour)
	s.ScoreCluster(&small)
	big := clusterOf(r, 20, 1, 4, 5)
	big.Detected = t0.Add(8 * time.Hour)
	s.ScoreCluster(&big)
	f := factors(big)
	if f["growth"] != 1 {
		t.Errorf("growth from 5 to 20 members = %v, want 1", f["growth"])
	}
	if !strings.Contains(strings.Join(big.Scores.Reasons, "|"), "grew from 5 to 20") && f["growth"]*WeightGrowth < 0.1 {
		t.Errorf("reasons %q", big.Scores.Reasons)
	}
	if n := factors(small)["novelty"]; n <= f["novelty"] {
		t.Errorf("novelty at 1 h %.3f <= at 8 h %.3f", n, f["novelty"])
	}
}

func factors(c post.Cluster) map[string]float64 {
	m := map[string]float64{}
	for _, f := range c.Scores.Factors {
		m[f.Name] = f.Value
	}
	return m
}

func TestAccountsBounded(t *testing.T) {
	a := NewAccounts(10, 5*time.Minute, nil)
	for i := range 100 {
		p := post.Post{Platform: post.PlatformTwitter, ID: fmt.Sprint(i), Author: fmt.Sprint(i), Time: t0.Add(time.Duration(i) * time.Minute)}
		a.Observe(&p, nil)
	}
	if len(a.ByKey) > 10 {
		t.Errorf("%d accounts tracked, max 10", len(a.ByKey))
	}
	if _, ok := a.Features("twitter:99"); !ok {
		t.Error("the latest account is not tracked: eviction of silent accounts failed")
	}
}

func TestBotFeatures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		acct    post.Account
		reposts bool
		every   time.Duration
		want    map[string]float64 // feature -> minimum (or exact 0 with -1)
		botLike bool
	}{
		{"throwaway", post.Account{Handle: "jean84629173", CreatedAt: t0.Add(-10 * 24 * time.Hour), Followers: 3, Following: 500, Posts: 5000, DefaultProfile: true},
			true, 3 * time.Minute, map[string]float64{"young": 0.9, "default": 1, "digits": 1, "ratio": 0.9, "rate": 0.9, "reposts": 0.9, "regularity": 0.9}, true},
		{"citizen", post.Account{Handle: "Claire_Dubois", CreatedAt: time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC), Followers: 300, Following: 280, Posts: 9000},
			false, 0, map[string]float64{"young": -1, "default": -1, "digits": -1, "ratio": -1, "rate": -1}, false},
		{"verified newsroom", post.Account{Handle: "RFI", CreatedAt: time.Date(2009, 1, 1, 0, 0, 0, 0, time.UTC), Followers: 1500000, Following: 500, Posts: 190000, Verified: true},
			false, 10 * time.Minute, map[string]float64{"young": -1, "digits": -1, "ratio": -1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := NewAccounts(100, 0, nil)
			r := rand.New(rand.NewPCG(1, 1))
			for i := range 40 {
				at := t0.Add(time.Duration(i) * time.Hour * 3).Add(time.Duration(r.IntN(3600)) * time.Second)
				if tc.every > 0 {
					at = t0.Add(time.Duration(i) * tc.every)
				}
				ac := tc.acct
				ac.ObservedAt = at
				p := post.Post{Platform: post.PlatformTwitter, ID: fmt.Sprint(i), Author: "x", Time: at, Account: &ac}
				if tc.reposts {
					p.RepostOf = "1"
				}
				a.Observe(&p, nil)
			}
			f, _ := a.Features("twitter:x")
			for name, min := range tc.want {
				v := f.value(name)
				if min < 0 && v != 0 || min >= 0 && v < min {
					t.Errorf("%s = %.3f, want %v", name, v, map[bool]string{true: "0", false: fmt.Sprintf(">= %v", min)}[min < 0])
				}
			}
			b := f.Score()
			if (b.Score >= BotThreshold) != tc.botLike {
				t.Errorf("bot-likeness %.3f (%+v)", b.Score, b.Contributions)
			}
			var sum float64
			for _, c := range b.Contributions {
				sum += c.Contribution
			}
			if d := sum - b.Score; d > 0.01 || d < -0.01 {
				t.Errorf("contributions sum to %.3f, score %.3f", sum, b.Score)
			}
		})
	}
}
