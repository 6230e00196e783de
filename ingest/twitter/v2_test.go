package twitter

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/post"
)

// testdata/v2.jsonl, in the shapes of the v2 documentation and of twarc2's
// output:
//
//	1: a /2/tweets/search/all page with every expansion twarc2 asks for
//	   (6 tweets: quote, retweet, reply, bad created_at, plain, no author),
//	   includes (users, tweets, media), meta, __twarc
//	2: a page with errors only (a lookup of a deleted tweet)
//	3: an empty last page (result_count 0)
//	4: a truncated line
//	5: a twarc2 flattened tweet (author and referenced tweet inline)
//	6: blank
//	7: a lookup by ID ("data" is one tweet) of a long post (note_tweet)
const v2Observed = "2022-11-03T10:21:05.000Z" // __twarc.retrieved_at

var (
	wantV2Quote = postWant{
		id: "860571294893096964", author: "398411267", time: "2017-05-05T19:06:00.000Z",
		text: "Enfin une analyse sérieuse.", lang: "fr",
		urls:   []string{"https://twitter.com/VeilleCitoyenne/status/860564753871822854"},
		quote:  "860564753871822854",
		handle: "ElodieM_75", followers: 534, accountCreated: "2011-10-26T00:31:04Z", observed: v2Observed,
	}
	// The retweet's own text stops at 140 characters; the original from
	// includes.tweets gives the whole text and its hashtags, not its links.
	wantV2Retweet = postWant{
		id: "860571106187186185", author: "855012457829572609", time: "2017-05-05T19:05:15.000Z",
		text: "RT @VeilleCitoyenne: Des milliers de documents internes de l'équipe de campagne circulent depuis ce soir. Avant de partager, vérifiez les métadonnées : plusieurs", lang: "fr",
		hashtags: []string{"macronleaks", "presidentielle2017"}, mentions: []string{"veillecitoyenne"},
		repostOf: "860564753871822854",
		handle:   "marianne_vote", followers: 41, accountCreated: "2017-04-20T11:00:00Z", observed: v2Observed,
	}
	wantV2Reply = postWant{
		id: "860570803639447559", author: "398411267", time: "2017-05-05T19:04:02.000Z",
		text: "@FrInfo_2017 Source ?", lang: "fr",
		urls:     []string{"https://www.lemonde.example.fr/les-decodeurs/article/2017/05/06/macronleaks-ce-que-l-on-sait.html"},
		mentions: []string{"frinfo_2017"}, replyTo: "860570335840317443",
		handle: "ElodieM_75", followers: 534, accountCreated: "2011-10-26T00:31:04Z", observed: v2Observed,
	}
	wantV2Plain = postWant{
		id: "860570335840317443", author: "847912349123452928", time: "2017-05-05T19:02:11.000Z",
		text: "Les #MacronLeaks confirment tout ce qu'on savait. @EmmanuelMacron doit s'expliquer ! https://t.co/aB3dE5fG7h & RT", lang: "fr",
		urls: []string{"http://bit.ly/2pVxY7q"}, hashtags: []string{"macronleaks"}, mentions: []string{"emmanuelmacron"},
		handle: "FrInfo_2017", followers: 1877, accountCreated: "2017-03-31T20:46:05Z", observed: v2Observed,
	}
	wantV2Flat = postWant{
		id: "860571112663162882", author: "1187239812", time: "2017-05-05T19:05:16.000Z",
		text: "RT @VeilleCitoyenne: Des milliers de documents internes de l'équipe de campagne circulent depuis ce soir. Avant de partager, vérifiez les métadonnées : plusieurs", lang: "fr",
		hashtags: []string{"macronleaks", "presidentielle2017"}, mentions: []string{"veillecitoyenne"},
		repostOf: "860564753871822854",
		handle:   "J_Dupont_Lyon", followers: 210, accountCreated: "2013-02-13T17:12:45Z", observed: v2Observed,
	}
	// No __twarc: the profile is dated by the post.
	wantV2Long = postWant{
		id: "1660286416373420033", author: "2905271733", time: "2023-05-21T14:02:11.000Z",
		text: "Bilan de la campagne : nous avons relevé 1 240 comptes coordonnés.", lang: "fr",
		urls: []string{"https://veille-citoyenne.example.org/rapport-2023"}, hashtags: []string{"desinformation"},
		handle: "VeilleCitoyenne", followers: 12840, accountCreated: "2014-11-19T10:21:44Z", observed: "2023-05-21T14:02:11.000Z",
	}
)

