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

// The v1.1 samples in testdata/v1 follow the shapes of Twitter's
// documentation (the data dictionary's example payloads and "Upcoming
// changes to Tweets": classic tweets, extended tweets in compatibility
// mode with extended_tweet, extended mode with full_text and
// display_text_range, retweets, quotes with quoted_status_permalink),
// with IDs whose snowflake time matches created_at.

// Expected posts of the samples, shared by the file, stream and mapping
// tests. Streamed tweets have second precision (go-twitter has no
// timestamp_ms), hence the two times.
var (
	wantPlain = postWant{
		id: "860570335840317443", author: "847912349123452928", time: "2017-05-05T19:02:11.345Z",
		text: "Les #MacronLeaks confirment tout ce qu'on savait. @EmmanuelMacron", lang: "fr",
		urls: []string{"http://bit.ly/2pVxY7q"}, hashtags: []string{"macronleaks"}, mentions: []string{"emmanuelmacron"},
		handle: "FrInfo_2017", followers: 1877, accountCreated: "2017-03-31T20:46:05Z", observed: "2017-05-05T19:02:11.345Z",
	}
	// The extended tweet's top-level entities cover the truncated text and
	// link to the tweet itself; extended_tweet's are the real ones.
	wantExtended = postWant{
		id: "860570708189663237", author: "852196744213413889", time: "2017-05-05T19:03:40.120Z",
		text: "URGENT : les documents de la campagne prouvent les comptes offshore. Les médias se taisent, à nous de diffuser avant le silence électoral de minuit ! Lisez et partagez massivement", lang: "fr",
		urls:     []string{"https://www.docdroid.example.net/f3K9a1/offshore.pdf?utm_campaign=leaks#page=2"},
		hashtags: []string{"macronleaks", "jevotemarine"}, mentions: []string{"mlp_officiel"},
		handle: "patriote_du_13", followers: 96, accountCreated: "2017-04-12T16:30:57Z", observed: "2017-05-05T19:03:40.120Z",
	}
	wantReply = postWant{
		id: "860570803639447559", author: "398411267", time: "2017-05-05T19:04:02.000Z",
		text: "@FrInfo_2017 Source ? Ces « documents »", lang: "fr",
		urls:     []string{"https://www.lemonde.example.fr/les-decodeurs/article/2017/05/06/macronleaks-ce-que-l-on-sait.html"},
		mentions: []string{"frinfo_2017"}, replyTo: "860570335840317443",
		handle: "ElodieM_75", followers: 534, accountCreated: "2011-10-26T00:31:04Z", observed: "2017-05-05T19:04:02.000Z",
	}
	// A retweet: the original's full text and tags, no URLs (the original
	// has a link and a photo).
	wantRetweet = postWant{
		id: "860571106187186185", author: "855012457829572609", time: "2017-05-05T19:05:15.010Z",
		text: "RT @VeilleCitoyenne: Des milliers de documents internes de l'équipe de campagne circulent depuis ce soir. Avant de partager, vérifiez les métadonnées", lang: "fr",
		hashtags: []string{"macronleaks", "presidentielle2017"}, mentions: []string{"veillecitoyenne"},
		repostOf: "860564753871822854",
		handle:   "marianne_vote", followers: 41, accountCreated: "2017-04-20T11:00:00Z", observed: "2017-05-05T19:05:15.010Z",
	}
	wantRetweet2 = postWant{
		id: "860571112663162882", author: "1187239812", time: "2017-05-05T19:05:16.554Z",
		text: "RT @VeilleCitoyenne: Des milliers", lang: "fr",
		hashtags: []string{"macronleaks", "presidentielle2017"}, mentions: []string{"veillecitoyenne"},
		repostOf: "860564753871822854",
		handle:   "J_Dupont_Lyon", followers: 210, accountCreated: "2013-02-13T17:12:45Z", observed: "2017-05-05T19:05:16.554Z",
	}
	// A quote keeps its own link, which in 2017 was the quoted tweet's
	// permalink.
	wantQuote = postWant{
		id: "860571294893096964", author: "398411267", time: "2017-05-05T19:06:00.001Z",
		text: "Enfin une analyse sérieuse.", lang: "fr",
		urls:   []string{"https://twitter.com/VeilleCitoyenne/status/860564753871822854"},
		quote:  "860564753871822854",
		handle: "ElodieM_75", followers: 534, accountCreated: "2011-10-26T00:31:04Z", observed: "2017-05-05T19:06:00.001Z",
	}
	// The original: its link, and its photo's page from extended_entities.
	wantOriginal = postWant{
		id: "860564753871822854", author: "2905271733", time: "2017-05-05T18:40:00.500Z",
		text: "Des milliers de documents internes", lang: "fr",
		urls: []string{
			"https://veille-citoyenne.example.org/2017/05/05/documents-metadonnees/?utm_source=twitter&utm_medium=social",
			"https://twitter.com/VeilleCitoyenne/status/860564753871822854/photo/1",
		},
		hashtags: []string{"macronleaks", "presidentielle2017"},
		handle:   "VeilleCitoyenne", followers: 12840, accountCreated: "2014-11-19T10:21:44Z", observed: "2017-05-05T18:40:00.500Z",
	}
)

