package privacy

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// secrets are the identifying strings of the fixtures below: none may be
// left in a pseudonymised record.
var secrets = []string{"alice", "bob", "carol", "Alice Martin", "8620001", "8620002", "8620003", "journaliste", "example.social"}

func fixturePost() post.Post {
	t0 := time.Date(2017, 5, 5, 18, 0, 0, 0, time.UTC)
	return post.Post{Schema: post.SchemaVersion, Platform: post.PlatformTwitter, ID: "8620001", Author: "alice", Time: t0,
		Text: "RT @bob: lisez @Carol https://twitter.com/bob/status/8620002 #MacronLeaks", Lang: "fr",
		URLs:     []string{"https://twitter.com/bob/status/8620002?s=20", "https://example.org/a", "https://mastodon.example/@carol@example.social/1"},
		Hashtags: []string{"MacronLeaks"}, Mentions: []string{"bob", "@Carol"}, RepostOf: "8620002", ReplyTo: "8620003",
		Account: &post.Account{Platform: post.PlatformTwitter, ID: "alice", Handle: "alice", Name: "Alice Martin", Description: "journaliste",
			Followers: 12, CreatedAt: t0.Add(-time.Hour)}}
}

func fixtureCluster() post.Cluster {
	t0 := time.Date(2017, 5, 5, 18, 0, 0, 0, time.UTC)
	return post.Cluster{Schema: post.SchemaVersion, ID: "c-1", Status: post.StatusActive, Platform: post.PlatformTwitter,
		Members: []string{"twitter:alice", "twitter:bob", "twitter:carol"},
		Edges: []post.Edge{{A: "twitter:alice", B: "twitter:bob", Weight: 3, First: t0, Last: t0,
			Evidence: []post.Evidence{
				{Kind: post.KindRepost, Key: "twitter:8620003", PostA: "twitter:8620001", PostB: "twitter:8620002", TimeA: t0, TimeB: t0.Add(time.Second)},
				{Kind: post.KindMention, Key: "twitter:carol", PostA: "twitter:8620001", PostB: "twitter:8620002", TimeA: t0, TimeB: t0},
			}}},
		TopObjects: []post.KeyCount{{Kind: post.KindMention, Key: "twitter:carol", Count: 3}, {Kind: post.KindHashtag, Key: "macronleaks", Count: 2},
			{Kind: post.KindLink, Key: "https://x.com/alice/status/8620002", Count: 2}},
		Posts:  []string{"twitter:8620001"},
		Scores: post.Scores{Risk: 70}, Target: "macron", TargetStance: "smear"}
}

func assertNoSecrets(t *testing.T, what string, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, x := range secrets {
		if strings.Contains(strings.ToLower(s), strings.ToLower(x)) {
			t.Errorf("%s still holds %q: %s", what, x, s)
		}
	}
	return s
}

func TestPostPseudonymised(t *testing.T) {
	p := mustNew(t, keyA)
	in := fixturePost()
	out := p.Post(in)
	s := assertNoSecrets(t, "post", out)
	for _, keep := range []string{"MacronLeaks", "https://example.org/a", `"lang":"fr"`, `"followers":12`} {
		if !strings.Contains(s, keep) {
			t.Errorf("pseudonymised post lost %q: %s", keep, s)
		}
	}
	if in.Author != "alice" || in.Account.Name != "Alice Martin" || in.Mentions[0] != "bob" || in.URLs[0] != "https://twitter.com/bob/status/8620002?s=20" {
		t.Error("Post changed its input")
	}
	// Author, mention and account key agree, so an analyst holding the
	// pseudonymised export can still follow one account.
	if out.Author != p.Handle("twitter", "alice") || out.Mentions[0] != p.Handle("twitter", "bob") ||
		!strings.Contains(out.Text, p.Handle("twitter", "bob")) || !strings.Contains(out.URLs[0], p.Handle("twitter", "bob")) {
		t.Errorf("pseudonyms disagree: %+v", out)
	}
	if out.Account.Name != out.Author || out.Account.Description != "" {
		t.Errorf("account snapshot = %+v", out.Account)
	}
	if p.Post(in).Text != out.Text {
		t.Error("not deterministic")
	}
}

func TestClusterPseudonymised(t *testing.T) {
	p := mustNew(t, keyA)
	in := fixtureCluster()
	out := p.Cluster(in)
	assertNoSecrets(t, "cluster", out)
	if in.Members[0] != "twitter:alice" || in.Edges[0].Evidence[0].PostA != "twitter:8620001" {
		t.Error("Cluster changed its input")
	}
	for i, m := range out.Members {
		if m != p.Account(in.Members[i]) || !strings.HasPrefix(m, "twitter:acct_") {
			t.Errorf("member %d = %q", i, m)
		}
	}
	e := out.Edges[0]
	if e.A >= e.B {
		t.Errorf("edge ends %q, %q out of order", e.A, e.B)
	}
	// Evidence follows its edge end when the ends swap.
	for _, x := range e.Evidence {
		wantA := p.PostKey("twitter:8620001")
		if e.A != p.Account("twitter:alice") {
			wantA = p.PostKey("twitter:8620002")
		}
		if x.PostA != wantA {
			t.Errorf("evidence PostA = %q, want %q", x.PostA, wantA)
		}
	}
	if out.TopObjects[1].Key != "macronleaks" || out.TopObjects[0].Key != p.Account("twitter:carol") {
		t.Errorf("top objects = %+v", out.TopObjects)
	}
	if p.PostKey("twitter:alice") == p.Account("twitter:alice") || !strings.HasPrefix(p.PostKey("twitter:1"), "twitter:post_") {
		t.Error("post and account pseudonyms share a domain")
	}
}

func TestURL(t *testing.T) {
	p := mustNew(t, keyA)
	tests := []struct{ in, want string }{
		{"https://example.org/a?b=c", "https://example.org/a?b=c"},
		{"https://twitter.com/alice/status/1?s=20", "https://twitter.com/" + p.Handle("twitter", "alice") + "/status/" + p.postID("twitter", "1")},
		{"https://twitter.com/i/web/status/1", "https://twitter.com/i/web/status/" + p.postID("twitter", "1")},
		{"https://twitter.com/hashtag/Macron", "https://twitter.com/hashtag/Macron"},
		{"https://bsky.app/profile/alice.bsky.social/post/3k", "https://bsky.app/profile/" + p.Handle("bluesky", "alice.bsky.social") + "/post/" + p.postID("bluesky", "3k")},
		{"https://mastodon.social/@alice/1", "https://mastodon.social/" + p.Handle("mastodon", "alice@mastodon.social") + "/" + p.postID("mastodon", "1")},
		{"https://t.me/chan/12", "https://t.me/" + p.Handle("telegram", "chan") + "/" + p.postID("telegram", "12")},
		{"not a url @alice", "not a url " + p.Handle("", "alice")},
		{"", ""},
	}
	for _, tc := range tests {
		if got := p.URL(tc.in); got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNilRecordsUnchanged(t *testing.T) {
	var p *Pseudonymizer
	in, c := fixturePost(), fixtureCluster()
	if got := p.Post(in); got.Author != in.Author || got.Text != in.Text {
		t.Error("nil Pseudonymizer changed a post")
	}
	if got := p.Cluster(c); got.Members[0] != c.Members[0] {
		t.Error("nil Pseudonymizer changed a cluster")
	}
}
