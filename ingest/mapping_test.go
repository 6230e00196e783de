package ingest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

var testCSVMapping = FieldMapping{
	ID: "Tweet ID", Author: "User", Time: "Posted", Text: "Body", URLs: "Links", Hashtags: "Tags",
	ReplyTo: "Reply", Platform: "Net", ListSeparator: ";", DefaultPlatform: post.PlatformTwitter,
}

// TestMappedCSV reads a generic CSV through a mapping: values land in
// their post fields, and bad rows name the file's own column.
func TestMappedCSV(t *testing.T) {
	c := openTestCSV(t, filepath.Join("testdata", "mapped.csv"), CSVOptions{Format: CSVGeneric, Mapping: &testCSVMapping})
	posts, bad := readCSVAll(t, c)
	if len(posts) != 2 {
		t.Fatalf("got %d posts, want 2: %+v", len(posts), posts)
	}
	p := posts[0]
	if p.Platform != post.PlatformMastodon || p.ID != "1" || p.Author != "alice" ||
		!p.Time.Equal(time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC)) || p.Text != "hello https://Example.org/a?utm_source=x" ||
		strings.Join(p.Hashtags, ",") != "vote,eu" || len(p.URLs) != 1 {
		t.Errorf("first post = %+v", p)
	}
	q := posts[1]
	if q.Platform != post.PlatformTwitter || q.ReplyTo != "1" || !q.Time.Equal(time.Date(2024, 6, 1, 8, 0, 5, 0, time.UTC)) || q.URLs != nil {
		t.Errorf("second post = %+v", q)
	}
	want := []struct {
		line  int64
		field string
	}{{4, "User"}, {5, "Posted"}}
	if len(bad) != len(want) {
		t.Fatalf("got %d bad records, want %d: %v", len(bad), len(want), bad)
	}
	for i, w := range want {
		var fe *post.FieldError
		if bad[i].Line != w.line || !errors.As(bad[i], &fe) || fe.Field != w.field {
			t.Errorf("bad record %d = line %d %v; want line %d field %q", i, bad[i].Line, bad[i], w.line, w.field)
		}
	}
}

func TestMappedCSVHeaderErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		m    *FieldMapping
		want string
	}{
		{"no mapping", nil, "needs a field mapping"},
		{"incomplete", &FieldMapping{ID: "Tweet ID"}, "no source for author, time"},
		{"absent column", &FieldMapping{ID: "Tweet ID", Author: "User", Time: "When"}, `"When"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OpenCSV(filepath.Join("testdata", "mapped.csv"), CSVOptions{Format: CSVGeneric, Mapping: tt.m}, Position{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestMappedJSONL(t *testing.T) {
	m := FieldMapping{ID: "post.id", Author: "user.id", Time: "post.ts", Text: "text", Hashtags: "tags", URLs: "links",
		Handle: "user.name", DefaultPlatform: post.PlatformTelegram}
	j, err := OpenMappedJSONL(filepath.Join("testdata", "mapped.jsonl"), m, Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	var posts []post.Post
	var lines []int64
	for {
		p, err := j.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		var re *RecordError
		if errors.As(err, &re) {
			lines = append(lines, re.Line)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		posts = append(posts, p)
	}
	if len(posts) != 2 || posts[0].ID != "10" || posts[0].Author != "u1" || posts[0].Account == nil || posts[0].Account.Handle != "Ann" ||
		strings.Join(posts[0].Hashtags, ",") != "a,b" || !posts[0].Time.Equal(time.Unix(1717236000, 0)) ||
		posts[1].ID != "11" || !posts[1].Time.Equal(time.UnixMilli(1717236001500)) || posts[1].Platform != post.PlatformTelegram {
		t.Fatalf("posts = %+v", posts)
	}
	if want := []int64{4, 5, 6}; !equalInts(lines, want) {
		t.Errorf("bad lines = %v, want %v", lines, want)
	}
	if pos := j.Position(); pos.Line != 6 {
		t.Errorf("position %+v, want line 6", pos)
	}
	if _, err := OpenMappedJSONL(filepath.Join("testdata", "mapped.jsonl"), FieldMapping{ID: "x"}, Position{}); err == nil {
		t.Error("incomplete mapping accepted")
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseMappedTime(t *testing.T) {
	for _, tt := range []struct {
		in, format string
		want       time.Time
		bad        bool
	}{
		{"1717236000", "", time.Unix(1717236000, 0), false},
		{"1717236000.25", "", time.Unix(1717236000, 250e6), false},
		{"1717236000123", "", time.UnixMilli(1717236000123), false},
		{"2024-06-01T10:00:00Z", "", time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC), false},
		{"1717236000", "unix_ms", time.UnixMilli(1717236000), false},
		{"01/06/2024 10:00", "02/01/2006 15:04", time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC), false},
		{"soon", "", time.Time{}, true},
		{"", "", time.Time{}, true},
		{"x", "unix_ms", time.Time{}, true},
	} {
		got, err := parseMappedTime(tt.in, tt.format)
		if (err != nil) != tt.bad || (!tt.bad && !got.Equal(tt.want)) {
			t.Errorf("parseMappedTime(%q, %q) = %v, %v; want %v (error %v)", tt.in, tt.format, got, err, tt.want, tt.bad)
		}
	}
}

func FuzzMappedCSV(f *testing.F) {
	addSeeds(f, "mapped.csv")
	f.Add([]byte("Tweet ID,User,Posted\n\"1\",a,1e9\n2,b,\"2024-01-01T00:00:00Z\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzCSV(t, data, CSVOptions{Format: CSVGeneric, Mapping: &testCSVMapping})
	})
}

func FuzzMappedJSON(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "mapped.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	for l := range bytes.SplitSeq(b, []byte("\n")) {
		f.Add(l)
	}
	m := FieldMapping{ID: "post.id", Author: "user.id", Time: "post.ts", Text: "text", Hashtags: "tags", URLs: "links", Handle: "user.name"}
	f.Fuzz(func(t *testing.T, line []byte) {
		p, err := DecodeMappedJSON(&m, nil, line)
		if err != nil {
			var fe *post.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("invalid post returned: %v", err)
		}
	})
}
