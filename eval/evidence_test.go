package eval

import (
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/scenario"
)

func TestEvidence(t *testing.T) {
	t0 := time.Date(2017, 5, 3, 0, 0, 0, 0, time.UTC)
	at := func(min, sec int) time.Time {
		return t0.Add(time.Duration(min)*time.Minute + time.Duration(sec)*time.Second)
	}
	truth := scenario.Truth{Networks: []scenario.TruthNetwork{
		{Name: "N", Members: []string{"twitter:a", "twitter:b", "twitter:c", "twitter:d"}, Start: t0},
		{Name: "M", Members: []string{"twitter:m1", "twitter:m2"}, Start: t0},
	}}
	rt := func(who, of string, tm time.Time) *post.Post {
		return &post.Post{Platform: post.PlatformTwitter, Author: who, RepostOf: of, Time: tm}
	}
	link := func(who, url string, tm time.Time) *post.Post {
		return &post.Post{Platform: post.PlatformTwitter, Author: who, URLs: []string{url}, Time: tm}
	}
	reply := func(who, to string, tm time.Time) *post.Post {
		return &post.Post{Platform: post.PlatformTwitter, Author: who, ReplyTo: to, Time: tm}
	}
	posts := []*post.Post{
		// a and b co-repost s1 and co-share u1: weight 2.
		rt("a", "s1", at(0, 0)), rt("b", "s1", at(0, 30)),
		link("a", "u1", at(10, 0)), link("b", "u1", at(10, 59)),
		// a repeats s1-like object s1 again later: same object, no weight.
		rt("x", "s2", at(20, 0)), // organic: ignored
		// c and d: 61 s apart, outside the window.
		rt("c", "s3", at(30, 0)), rt("d", "s3", at(31, 1)),
		// a and m1 co-repost, but across networks: no edge.
		rt("a", "s4", at(40, 0)), rt("m1", "s4", at(40, 5)),
		// Replies count only when the reply signal is on.
		reply("a", "p1", at(50, 0)), reply("b", "p1", at(50, 10)),
		// a and c: three objects by 55 min with reposts and links, two
		// with reposts only.
		rt("a", "s5", at(52, 0)), rt("c", "s5", at(52, 10)),
		link("c", "u5", at(53, 0)), link("a", "u5", at(53, 30)),
		rt("c", "s6", at(55, 0)), rt("a", "s6", at(55, 0)),
		// Third object for a-b: with replies off, this makes the edge
		// and {a, b, c} a component of three.
		link("b", "u2", at(60, 0)), link("a", "u2", at(60, 20)),
	}
	for _, tc := range []struct {
		name    string
		signals []post.Kind
		want    time.Time // zero: never
	}{
		{"repost and link", []post.Kind{post.KindRepost, post.KindLink}, at(60, 20)},
		{"with replies", []post.Kind{post.KindRepost, post.KindLink, post.KindReply}, at(55, 0)},
		{"reposts only", []post.Kind{post.KindRepost}, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEvidence(truth, time.Minute, 3, 3, tc.signals)
			for _, p := range posts {
				e.Add(p)
			}
			got := e.Times(truth)
			if g, ok := got["N"]; ok != !tc.want.IsZero() || !g.Equal(tc.want) {
				t.Errorf("N: evidence at %v (%v), want %v", g, ok, tc.want)
			}
			if g, ok := got["M"]; ok {
				t.Errorf("M: evidence at %v, want none", g)
			}
		})
	}

	// Reaction: detection minus evidence, floored at 0.
	r := Report{Networks: []Network{
		{Name: "N", DetectedBy: "alert", DetectedAt: at(70, 20)},
		{Name: "M", DetectedBy: "alert", DetectedAt: at(5, 0)},
		{Name: "O"},
	}}
	r.AddEvidence(map[string]time.Time{"N": at(60, 20), "M": at(6, 0), "O": at(1, 0)})
	if r.Networks[0].ReactionSeconds != 600 || r.Networks[1].ReactionSeconds != 0 || r.Reacted != 2 ||
		r.MedianReactionSeconds != 300 || r.MaxReactionSeconds != 600 {
		t.Errorf("reaction: %+v", r)
	}
}
