package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/post"
)

var testNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func testConfig(path string) Config {
	return Config{Path: path, Location: time.FixedZone("MSK", 3*3600), Log: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return testNow }}
}

type item struct {
	p   post.Post
	bad error
	pos ingest.Position
}

func readAll(t testing.TB, src ingest.Source) []item {
	t.Helper()
	ctx := context.Background()
	var out []item
	for {
		p, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out
		}
		var re *ingest.RecordError
		switch {
		case errors.As(err, &re):
			out = append(out, item{bad: re, pos: src.Position()})
		case err != nil:
			t.Fatalf("Next: %v", err)
		default:
			out = append(out, item{p: p, pos: src.Position()})
		}
	}
}

func ids(items []item) string {
	var s []string
	for _, it := range items {
		if it.bad != nil {
			s = append(s, "!")
		} else {
			s = append(s, it.p.ID)
		}
	}
	return strings.Join(s, " ")
}

func TestExport(t *testing.T) {
	src, err := New(testConfig("testdata/result.json"), ingest.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if src.ChatName != "Новости Фронта" || src.ChatType != "public_channel" {
		t.Errorf("chat %q %q", src.ChatName, src.ChatType)
	}
	items := readAll(t, src)
	const want = "1006503122/2 1006503122/3 1006503122/4 1006503122/5 ! 1006503122/9 ! 1006503122/11"
	if got := ids(items); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	at := func(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
	acct := &post.Account{Platform: post.PlatformTelegram, ID: "channel1006503122", Name: "Новости Фронта"}
	base := post.Post{Schema: post.SchemaVersion, Platform: post.PlatformTelegram, Author: "channel1006503122", Account: acct}
	with := func(f func(p *post.Post)) post.Post {
		p := base
		f(&p)
		return p
	}
	wantPosts := map[string]post.Post{
		"1006503122/2": with(func(p *post.Post) {
			p.ID, p.Time, p.Text = "1006503122/2", at(1645671670), "Срочно: началось."
		}),
		"1006503122/3": with(func(p *post.Post) {
			p.ID, p.Time = "1006503122/3", at(1645671720)
			p.Text = "Подробности по ссылке https://example.ru/news/1?utm_source=tg и здесь. #Война @other_channel Иван"
			p.URLs = []string{"https://example.ru/news/1?utm_source=tg", "https://t.me/other_channel/77"}
			p.Hashtags = []string{"война"}
			p.Mentions = []string{"other_channel", "user5012345678"}
		}),
		"1006503122/5": with(func(p *post.Post) {
			p.ID, p.Time, p.ReplyTo = "1006503122/5", at(1645671821), "1006503122/2"
			// tdesktop wrote the vertical tab as "\x0B", which is not
			// JSON; it is read back as the character.
			p.Text = "Обновление к посту выше.\vВторая строка."
		}),
		"1006503122/9": with(func(p *post.Post) {
			p.ID, p.Time, p.Text = "1006503122/9", at(1645671960), "Что дальше?"
		}),
		"1006503122/11": with(func(p *post.Post) {
			// No date_unixtime: "date" is read in the configured zone
			// (08:07 Moscow time is 05:07 UTC).
			p.ID, p.Time = "1006503122/11", time.Date(2022, 2, 24, 5, 7, 0, 0, time.UTC)
			p.Text = "Старый экспорт: дата без часового пояса."
			p.ReplyTo = "1101806611/4410"
		}),
	}
	for _, it := range items {
		if it.bad != nil {
			continue
		}
		if w, ok := wantPosts[it.p.ID]; ok && !reflect.DeepEqual(it.p, w) {
			t.Errorf("got  %#v\nwant %#v", it.p, w)
		}
	}
	fwd := items[2].p
	if !strings.HasPrefix(fwd.RepostOf, "fwd:") || fwd.Text != "Колонна техники замечена у #Харьков" || fwd.Hashtags[0] != "харьков" {
		t.Errorf("forward %+v", fwd)
	}
	// The bad messages name the file, the message index and the field.
	for i, field := range map[int]string{4: "date_unixtime", 6: "text"} {
		var fe *post.FieldError
		re := items[i].bad.(*ingest.RecordError)
		if !errors.As(re, &fe) || fe.Field != field || !strings.Contains(re.Error(), "result.json") || re.Line == 0 || len(re.Raw) == 0 {
			t.Errorf("bad message %d: %v (field %q)", i, re, field)
		}
	}
	st := src.Stats()
	wantSkipped := map[string]int64{"service create_channel": 1, "service pin_message": 1, "type unsupported": 1}
	if !reflect.DeepEqual(st.Skipped, wantSkipped) || st.Messages != 11 || st.Posts != 6 || st.Rejected != 2 {
		t.Errorf("stats %+v", st)
	}
	// Offsets fall just after a message, even past the repaired escape.
	data, _ := os.ReadFile("testdata/result.json")
	for _, it := range items {
		if off := it.pos.Offset; off <= 0 || data[off-1] != '}' {
			t.Errorf("position %+v is not just after a message", it.pos)
		}
	}
	if p := src.Position(); p.Line != 11 {
		t.Errorf("final position %+v", p)
	}
}

// Channels forwarding the same post within seconds share one RepostOf:
// the repost co-action the graph detects.
func TestForwardsShareAKey(t *testing.T) {
	a, err := New(testConfig("testdata/result.json"), ingest.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(context.Background(), "testdata/other", ingest.Position{}) // a directory holding result.json
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	fa := readAll(t, a)[2].p
	other := readAll(t, b)
	if fa.RepostOf == "" || other[0].p.RepostOf != fa.RepostOf {
		t.Errorf("same forward, different keys: %q %q", fa.RepostOf, other[0].p.RepostOf)
	}
	if other[1].p.RepostOf == fa.RepostOf {
		t.Error("a different post of the same origin has the same key")
	}
	if d := other[0].p.Time.Sub(fa.Time); d != 4*time.Second {
		t.Errorf("forwards %v apart", d)
	}
}

func TestResume(t *testing.T) {
	full := func() []item {
		src, err := New(testConfig("testdata/result.json"), ingest.Position{})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		return readAll(t, src)
	}()
	for k := range full {
		from := full[k].pos
		for _, tc := range []struct {
			name string
			from ingest.Position
		}{
			{"offset", from},
			{"index only", ingest.Position{Line: from.Line}},
			{"stale offset", ingest.Position{Line: from.Line, Offset: from.Offset - 3}},
		} {
			t.Run(fmt.Sprintf("after %d/%s", k, tc.name), func(t *testing.T) {
				src, err := New(testConfig("testdata/result.json"), tc.from)
				if err != nil {
					t.Fatal(err)
				}
				defer src.Close()
				rest := readAll(t, src)
				if got, want := ids(rest), ids(full[k+1:]); got != want {
					t.Errorf("resumed: %q, want %q", got, want)
				}
				for i := range rest {
					if rest[i].pos != full[k+1+i].pos {
						t.Errorf("position %+v, want %+v", rest[i].pos, full[k+1+i].pos)
					}
				}
			})
		}
	}
	if _, err := New(testConfig("testdata/result.json"), ingest.Position{Line: 99}); err == nil {
		t.Error("a checkpoint past the end was accepted")
	}
}

func TestExportErrors(t *testing.T) {
	good, err := os.ReadFile("testdata/result.json")
	if err != nil {
		t.Fatal(err)
	}
	cut := good[:bytes.Index(good, []byte(`"id": 9,`))]
	tests := []struct {
		name    string
		data    string
		openErr string // "" when New succeeds
		nextErr string // the error ending the reading
	}{
		{"not JSON", "hello", "invalid JSON", ""},
		{"not an object", "[1,2]", "not a Telegram Desktop JSON export", ""},
		{"no messages", `{"name":"x","id":1}`, "no \"messages\"", ""},
		{"whole-account export", `{"about":"Here is the data you requested.","personal_information":{}}`, "whole-account export", ""},
		{"no id", `{"name":"x","messages":[]}`, "no chat \"id\"", ""},
		{"interrupted export", string(cut), "", "ends inside the export"},
		{"broken JSON mid-way", strings.Replace(string(good), `"id": 9,`, `"id": 9,,`, 1), "", "invalid JSON at byte"},
		{"empty chat", `{"name":"x","type":"private_channel","id":7,"messages":[]}`, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "result.json")
			if err := os.WriteFile(path, []byte(tc.data), 0o600); err != nil {
				t.Fatal(err)
			}
			src, err := New(testConfig(path), ingest.Position{})
			if tc.openErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.openErr) {
					t.Errorf("open error %v, want %q", err, tc.openErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			for {
				_, err = src.Next(context.Background())
				var re *ingest.RecordError
				if err != nil && !errors.As(err, &re) {
					break
				}
			}
			if tc.nextErr == "" {
				if !errors.Is(err, io.EOF) {
					t.Errorf("ended with %v, want io.EOF", err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.nextErr) || !strings.Contains(err.Error(), path) {
				t.Errorf("ended with %v, want %q naming the file", err, tc.nextErr)
			}
		})
	}
}

func TestEscapeFixer(t *testing.T) {
	in := `{"a":"x\x0By\\x","b\x1F":"\"\x01"} \x`
	want := `{"a":"x\u000By\\x","b\u001F":"\"\u0001"} \x`
	for _, one := range []bool{false, true} {
		var r io.Reader = strings.NewReader(in)
		if one {
			r = iotest.OneByteReader(r)
		}
		fx := newEscapeFixer(r)
		got, err := io.ReadAll(fx)
		if err != nil || string(got) != want {
			t.Errorf("one=%v: %q, %v", one, got, err)
		}
		// Offsets after each repair map back to the input.
		for _, c := range []struct{ out, in int64 }{{0, 0}, {6, 6}, {12, 10}, {25, 21}, {int64(len(want)), int64(len(in))}} {
			if got := fx.inputOffset(c.out); got != c.in {
				t.Errorf("one=%v: inputOffset(%d) = %d, want %d", one, c.out, got, c.in)
			}
		}
	}
}
