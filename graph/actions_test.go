package graph

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

func TestActions(t *testing.T) {
	base := post.Post{Platform: post.PlatformMastodon, ID: "42", Author: "alice", Time: t0}
	with := func(f func(p *post.Post)) *post.Post { p := base; f(&p); return &p }
	type kk struct {
		Kind post.Kind
		Key  string
	}
	long := "Vote NO on the referendum, share before they delete it!"
	tests := []struct {
		name  string
		p     *post.Post
		kinds []post.Kind
		want  []kk
	}{
		{"repost key is platform:repost_of", with(func(p *post.Post) { p.RepostOf = "7" }),
			[]post.Kind{post.KindRepost}, []kk{{post.KindRepost, "mastodon:7"}}},
		{"no repost, no action", &base, []post.Kind{post.KindRepost}, nil},
		{"links as given, deduped, in post order",
			with(func(p *post.Post) {
				p.URLs = []string{"https://b.example/x", "https://a.example/", "https://b.example/x"}
			}),
			[]post.Kind{post.KindLink}, []kk{{post.KindLink, "https://b.example/x"}, {post.KindLink, "https://a.example/"}}},
		{"domains lower-cased without www and port",
			with(func(p *post.Post) {
				p.URLs = []string{"https://WWW.News.example:8443/a", "http://news.example/b", "bare.example/c", "::bad"}
			}),
			[]post.Kind{post.KindDomain}, []kk{{post.KindDomain, "news.example"}, {post.KindDomain, "bare.example"}}},
		{"hashtags lower-cased without #", with(func(p *post.Post) { p.Hashtags = []string{"#Vote", "vote", "Élection"} }),
			[]post.Kind{post.KindHashtag}, []kk{{post.KindHashtag, "vote"}, {post.KindHashtag, "élection"}}},
		{"reply key is platform:reply_to", with(func(p *post.Post) { p.ReplyTo = "9" }),
			[]post.Kind{post.KindReply}, []kk{{post.KindReply, "mastodon:9"}}},
		{"mentions lower-cased without @", with(func(p *post.Post) { p.Mentions = []string{"@Bob", "bob", "@"} }),
			[]post.Kind{post.KindMention}, []kk{{post.KindMention, "mastodon:bob"}}},
		{"media as given", with(func(p *post.Post) { p.MediaHashes = []string{"ab12", "ab12", "cd34"} }),
			[]post.Kind{post.KindMedia}, []kk{{post.KindMedia, "ab12"}, {post.KindMedia, "cd34"}}},
		{"perceptual hashes lower-cased", with(func(p *post.Post) { p.MediaHashes = []string{"C3A1B0F0E8C4D2B1", "c3a1b0f0e8c4d2b1"} }),
			[]post.Kind{post.KindMedia}, []kk{{post.KindMedia, "c3a1b0f0e8c4d2b1"}}},
		{"hashtag sequence", with(func(p *post.Post) { p.Hashtags = []string{"#Vote", "#France"} }),
			[]post.Kind{post.KindHashtagSeq}, []kk{{post.KindHashtagSeq, "#vote #france"}}},
		{"short text is no evidence", with(func(p *post.Post) { p.Text = "so true!" }), []post.Kind{post.KindText}, nil},
		{"text of a repost is the original's", with(func(p *post.Post) { p.Text = long; p.RepostOf = "1" }),
			[]post.Kind{post.KindText}, nil},
		{"kinds in the order asked",
			with(func(p *post.Post) { p.RepostOf = "7"; p.URLs = []string{"https://a.example/"} }),
			[]post.Kind{post.KindLink, post.KindRepost},
			[]kk{{post.KindLink, "https://a.example/"}, {post.KindRepost, "mastodon:7"}}},
		{"unknown kind yields nothing", with(func(p *post.Post) { p.RepostOf = "7" }), []post.Kind{"poke"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			acts := Actions(tc.p, tc.kinds)
			var got []kk
			for _, a := range acts {
				got = append(got, kk{a.Kind, a.Key})
				if a.Account != tc.p.Author || a.Platform != tc.p.Platform || a.Post != tc.p.ID || !a.Time.Equal(tc.p.Time) || a.Schema != post.SchemaVersion {
					t.Errorf("action %+v does not carry the post's identity", a)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTextKey(t *testing.T) {
	a := textKey("Vote NO on the referendum, share before they delete it! https://x.example/1")
	b := textKey("vote no on the   REFERENDUM share before they delete it https://y.example/2")
	c := textKey("Vote YES on the referendum, share before they delete it!")
	if a == "" || a != b {
		t.Errorf("copies differing in case, spacing, punctuation and links got keys %q and %q", a, b)
	}
	if a == c {
		t.Errorf("different texts share key %q", a)
	}
	if !strings.HasSuffix(a, " vote no on the referendum share before they delete it") {
		t.Errorf("key %q lacks the readable snippet", a)
	}
	if got := textKey(strings.Repeat("é ", 100)); len(got) > 17+textSnippet {
		t.Errorf("snippet not bounded: %d bytes", len(got))
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		field string // "" = valid
	}{
		{"zero value takes defaults", Config{}, ""},
		{"negative window", Config{Window: -1}, "Window"},
		{"negative key cap", Config{KeyCap: -5}, "KeyCap"},
		{"negative min weight", Config{MinWeight: -1}, "MinWeight"},
		{"cluster of one", Config{MinClusterSize: 1}, "MinClusterSize"},
		{"retention shorter than window", Config{Window: time.Hour, Retention: time.Minute, WeakRetention: time.Hour}, "Retention"},
		{"weak retention longer than retention", Config{Retention: 2 * time.Hour, WeakRetention: 3 * time.Hour}, "WeakRetention"},
		{"weak retention defaults under a short retention", Config{Retention: 10 * time.Minute}, ""},
		{"negative lateness", Config{Lateness: -time.Second}, "Lateness"},
		{"negative evidence", Config{MaxEvidence: -1}, "MaxEvidence"},
		{"level below top", Config{Level: -2}, "Level"},
		{"rejoin not a number", Config{Rejoin: math.NaN()}, "Rejoin"},
		{"rejoin disabled", Config{Rejoin: -1}, ""},
		{"unknown signal", Config{Signals: []post.Kind{post.KindRepost, "poke"}}, "Signals[1]"},
		{"signal twice", Config{Signals: []post.Kind{post.KindLink, post.KindLink}}, "Signals[1]"},
		{"all signals", Config{Signals: allKinds}, ""},
		{"text threshold above 1", Config{TextThreshold: 1.01}, "TextThreshold"},
		{"text threshold negative", Config{TextThreshold: -0.5}, "TextThreshold"},
		{"text threshold not a number", Config{TextThreshold: math.NaN()}, "TextThreshold"},
		{"text threshold 1", Config{TextThreshold: 1}, ""},
		{"negative text min words", Config{TextMinWords: -1}, "TextMinWords"},
		{"media distance too large", Config{MediaMaxDistance: MaxMediaDistance + 1}, "MediaMaxDistance"},
		{"media distance at most", Config{MediaMaxDistance: MaxMediaDistance}, ""},
		{"media exact only", Config{MediaMaxDistance: -1}, ""},
		{"id overlap above 1", Config{IDOverlap: 1.5}, "IDOverlap"},
		{"id overlap negative", Config{IDOverlap: -0.1}, "IDOverlap"},
		{"id overlap not a number", Config{IDOverlap: math.NaN()}, "IDOverlap"},
		{"id overlap 1", Config{IDOverlap: 1}, ""},
		{"hashtag sequence of one", Config{HashtagSeqMin: 1}, "HashtagSeqMin"},
		{"hashtag sequence of 4", Config{HashtagSeqMin: 4}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if _, err := New(tc.cfg); err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field {
				t.Fatalf("got %v, want error on field %s", err, tc.field)
			}
			if _, err := New(tc.cfg); err == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	c := mustNew(t, Config{}).Config()
	want := Config{
		Window: DefaultWindow, KeyCap: DefaultKeyCap, MinWeight: DefaultMinWeight,
		MinClusterSize: DefaultMinClusterSize, Retention: DefaultRetention,
		WeakRetention: DefaultWeakRetention, Lateness: DefaultLateness,
		Signals: []post.Kind{post.KindRepost, post.KindLink, post.KindReply}, MaxEvidence: DefaultMaxEvidence,
		Rejoin: 0.25,
	}
	want.TextThreshold, want.TextMinWords, want.MediaMaxDistance = DefaultTextThreshold, DefaultTextMinWords, DefaultMediaMaxDistance
	want.Algorithm = AlgorithmLouvain
	want.IDOverlap, want.HashtagSeqMin = DefaultIDOverlap, DefaultHashtagSeqMin
	want.MinCohesion = DefaultMinCohesion
	if !reflect.DeepEqual(c, want) {
		t.Errorf("defaults %+v, want %+v", c, want)
	}
}