func TestV1Samples(t *testing.T) {
	for _, tc := range []struct {
		file string
		want postWant
	}{
		{"plain", wantPlain},
		{"extended_compat", wantExtended},
		{"reply_extended_mode", wantReply},
		{"retweet", wantRetweet},
		{"retweet2", wantRetweet2},
		{"quote", wantQuote},
		{"original", wantOriginal},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile("testdata/v1/" + tc.file + ".json")
			if err != nil {
				t.Fatal(err)
			}
			p, notice, err := DecodeV1(tc.file, b)
			if err != nil || notice != "" {
				t.Fatalf("DecodeV1: notice %q, err %v", notice, err)
			}
			checkPost(t, p, tc.want)
		})
	}
}

func TestV1File(t *testing.T) {
	src, err := OpenV1File("testdata/v1.jsonl", ingest.Position{})
	if err != nil {
		t.Fatal(err)
	}
	posts, bad := readAll(t, src)
	want := []postWant{wantPlain, wantExtended, wantReply, wantRetweet, wantQuote, wantRetweet2, wantOriginal}
	if len(posts) != len(want) {
		t.Fatalf("posts %s, want %d", ids(posts), len(want))
	}
	for i := range want {
		checkPost(t, posts[i], want[i])
	}
	checkBad(t, "v1.jsonl", bad, []badRecord{
		{8, "invalid JSON"},
		{11, `field "created_at": "2017-05-05T19:07:30Z" is not like`},
		{12, `field "user": missing`},
		{13, `field "id_str": cannot hold a JSON number`},
		{15, "cannot hold a JSON array"},
	})
	if got := src.Skipped(); len(got) != 4 || got["delete"] != 1 || got["limit"] != 1 || got["warning"] != 1 || got["scrub_geo"] != 1 {
		t.Errorf("skipped %v, want one delete, limit, warning and scrub_geo", got)
	}
	fi, _ := os.Stat("testdata/v1.jsonl")
	if pos := src.Position(); pos.Offset != fi.Size() || pos.Line != 17 {
		t.Errorf("end position %+v, want offset %d line 17", pos, fi.Size())
	}
}

// TestV1Resume stops after every record in turn and reopens at the saved
// position: the two reads together must see every post exactly once.
func TestV1Resume(t *testing.T) {
	all, _ := readAll(t, mustOpen(t, FormatV1, "testdata/v1.jsonl", ingest.Position{}))
	for stop := 1; stop <= len(all); stop++ {
		src := mustOpen(t, FormatV1, "testdata/v1.jsonl", ingest.Position{})
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
		rest, _ := readAll(t, mustOpen(t, FormatV1, "testdata/v1.jsonl", pos))
		if a, b := ids(append(got, rest...)), ids(all); a != b {
			t.Errorf("stop after %d (at %+v): read %s, want %s", stop, pos, a, b)
		}
	}
}

