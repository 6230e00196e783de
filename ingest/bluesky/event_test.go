package bluesky

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

var testNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// testEvents are the lines of testdata/events.jsonl, real-format
// Jetstream events.
func testEvents(t testing.TB) [][]byte {
	t.Helper()
	b, err := os.ReadFile("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSpace(b), []byte("\n"))
}

func TestDecodeEvent(t *testing.T) {
	evs := testEvents(t)
	const parent = "at://did:plc:wa7b35aakoll7hugkrjtf3xf/app.bsky.feed.post/3l3pte3p2e325"
	const quoted = "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3l3pkqvyxyk2a"
	tests := []struct {
		name string
		line int
		skip string
		want post.Post
	}{
		{"post with facets, reply and quote", 0, "", post.Post{
			ID:       "at://did:plc:eygmaihciaxprqvxpfvl6flk/app.bsky.feed.post/3l3qo2vuowo2b",
			Author:   "did:plc:eygmaihciaxprqvxpfvl6flk",
			Time:     time.UnixMicro(1725911162329308).UTC(),
			Text:     "Same talking points again #Election2024 @alice.bsky.social see https://example.com/story",
			Lang:     "en",
			URLs:     []string{"https://example.com/story?utm_source=bsky"},
			Hashtags: []string{"election2024"},
			Mentions: []string{"did:plc:q6gjnaw2blty4crticxkmujt"},
			ReplyTo:  parent,
			QuoteOf:  quoted,
		}},
		{"identity", 1, "identity", post.Post{}},
		{"account", 2, "account", post.Post{}},
		{"delete", 3, "delete", post.Post{}},
		{"like", 4, "collection app.bsky.feed.like", post.Post{}},
		{"repost", 5, "", post.Post{
			ID:       "at://did:plc:abcdefghijklmnopqrstuvwx/app.bsky.feed.repost/3l3qo3bbbbb2b",
			Author:   "did:plc:abcdefghijklmnopqrstuvwx",
			Time:     time.UnixMicro(1725911163000001).UTC(),
			RepostOf: parent,
		}},
		{"quote with images, backdated createdAt", 6, "", post.Post{
			ID:       "at://did:plc:abcdefghijklmnopqrstuvwx/app.bsky.feed.post/3l3qo4bbbbb2b",
			Author:   "did:plc:abcdefghijklmnopqrstuvwx",
			Time:     time.UnixMicro(1725911164000002).UTC(),
			Text:     "olha isso",
			Lang:     "pt",
			Hashtags: []string{"eleições"},
			QuoteOf:  quoted,
			MediaHashes: []string{"bafkreibme22gw2h7y2eh2ugvn2tbkdrevz6vtrntk5lq3kdx6i5kxdh3ra",
				"bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"},
		}},
		{"update with external link, did:web", 7, "", post.Post{
			ID:     "at://did:web:news.example/app.bsky.feed.post/3l3qo5bbbbb2b",
			Author: "did:web:news.example",
			Time:   time.UnixMicro(1725911165000003).UTC(),
			Text:   "Read more",
			URLs:   []string{"https://news.example/article/1"},
		}},
		{"embedded feed generator is not a quote", 8, "", post.Post{
			ID:     "at://did:plc:abcdefghijklmnopqrstuvwx/app.bsky.feed.post/3l3qo6bbbbb2b",
			Author: "did:plc:abcdefghijklmnopqrstuvwx",
			Time:   time.UnixMicro(1725911166000004).UTC(),
			Text:   "quoting a feed",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := decodeEvent("ev", evs[tc.line], testNow)
			if err != nil {
				t.Fatal(err)
			}
			if d.skip != tc.skip {
				t.Fatalf("skip %q, want %q", d.skip, tc.skip)
			}
			if d.timeUS == 0 || d.key == "" {
				t.Errorf("time_us %d key %q", d.timeUS, d.key)
			}
			if tc.skip != "" {
				return
			}
			tc.want.Schema, tc.want.Platform = post.SchemaVersion, post.PlatformBluesky
			if !reflect.DeepEqual(d.post, tc.want) {
				t.Errorf("got  %#v\nwant %#v", d.post, tc.want)
			}
		})
	}
}

func TestDecodeEventErrors(t *testing.T) {
	post0 := string(testEvents(t)[0])
	tests := []struct {
		name, in, field string
	}{
		{"garbage", `{"did":"did:plc:x","time_us":`, ""},
		{"not an object", `"hello"`, "(record)"},
		{"no kind", `{"did":"did:plc:x","time_us":1}`, "kind"},
		{"commit missing", `{"did":"did:plc:x","time_us":1725911162329308,"kind":"commit"}`, "commit"},
		{"unknown operation", strings.Replace(post0, `"create"`, `"merge"`, 1), "commit.operation"},
		{"not a did", strings.Replace(post0, `"did":"did:plc:eygmaihciaxprqvxpfvl6flk"`, `"did":"alice.bsky.social"`, 1), "did"},
		{"bad rkey", strings.Replace(post0, `"rkey":"3l3qo2vuowo2b"`, `"rkey":"a/b"`, 1), "commit.rkey"},
		{"no time", strings.Replace(post0, `"time_us":1725911162329308`, `"time_us":0`, 1), "time_us"},
		{"time in the future", strings.Replace(post0, `"time_us":1725911162329308`, `"time_us":4102444800000000`, 1), "time_us"},
		{"record missing", `{"did":"did:plc:x","time_us":1725911162329308,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"k"}}`, "commit.record"},
		{"text of the wrong type", strings.Replace(post0, `"text":"Same`, `"text":5,"x":"Same`, 1), "commit.record.text"},
		{"repost without subject", `{"did":"did:plc:x","time_us":1725911162329308,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.repost","rkey":"k","record":{"subject":{}}}}`, "commit.record.subject.uri"},
		{"text too long", strings.Replace(post0, `"text":"Same`, `"text":"`+strings.Repeat("x", post.MaxTextLen)+`Same`, 1), "text"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeEvent("ev#3", []byte(tc.in), testNow)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), "ev#3") {
				t.Errorf("error %q does not name the record", err)
			}
			var fe *post.FieldError
			if tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field) {
				t.Errorf("error %q: want field %q", err, tc.field)
			}
		})
	}
}

func TestPeekTimeUS(t *testing.T) {
	for in, want := range map[string]int64{
		`{"did":"did:plc:x","time_us":1725911162329308,"kind":"commit","commit":{"record":{"text":"xxxxx`: 1725911162329308,
		`{"did":"did:plc:x","time_us" : 42`:  42,
		`{"did":"did:plc:x","kind":"commit"`: 0,
		`{"time_us":"1"}`:                    0,
		`{"time_us":99999999999999999999999`: 0,
	} {
		if got := peekTimeUS([]byte(in)); got != want {
			t.Errorf("peekTimeUS(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestReplayWindow(t *testing.T) {
	w := newReplayWindow(2 * time.Second)
	if !w.add("a", 1_000_000) || w.add("a", 1_000_000) {
		t.Fatal("duplicate not detected")
	}
	w.add("b", 2_500_000)
	w.add("c", 3_100_000) // "a" is now older than newest - margin
	if !w.add("a", 1_000_000) {
		t.Error("an event older than the margin is still remembered")
	}
	if w.add("b", 2_500_000) {
		t.Error("an event within the margin was forgotten")
	}
	for i := 0; i < maxWindow+100; i++ {
		w.add(strconv.Itoa(i), 3_100_000)
	}
	if len(w.keys) > maxWindow {
		t.Errorf("window holds %d keys", len(w.keys))
	}
}
