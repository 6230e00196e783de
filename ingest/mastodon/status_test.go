package mastodon

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var testNow = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)

func TestDecodeStatus(t *testing.T) {
	dec := Decoder{Instance: "mastodon.social", Now: func() time.Time { return testNow }}
	tests := []struct {
		file string
		want post.Post // Account is checked apart
	}{
		{"status.json", post.Post{
			ID: "mastodon.social:103270115826048975", Author: "gargron@mastodon.social",
			Time: time.Date(2019, 12, 8, 3, 48, 33, 901e6, time.UTC),
			Text: "\"I lost my inheritance with one wrong digit on my sort code\"\n\n" +
				"https://www.theguardian.com/money/2019/dec/07/i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code",
			Lang: "en",
			URLs: []string{"https://www.theguardian.com/money/2019/dec/07/i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code"},
		}},
		{"reply.json", post.Post{
			ID: "mastodon.social:108914327388663283", Author: "freon@letsalllovela.in",
			Time:     time.Date(2022, 8, 30, 23, 5, 46, 839e6, time.UTC),
			Text:     "@disarray glad i was able to help",
			Mentions: []string{"disarray@pl.nulled.red"},
			ReplyTo:  "mastodon.social:108914298452377720",
		}},
		{"edit.json", post.Post{
			ID: "mastodon.social:109348677773283527", Author: "admin@mastodon.social",
			Time: time.Date(2022, 11, 15, 16, 6, 48, 410e6, time.UTC), Text: "edited", Lang: "en",
		}},
		{"reblog.json", post.Post{
			ID: "mastodon.social:112540286361046541", Author: "relay_fan@mastodon.social",
			Time:     time.Date(2024, 5, 30, 9, 12, 3, 118e6, time.UTC),
			RepostOf: "mastodon.social:112540270066581234",
			Text:     "Le débat de ce soir\u00a0: tout ce qu'il faut savoir https://www.example-news.fr/politique/debat-2024?utm_source=mastodon\n\n#Européennes2024 #Débat @Candidate",
			Lang:     "fr",
			URLs:     []string{"https://www.example-news.fr/politique/debat-2024?utm_source=mastodon", "https://www.example-news.fr/politique/debat-2024"},
			Hashtags: []string{"européennes2024", "débat"},
			Mentions: []string{"candidate@mastodon.social"},
		}},
		{"quote.json", post.Post{
			ID: "mastodon.social:115103322009897114", Author: "veille@mastodon.social",
			Time:    time.Date(2025, 10, 2, 18, 20, 11, 502e6, time.UTC),
			Text:    "Politique\n\nEncore une promesse…\nVoir aussi example.org/fact-check/42",
			Lang:    "fr",
			URLs:    []string{"https://example.org/fact-check/42"},
			QuoteOf: "mastodon.social:115103300000000001",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			p, err := dec.Decode(tc.file, readTestdata(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if p.Account == nil || p.Account.ID != p.Author || !p.Account.ObservedAt.Equal(testNow) {
				t.Errorf("account snapshot %+v", p.Account)
			}
			p.Account = nil
			tc.want.Schema, tc.want.Platform = post.SchemaVersion, post.PlatformMastodon
			if !reflect.DeepEqual(p, tc.want) {
				t.Errorf("got  %#v\nwant %#v", p, tc.want)
			}
		})
	}
}

func TestDecodeAccountSnapshot(t *testing.T) {
	dec := Decoder{Instance: "mastodon.social", Now: func() time.Time { return testNow }}
	p, err := dec.Decode("r", readTestdata(t, "status.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := &post.Account{
		Platform: post.PlatformMastodon, ID: "gargron@mastodon.social", Handle: "gargron@mastodon.social",
		Name:        "Eugen",
		Description: "Developer of Mastodon and administrator of mastodon.social. I post service announcements, development updates, and personal stuff.",
		CreatedAt:   time.Date(2016, 3, 16, 14, 34, 26, 392e6, time.UTC),
		Followers:   322930, Following: 459, Posts: 61323, ObservedAt: testNow,
	}
	if !reflect.DeepEqual(p.Account, want) {
		t.Errorf("got  %#v\nwant %#v", p.Account, want)
	}
	p, err = dec.Decode("r", readTestdata(t, "edit.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Account.DefaultProfile {
		t.Error("missing.png avatar not taken as a default profile")
	}
}

func TestDecodeStatusErrors(t *testing.T) {
	dec := Decoder{Instance: "i.example", Now: func() time.Time { return testNow }}
	ok := `{"id":"1","created_at":"2024-01-01T00:00:00Z","content":"<p>hi</p>","account":{"acct":"a"}}`
	tests := []struct {
		name, in, field string
	}{
		{"garbage", `{"id":`, ""},
		{"not an object", `[1,2]`, "(record)"},
		{"no id", `{"created_at":"2024-01-01T00:00:00Z","account":{"acct":"a"}}`, "id"},
		{"id of the wrong type", `{"id":{"x":1},"created_at":"2024-01-01T00:00:00Z","account":{"acct":"a"}}`, "id"},
		{"no account", `{"id":"1","created_at":"2024-01-01T00:00:00Z"}`, "account.acct"},
		{"bad time", `{"id":"1","created_at":"yesterday","account":{"acct":"a"}}`, "created_at"},
		{"no time", `{"id":"1","account":{"acct":"a"}}`, "created_at"},
		{"future", `{"id":"1","created_at":"2030-01-01T00:00:00Z","account":{"acct":"a"}}`, "created_at"},
		{"year 1970", `{"id":"1","created_at":"1970-01-01T00:00:00Z","account":{"acct":"a"}}`, "time"},
		{"tags of the wrong type", strings.Replace(ok, `"content"`, `"tags":"x","content"`, 1), "tags"},
		{"reblog without id", strings.Replace(ok, `"content"`, `"reblog":{"content":"x"},"content"`, 1), "reblog.id"},
		{"text too long", strings.Replace(ok, "hi", strings.Repeat("a", post.MaxTextLen+1), 1), "text"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dec.Decode("event 7", []byte(tc.in))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), "event 7") {
				t.Errorf("error %q does not name the record", err)
			}
			var fe *post.FieldError
			if tc.field == "" {
				return
			}
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Errorf("error %q: want field %q", err, tc.field)
			}
		})
	}
	if _, err := dec.Decode("r", []byte(ok)); err != nil {
		t.Errorf("valid status rejected: %v", err)
	}
	// Numeric IDs, as some servers send, are accepted.
	p, err := dec.Decode("r", []byte(strings.Replace(ok, `"id":"1"`, `"id":12345678901234567890`, 1)))
	if err != nil || p.ID != "i.example:12345678901234567890" {
		t.Errorf("numeric id: %v %q", err, p.ID)
	}
}
