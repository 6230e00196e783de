package ingest

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigie-osint/vigie/post"
)

func readAll(t *testing.T, path string, from Position) (posts []post.Post, bad []*RecordError, end Position) {
	t.Helper()
	j, err := OpenJSONL(path, from)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for {
		p, err := j.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return posts, bad, j.Position()
		}
		var re *RecordError
		if errors.As(err, &re) {
			bad = append(bad, re)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		posts = append(posts, p)
	}
}

func TestJSONLMixed(t *testing.T) {
	posts, bad, _ := readAll(t, "testdata/mixed.jsonl", Position{})
	var ids []string
	for _, p := range posts {
		ids = append(ids, p.ID)
	}
	if got := strings.Join(ids, ","); got != "1,2,6" {
		t.Errorf("good posts = %s, want 1,2,6", got)
	}
	want := []struct {
		line int64
		msg  string
	}{
		{3, "invalid JSON"},
		{5, `field "author": missing`},
		{6, `field "time": year 1970`},
		{7, `field "id": cannot hold a JSON number`},
		{9, `field "time": 2099-01-01T00:00:00Z is more than 1h0m0s in the future`},
	}
	if len(bad) != len(want) {
		t.Fatalf("bad records = %d (%v), want %d", len(bad), bad, len(want))
	}
	for i, w := range want {
		if bad[i].Line != w.line || !strings.Contains(bad[i].Error(), w.msg) || !strings.Contains(bad[i].Error(), "mixed.jsonl") {
			t.Errorf("bad[%d] = line %d %q, want line %d containing %q", i, bad[i].Line, bad[i].Error(), w.line, w.msg)
		}
	}
	if got := posts[0].Hashtags; len(got) != 1 || got[0] != "macronleaks" {
		t.Errorf("hashtags not case-folded and de-duplicated: %q", got)
	}
	if got := posts[0].Mentions; len(got) != 1 || got[0] != "emmanuelmacron" {
		t.Errorf("mentions not normalised: %q", got)
	}
}

func TestJSONLResume(t *testing.T) {
	// Read a few records, then reopen at the saved position: together the
	// two reads must see every record exactly once.
	j, err := OpenJSONL("testdata/mixed.jsonl", Position{})
	if err != nil {
		t.Fatal(err)
	}
	var first []string
	for len(first) < 2 {
		p, err := j.Next(context.Background())
		if err != nil {
			continue
		}
		first = append(first, p.ID)
	}
	pos := j.Position()
	j.Close()
	rest, _, end := readAll(t, "testdata/mixed.jsonl", pos)
	var all []string
	all = append(all, first...)
	for _, p := range rest {
		all = append(all, p.ID)
	}
	if got := strings.Join(all, ","); got != "1,2,6" {
		t.Errorf("resumed read = %s, want 1,2,6", got)
	}
	st, _ := os.Stat("testdata/mixed.jsonl")
	if end.Offset != st.Size() || end.Line != 9 {
		t.Errorf("end position = %+v, want offset %d line 9", end, st.Size())
	}
}

func TestJSONLOverlongLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "long.jsonl")
	good := `{"platform":"twitter","id":"9","author":"1","time":"2017-05-05T19:00:00Z"}`
	long := `{"platform":"twitter","id":"8","author":"1","time":"2017-05-05T19:00:00Z","text":"` + strings.Repeat("a", MaxLineBytes) + `"}`
	if err := os.WriteFile(path, []byte(long+"\n"+good), 0o644); err != nil {
		t.Fatal(err)
	}
	posts, bad, _ := readAll(t, path, Position{})
	if len(bad) != 1 || bad[0].Line != 1 || !strings.Contains(bad[0].Error(), "longer than") {
		t.Fatalf("bad = %v", bad)
	}
	if len(posts) != 1 || posts[0].ID != "9" {
		t.Fatalf("the line after an overlong one was lost: %v", posts)
	}
}

func FuzzDecodeLine(f *testing.F) {
	data, _ := os.ReadFile("testdata/mixed.jsonl")
	for _, l := range strings.Split(string(data), "\n") {
		f.Add([]byte(l))
	}
	f.Add([]byte(`{"platform":"twitter","id":"1","author":"a","time":"2017-05-05T19:00:00Z","urls":[""],"hashtags":["\u0000"]}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		p, err := DecodeLine("fuzz:1", line)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz:1") {
				t.Fatalf("error does not name the record: %v", err)
			}
			return
		}
		if verr := p.Validate(); verr != nil {
			t.Fatalf("accepted a post that does not validate: %v", verr)
		}
	})
}