func TestV2File(t *testing.T) {
	src, err := OpenV2File("testdata/v2.jsonl", ingest.Position{})
	if err != nil {
		t.Fatal(err)
	}
	posts, bad := readAll(t, src)
	want := []postWant{wantV2Quote, wantV2Retweet, wantV2Reply, wantV2Plain, wantV2Flat, wantV2Long}
	if len(posts) != len(want) {
		t.Fatalf("posts %s, want %d", ids(posts), len(want))
	}
	for i := range want {
		checkPost(t, posts[i], want[i])
	}
	checkBad(t, "v2.jsonl", bad, []badRecord{
		{1, `data[3]: field "created_at": "vendredi 5 mai 2017 19:07" is not an RFC 3339 time`},
		{1, `data[5]: field "author_id": missing`},
		{4, "invalid JSON"},
	})
	if len(bad) == 3 && !strings.HasPrefix(string(bad[0].Raw), `{"edit_history_tweet_ids":["860571676566388744"]`) {
		t.Errorf("a bad tweet's Raw should be that tweet, got %.80s", bad[0].Raw)
	}
	if got := src.Skipped(); len(got) != 2 || got["errors"] != 1 || got["empty"] != 1 {
		t.Errorf("skipped %v, want one errors page and one empty page", got)
	}
}

// TestV2Resume checks the line-granular position: stopping in the middle
// of a page and resuming reads the page again (duplicates, which the
// ingest stage drops by key), and loses nothing.
func TestV2Resume(t *testing.T) {
	all, _ := readAll(t, mustOpen(t, FormatV2, "testdata/v2.jsonl", ingest.Position{}))
	for stop := 1; stop <= len(all); stop++ {
		src := mustOpen(t, FormatV2, "testdata/v2.jsonl", ingest.Position{})
		var got []post.Post
		for len(got) < stop {
			p, err := src.Next(context.Background())
			if errors.Is(err, io.EOF) {
				t.Fatal("early EOF")
			}
			if err == nil {
				got = append(got, p)
			}
		}
		pos := src.Position()
		src.Close()
		rest, _ := readAll(t, mustOpen(t, FormatV2, "testdata/v2.jsonl", pos))
		// Drop by key as ingest.Normaliser does.
		norm := ingest.NewNormaliser(100)
		var merged []post.Post
		dups := 0
		for _, p := range append(got, rest...) {
			if err := norm.Apply(context.Background(), &p); errors.Is(err, ingest.ErrDuplicate) {
				dups++
				continue
			}
			merged = append(merged, p)
		}
		if a, b := ids(merged), ids(all); a != b {
			t.Errorf("stop after %d (at %+v): read %s, want %s", stop, pos, a, b)
		}
		// The first page holds posts 1-4 and ends with a bad tweet:
		// stopping anywhere in it re-reads it.
		wantDups := 0
		if stop <= 4 {
			wantDups = stop
		}
		if dups != wantDups {
			t.Errorf("stop after %d: %d duplicates, want %d", stop, dups, wantDups)
		}
	}
}

