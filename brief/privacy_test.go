package brief

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/privacy"
)

// privateIDs are the handles and post IDs of the pseudonymisation
// fixture; none may be left in a pseudonymised briefing. (The fixture's
// handles end in digits, which base32 pseudonyms never contain, so no
// pseudonym can hold one by chance.)
var privateIDs = []string{"bot0", "bot1", "bot2", "grow1", "cible_media", "jeanne_lambda", "status/2000", "status/3000",
	"twitter:2000", "twitter:2001", "twitter:3000", "status/777"}

// buildPrivate builds the briefing of the fixture with @mentions, a
// profile link and a mention object added to the new cluster, as a real
// network's posts carry them, pseudonymised by ps (nil: not).
func buildPrivate(t *testing.T, ps *privacy.Pseudonymizer) *Report {
	t.Helper()
	s := fixture(t)
	at := day.Add(9 * time.Hour)
	ps2 := []post.Post{
		{Platform: post.PlatformTwitter, ID: "2000", Author: "bot0", Time: at, Lang: "fr", Hashtags: []string{"MacronLeaks"},
			Text: "RT @cible_media: le compte offshore https://twitter.com/cible_media/status/777 #MacronLeaks", URLs: []string{"https://twitter.com/cible_media/status/777"}},
		{Platform: post.PlatformTwitter, ID: "2001", Author: "bot1", Time: at.Add(10 * time.Second), Lang: "fr", Hashtags: []string{"MacronLeaks"},
			Text: "@Jeanne_Lambda @cible_media lisez avant le silence", Mentions: []string{"Jeanne_Lambda", "cible_media"}},
	}
	if err := s.PutPosts(t.Context(), ps2); err != nil {
		t.Fatal(err)
	}
	c, err := s.GetCluster(t.Context(), "c-new")
	if err != nil {
		t.Fatal(err)
	}
	c.TopObjects = append([]post.KeyCount{{Kind: post.KindMention, Key: "twitter:cible_media", Count: 9}}, c.TopObjects...)
	if err := s.PutClusters(t.Context(), []post.Cluster{c}); err != nil {
		t.Fatal(err)
	}
	rep, err := Build(t.Context(), s, Options{Date: "2017-05-05", BaseURL: "http://vigie.test", Final: true,
		Now: time.Date(2017, 5, 6, 6, 0, 0, 0, time.UTC), Pseudonymizer: ps})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestPseudonymisedBriefing(t *testing.T) {
	ps, err := privacy.New([]byte("test-key-not-a-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	rep := buildPrivate(t, ps)
	md := rep.Markdown()
	html, err := rep.HTML()
	if err != nil {
		t.Fatal(err)
	}
	b, err := rep.Briefing()
	if err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string]string{"markdown": md, "html": html, "stored markdown": b.Markdown, "stored html": b.HTML, "summary": b.Summary} {
		low := strings.ToLower(doc)
		for _, id := range privateIDs {
			if strings.Contains(low, strings.ToLower(id)) {
				t.Errorf("%s holds %q", name, id)
			}
		}
	}
	for _, want := range []string{ps.Handle("twitter", "bot0"), ps.Handle("twitter", "cible_media"), "pseudonymised is not anonymous",
		"mention twitter:" + ps.Handle("twitter", "cible_media") + " (9)"} {
		if !strings.Contains(md, mdEscaper.Replace(want)) {
			t.Errorf("markdown lacks %q", want)
		}
		if !strings.Contains(html, want) {
			t.Errorf("html lacks %q", want)
		}
	}
	path := filepath.Join("testdata", "2017-05-05.pseudonymised.md")
	if *update {
		if err := os.WriteFile(path, []byte(md), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./brief -run TestPseudonymisedBriefing -update)", err)
	}
	if md != string(want) {
		t.Errorf("Markdown differs from %s (run with -update and review the diff):\n%s", path, md)
	}
}

// TestBriefingNotPseudonymisedByDefault checks the fixture does carry
// the handles the test above looks for, so that test can fail.
func TestBriefingNotPseudonymisedByDefault(t *testing.T) {
	rep := buildPrivate(t, nil)
	md := rep.Markdown()
	for _, id := range []string{"bot0", "@cible\\_media", "twitter:2000", "mention twitter:cible\\_media (9)"} {
		if !strings.Contains(md, id) {
			t.Errorf("markdown without pseudonymisation lacks %q:\n%s", id, md)
		}
	}
	if strings.Contains(md, "acct_") || strings.Contains(md, "not anonymous") {
		t.Error("a briefing without a Pseudonymizer holds pseudonyms")
	}
}

// TestSummaryForAnnouncement checks the summary a webhook announcement
// carries when alerts are pseudonymised and the briefing is not.
func TestSummaryForAnnouncement(t *testing.T) {
	ps, err := privacy.New([]byte("test-key-not-a-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	rep := buildPrivate(t, nil)
	if !strings.Contains(rep.Summary, "twitter:cible_media") {
		t.Fatalf("fixture summary does not name the mentioned account: %s", rep.Summary)
	}
	got := rep.SummaryFor(ps)
	if strings.Contains(got, "cible_media") || !strings.Contains(got, ps.Account("twitter:cible_media")) {
		t.Errorf("SummaryFor = %s", got)
	}
	if rep.SummaryFor(nil) != rep.Summary {
		t.Error("SummaryFor(nil) differs from the summary")
	}
}
