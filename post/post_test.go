package post

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func valid() Post {
	return Post{Platform: PlatformTwitter, ID: "1", Author: "a", Time: time.Date(2017, 5, 5, 19, 0, 0, 0, time.UTC)}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Post)
		field string // "" = valid
	}{
		{"valid", func(*Post) {}, ""},
		{"no platform", func(p *Post) { p.Platform = "" }, "platform"},
		{"no id", func(p *Post) { p.ID = "" }, "id"},
		{"long id", func(p *Post) { p.ID = strings.Repeat("9", MaxIDLen+1) }, "id"},
		{"newline in author", func(p *Post) { p.Author = "a\nb" }, "author"},
		{"zero time", func(p *Post) { p.Time = time.Time{} }, "time"},
		{"far future", func(p *Post) { p.Time = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC) }, "time"},
		{"bad utf8 text", func(p *Post) { p.Text = "\xff\xfe" }, "text"},
		{"huge text", func(p *Post) { p.Text = strings.Repeat("x", MaxTextLen+1) }, "text"},
		{"empty url", func(p *Post) { p.URLs = []string{"https://a", ""} }, "urls[1]"},
		{"too many hashtags", func(p *Post) { p.Hashtags = make([]string, MaxListLen+1) }, "hashtags"},
		{"bad repost ref", func(p *Post) { p.RepostOf = "x\x00" }, "repost_of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := valid()
			tt.edit(&p)
			err := p.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("got %v, want a FieldError on %q", err, tt.field)
			}
		})
	}
}

func TestSchemaTooNew(t *testing.T) {
	_, err := DecodePost("x:1", []byte(`{"schema":99,"platform":"twitter","id":"1","author":"a","time":"2017-05-05T19:00:00Z"}`))
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("got %v, want ErrSchemaTooNew", err)
	}
}

func TestRoundTrip(t *testing.T) {
	p := valid()
	p.URLs = []string{"https://lemonde.fr/a"}
	p.Account = &Account{Platform: PlatformTwitter, ID: "a", Handle: "h", CreatedAt: time.Date(2017, 4, 1, 0, 0, 0, 0, time.UTC)}
	b, err := Marshal(&p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"schema":1`) {
		t.Errorf("Marshal did not stamp the schema version: %s", b)
	}
	back, err := DecodePost("r", b)
	if err != nil {
		t.Fatal(err)
	}
	if back.Key() != "twitter:1" || back.AuthorKey() != "twitter:a" || !back.Time.Equal(p.Time) || back.Account.Handle != "h" {
		t.Errorf("round trip changed the post: %+v", back)
	}
}

func TestStableID(t *testing.T) {
	a := StableID("c-", "x", "y")
	if a != StableID("c-", "x", "y") || !strings.HasPrefix(a, "c-") || len(a) != 18 {
		t.Errorf("StableID not stable or badly formed: %q", a)
	}
	// Joining with a separator keeps ("xy","") apart from ("x","y").
	if StableID("c-", "xy", "") == a || StableID("c-", "y", "x") == a {
		t.Error("StableID collides on different parts")
	}
}

func FuzzDecodePost(f *testing.F) {
	f.Add([]byte(`{"platform":"twitter","id":"1","author":"a","time":"2017-05-05T19:00:00Z"}`))
	f.Add([]byte(`{"id":1}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePost("fuzz", b)
		if err == nil && p.Validate() != nil {
			t.Fatal("DecodePost returned an invalid post without error")
		}
		if err != nil && !strings.Contains(err.Error(), "fuzz") {
			t.Fatalf("error does not name the record: %v", err)
		}
		for _, dec := range []func(string, []byte) error{
			func(r string, b []byte) error { _, err := DecodeCluster(r, b); return err },
			func(r string, b []byte) error { _, err := DecodeAlert(r, b); return err },
		} {
			if err := dec("fuzz", b); err != nil && !strings.Contains(err.Error(), "fuzz") {
				t.Fatalf("error does not name the record: %v", err)
			}
		}
	})
}