func TestDecodeV2(t *testing.T) {
	const users = `"includes":{"users":[{"id":"2","username":"Orig","created_at":"2013-12-14T04:35:55.000Z"},{"id":"3","username":"Fan"}]`
	for _, tc := range []struct {
		name, json string
		skipped    string
		posts      int
		err        string // line error
		itemErr    string // first tweet's error
		check      func(t *testing.T, p post.Post)
	}{
		{name: "not JSON", json: `{"data":[`, err: "invalid JSON"},
		{name: "data of the wrong type", json: `{"data":"x"}`, err: `field "data": neither a tweet nor an array`},
		{name: "data array of the wrong type", json: `{"data":[1]}`, itemErr: `data[0]: field "(record)": cannot hold a JSON number`},
		{name: "null data", json: `{"data":null,"meta":{"result_count":0}}`, skipped: "empty"},
		{name: "errors only", json: `{"errors":[{"title":"Not Found Error"}]}`, skipped: "errors"},
		{name: "tweet without id", json: `{"data":[{"text":"x","author_id":"3","created_at":"2020-09-18T18:36:15.000Z"}]}`, itemErr: `data[0]: field "id": missing`},
		{name: "no created_at", json: `{"data":[{"id":"1","text":"x","author_id":"3"}]}`, itemErr: `field "created_at": missing`},
		{name: "bad user created_at", json: `{"data":[{"id":"1","text":"x","author_id":"3","created_at":"2020-09-18T18:36:15.000Z"}],"includes":{"users":[{"id":"3","created_at":"hier"}]}}`, itemErr: `field "author.created_at"`},
		{name: "retweet without includes keeps its own text", json: `{"data":[{"id":"5","text":"RT @Orig: hello…","author_id":"3","created_at":"2020-09-18T18:36:15.000Z","referenced_tweets":[{"type":"retweeted","id":"4"}],"entities":{"mentions":[{"username":"Orig"}],"hashtags":[{"tag":"x"}],"urls":[{"expanded_url":"https://example.org"}]}}]}`,
			check: func(t *testing.T, p post.Post) {
				if p.Text != "RT @Orig: hello…" || p.RepostOf != "4" || len(p.URLs) != 0 || strings.Join(p.Hashtags, ",") != "x" || strings.Join(p.Mentions, ",") != "orig" {
					t.Errorf("%+v", p)
				}
			}},
		{name: "retweet with the original in includes", json: `{"data":[{"id":"5","text":"RT @Orig: hello…","author_id":"3","created_at":"2020-09-18T18:36:15.000Z","referenced_tweets":[{"type":"retweeted","id":"4"}]}],` + users + `,"tweets":[{"id":"4","author_id":"2","text":"hello world &amp; more","entities":{"hashtags":[{"tag":"Y"}],"urls":[{"expanded_url":"https://example.org"}]},"referenced_tweets":[{"type":"quoted","id":"1"}]}]}}`,
			check: func(t *testing.T, p post.Post) {
				if p.Text != "RT @Orig: hello world & more" || len(p.URLs) != 0 || p.QuoteOf != "" || strings.Join(p.Hashtags, ",") != "y" || strings.Join(p.Mentions, ",") != "orig" {
					t.Errorf("%+v", p)
				}
				if p.Account == nil || p.Account.Handle != "Fan" || !p.Account.ObservedAt.Equal(p.Time) {
					t.Errorf("account %+v", p.Account)
				}
			}},
		{name: "author only in includes", json: `{"data":{"id":"7","text":"x","author_id":"2","created_at":"2020-09-18T18:36:15Z","lang":"und"},` + users + `}}`,
			check: func(t *testing.T, p post.Post) {
				if p.Author != "2" || p.Account == nil || p.Account.CreatedAt.Year() != 2013 || p.Lang != "" {
					t.Errorf("%+v", p)
				}
			}},
		{name: "flattened without author_id", json: `{"id":"8","text":"x","created_at":"2020-09-18T18:36:15.000Z","author":{"id":"3","username":"Fan"}}`,
			check: func(t *testing.T, p post.Post) {
				if p.Author != "3" || p.Account == nil || p.Account.Handle != "Fan" {
					t.Errorf("%+v", p)
				}
			}},
		{name: "several tweets", json: `{"data":[{"id":"1","text":"a","author_id":"3","created_at":"2020-09-18T18:36:15.000Z"},{"id":"2","text":"b","author_id":"3","created_at":"2020-09-18T18:36:16.000Z"}]}`, posts: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items, skipped, err := decodeV2("rec:1", []byte(tc.json))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "rec:1") {
					t.Fatalf("error %v, want one naming rec:1 and containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if skipped != tc.skipped {
				t.Errorf("skipped %q, want %q", skipped, tc.skipped)
			}
			if tc.skipped != "" {
				return
			}
			if tc.itemErr != "" {
				if len(items) == 0 || items[0].err == nil || !strings.Contains(items[0].err.Error(), tc.itemErr) || !strings.Contains(items[0].err.Error(), "rec:1") {
					t.Fatalf("items %+v, want a first error naming rec:1 and containing %q", items, tc.itemErr)
				}
				return
			}
			if tc.posts == 0 {
				tc.posts = 1
			}
			if len(items) != tc.posts {
				t.Fatalf("%d items, want %d", len(items), tc.posts)
			}
			for _, it := range items {
				if it.err != nil {
					t.Fatal(it.err)
				}
			}
			if tc.check != nil {
				tc.check(t, items[0].p)
			}
		})
	}
}

func TestV2Blank(t *testing.T) {
	path := t.TempDir() + "/blank.jsonl"
	if err := os.WriteFile(path, []byte("\n\n  \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	posts, bad := readAll(t, mustOpen(t, FormatV2, path, ingest.Position{}))
	if len(posts)+len(bad) != 0 {
		t.Errorf("posts %d, bad %d from blank lines", len(posts), len(bad))
	}
}