func mustOpen(t *testing.T, format, path string, from ingest.Position) ingest.Source {
	t.Helper()
	src, err := Open(format, path, from)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// TestDecodeV1 covers the mapping's edge cases on small records.
func TestDecodeV1(t *testing.T) {
	const user = `"user":{"id":2244994945,"id_str":"2244994945","screen_name":"TwitterDev","created_at":"Sat Dec 14 04:35:55 +0000 2013","followers_count":513958}`
	for _, tc := range []struct {
		name, json string
		notice     string
		err        string // part of the error; "" for none
		check      func(t *testing.T, p post.Post)
	}{
		{name: "delete notice", json: `{"delete":{"status":{"id":1,"id_str":"1","user_id":3,"user_id_str":"3"},"timestamp_ms":"1494010932001"}}`, notice: "delete"},
		{name: "limit notice", json: `{"limit":{"track":1234,"timestamp_ms":"1494010932001"}}`, notice: "limit"},
		{name: "disconnect notice", json: `{"disconnect":{"code":4,"stream_name":"x","reason":"duplicate stream"}}`, notice: "disconnect"},
		{name: "status_withheld", json: `{"status_withheld":{"id":1,"user_id":2,"withheld_in_countries":["DE"]}}`, notice: "status_withheld"},
		{name: "empty object", json: `{}`, err: `field "id_str": missing`},
		{name: "numeric id only", json: `{"id":1307025659294674945,"created_at":"Fri Sep 18 18:36:15 +0000 2020","text":"x",` + user + `}`,
			check: func(t *testing.T, p post.Post) {
				if p.ID != "1307025659294674945" {
					t.Errorf("id %q", p.ID)
				}
			}},
		{name: "id lost in a float", json: `{"id":1.307025659294675e18,"created_at":"Fri Sep 18 18:36:15 +0000 2020",` + user + `}`, err: `field "id_str": missing`},
		{name: "timestamp_ms as a number", json: `{"id_str":"1","timestamp_ms":1600454175123,"created_at":"Fri Sep 18 18:36:15 +0000 2020",` + user + `}`,
			check: func(t *testing.T, p post.Post) {
				if p.Time.UnixMilli() != 1600454175123 {
					t.Errorf("time %v", p.Time)
				}
			}},
		{name: "bad timestamp_ms", json: `{"id_str":"1","timestamp_ms":"soon",` + user + `}`, err: `field "timestamp_ms": "soon"`},
		{name: "no time", json: `{"id_str":"1",` + user + `}`, err: `field "created_at": missing`},
		{name: "bad user created_at", json: `{"id_str":"1","created_at":"Fri Sep 18 18:36:15 +0000 2020","user":{"id_str":"2","created_at":"2013-12-14"}}`, err: `field "user.created_at"`},
		{name: "user without id", json: `{"id_str":"1","created_at":"Fri Sep 18 18:36:15 +0000 2020","user":{"screen_name":"x"}}`, err: `field "user.id_str": missing`},
		{name: "user id of the wrong type", json: `{"id_str":"1","created_at":"Fri Sep 18 18:36:15 +0000 2020","user":{"id_str":{}}}`, err: `field "user.id_str": cannot hold a JSON object`},
		{name: "year out of range", json: `{"id_str":"1","created_at":"Fri Sep 18 18:36:15 +0000 1999",` + user + `}`, err: `field "time": year 1999`},
		{name: "future", json: `{"id_str":"1","created_at":"Fri Sep 18 18:36:15 +0000 2099",` + user + `}`, err: "in the future"},
		{name: "html entities and und", json: `{"id_str":"1","created_at":"Fri Sep 18 18:36:15 +0000 2020","text":"a &amp; b &lt;3 &amp;lt; &eacute;","lang":"und",` + user + `}`,
			check: func(t *testing.T, p post.Post) {
				if p.Text != "a & b <3 &lt; &eacute;" || p.Lang != "" {
					t.Errorf("text %q lang %q", p.Text, p.Lang)
				}
			}},
		{name: "retweet of an original without user", json: `{"id_str":"2","created_at":"Fri Sep 18 18:36:15 +0000 2020","text":"RT @a: hello","retweeted_status":{"id_str":"1","text":"hello","entities":{"urls":[{"expanded_url":"https://example.org"}]}},` + user + `}`,
			check: func(t *testing.T, p post.Post) {
				if p.RepostOf != "1" || p.Text != "RT @a: hello" || len(p.URLs) != 0 {
					t.Errorf("repost %q text %q urls %q", p.RepostOf, p.Text, p.URLs)
				}
			}},
		{name: "retweet without an original id", json: `{"id_str":"2","created_at":"Fri Sep 18 18:36:15 +0000 2020","retweeted_status":{"text":"x"},` + user + `}`, err: `field "retweeted_status.id_str": missing`},
		{name: "url without expanded form", json: `{"id_str":"1","created_at":"Fri Sep 18 18:36:15 +0000 2020","entities":{"urls":[{"url":"http://t.co/abc","expanded_url":null}]},` + user + `}`,
			check: func(t *testing.T, p post.Post) {
				if len(p.URLs) != 1 || p.URLs[0] != "http://t.co/abc" {
					t.Errorf("urls %q", p.URLs)
				}
			}},
		{name: "reply ids as numbers only", json: `{"id_str":"3","created_at":"Fri Sep 18 18:36:15 +0000 2020","in_reply_to_status_id":1,"quoted_status_id":2,` + user + `}`,
			check: func(t *testing.T, p post.Post) {
				if p.ReplyTo != "1" || p.QuoteOf != "2" {
					t.Errorf("reply %q quote %q", p.ReplyTo, p.QuoteOf)
				}
			}},
		{name: "invalid UTF-8 text", json: "{\"id_str\":\"1\",\"created_at\":\"Fri Sep 18 18:36:15 +0000 2020\",\"text\":\"\xff\"," + user + "}",
			check: func(t *testing.T, p post.Post) {
				// encoding/json replaces invalid bytes with U+FFFD.
				if p.Text != "\ufffd" {
					t.Errorf("text %q", p.Text)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, notice, err := DecodeV1("rec:1", []byte(tc.json))
			if notice != tc.notice {
				t.Errorf("notice %q, want %q", notice, tc.notice)
			}
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "rec:1")):
				t.Fatalf("error %v, want one naming rec:1 and containing %q", err, tc.err)
			}
			if tc.check != nil && err == nil {
				tc.check(t, p)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	for _, tc := range []struct {
		format, path string
		posts        int
		err          string
	}{
		{FormatV1, "testdata/v1.jsonl", 7, ""},
		{FormatV2, "testdata/v2.jsonl", 6, ""},
		{FormatIO, "testdata/io_tweets.csv", 5, ""},
		{"twitter-v3", "testdata/v1.jsonl", 0, `unknown format "twitter-v3"`},
		{FormatV1, "testdata/none.jsonl", 0, "no such file"},
		{FormatIO, "testdata/io_badheader.csv", 0, "required columns missing: tweetid, userid"},
	} {
		src, err := Open(tc.format, tc.path, ingest.Position{})
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Open(%s, %s) = %v, want an error containing %q", tc.format, tc.path, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Open(%s, %s): %v", tc.format, tc.path, err)
		}
		if posts, _ := readAll(t, src); len(posts) != tc.posts {
			t.Errorf("Open(%s, %s): %d posts, want %d", tc.format, tc.path, len(posts), tc.posts)
		}
	}
}
