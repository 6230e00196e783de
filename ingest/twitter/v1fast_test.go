package twitter

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/post"
)

// decodeV1Reflect is DecodeV1 as it was before fastjson: encoding/json
// into v1Tweet. It is the reference the fast decoder is compared with.
func decodeV1Reflect(record string, b []byte) (post.Post, string, error) {
	var t v1Tweet
	if err := json.Unmarshal(b, &t); err != nil {
		return post.Post{}, "", jsonError(record, err)
	}
	if k := t.notice(); k != "" {
		return post.Post{}, k, nil
	}
	p, err := t.toPost(record)
	return p, "", err
}

// v1Samples returns every v1.1 sample record: the lines of v1.jsonl
// (tweets, notices and bad records) and the pretty-printed files, plus a
// few records of wrong types and odd values.
func v1Samples(t *testing.T) [][]byte {
	var out [][]byte
	b, err := os.ReadFile("testdata/v1.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, bytes.Clone(sc.Bytes()))
	}
	files, _ := filepath.Glob("testdata/v1/*.json")
	if len(files) == 0 {
		t.Fatal("no testdata/v1/*.json")
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	for _, s := range []string{
		`null`, `[]`, `5`, `{}`,
		`{"id":1,"user":{"id":2},"timestamp_ms":"1","retweeted_status":{"id":3,"user":null}}`,
		`{"id":1,"user":{"id":2,"followers_count":"x"},"timestamp_ms":"1"}`,
		`{"id":1,"user":{"id":2,"followers_count":1.5},"timestamp_ms":"1"}`,
		`{"id":1,"user":{"id":2,"verified":1},"timestamp_ms":"1"}`,
		`{"id":1,"user":[],"timestamp_ms":"1"}`,
		`{"id":1,"text":5,"user":{"id":2},"timestamp_ms":"1"}`,
		`{"id":1,"user":{"id":2},"timestamp_ms":true}`,
		`{"id":1.5e3,"user":{"id":"2"},"created_at":"Wed Oct 10 20:19:24 +0000 2018"}`,
		`{"id_str":"7","user":{"id_str":"2","screen_name":"a"},"timestamp_ms":"1540000000000","text":"caf\u00e9 \ud83d\ude00 #x","entities":{"hashtags":[{"text":"x"},null],"urls":[{"url":"https://t.co/a","expanded_url":"https://example.org/a"}],"user_mentions":null}}`,
		"{\"id_str\":\"7\",\"user\":{\"id_str\":\"2\"},\"timestamp_ms\":\"1540000000000\",\"text\":\"bad \xff\xfe bytes\"}",
		`{"id_str":"7","user":{"id_str":"2"},"timestamp_ms":"1540000000000","entities":{"hashtags":{}}}`,
		`{"id_str":"7","user":{"id_str":"2"},"timestamp_ms":"1540000000000","retweeted_status":{"id_str":"8","user":{"screen_name":5}}}`,
		`{"delete":{"status":{"id":1}}}`, `{"limit":{"track":3}}`, `{"warning":null}`,
		`{"id":1,"user":{"id":2}`, `{"id":1}x`,
	} {
		out = append(out, []byte(s))
	}
	return out
}

// TestV1DecodeMatchesEncodingJSON decodes every sample with the fastjson
// decoder and with encoding/json: the posts and notices must be equal,
// and a record one rejects the other must reject too (the messages differ
// for syntax errors, so only type errors are compared word for word).
func TestV1DecodeMatchesEncodingJSON(t *testing.T) {
	for i, b := range v1Samples(t) {
		want, wantNotice, wantErr := decodeV1Reflect("s:1", b)
		got, gotNotice, gotErr := DecodeV1("s:1", b)
		if (gotErr != nil) != (wantErr != nil) {
			t.Errorf("sample %d %.80q: error %v, encoding/json %v", i, b, gotErr, wantErr)
			continue
		}
		if wantErr != nil {
			var gf, wf *post.FieldError
			if asFieldError(wantErr, &wf) && (!asFieldError(gotErr, &gf) || *gf != *wf) {
				t.Errorf("sample %d %.80q: error %v, encoding/json %v", i, b, gotErr, wantErr)
			}
			continue
		}
		if gotNotice != wantNotice || !reflect.DeepEqual(got, want) {
			t.Errorf("sample %d %.80q:\n got %q %+v\nwant %q %+v", i, b, gotNotice, got, wantNotice, want)
		}
	}
}

func asFieldError(err error, dst **post.FieldError) bool {
	fe, ok := err.(*post.FieldError)
	if ok {
		*dst = fe
	}
	return ok
}

// TestV1FileReusesParser reads a file whose records differ in shape with
// one parser: a post must not keep strings of an earlier record's buffer.
func TestV1FileReusesParser(t *testing.T) {
	f, err := OpenV1File("testdata/v1.jsonl", ingest.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []post.Post
	for {
		p, err := f.Next(t.Context())
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			continue // a bad record
		}
		got = append(got, p)
	}
	b, _ := os.ReadFile("testdata/v1.jsonl")
	var want []post.Post
	for line := range bytes.SplitSeq(bytes.TrimSpace(b), []byte("\n")) {
		if p, n, err := decodeV1Reflect("x", line); err == nil && n == "" {
			want = append(want, p)
		}
	}
	if len(got) == 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("read %d posts, encoding/json %d; differ: %v", len(got), len(want), !reflect.DeepEqual(got, want))
	}
}
