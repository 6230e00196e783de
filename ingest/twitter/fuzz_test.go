package twitter

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigie-osint/vigie/ingest"
)

// seedLines adds every line of a testdata file to a fuzz corpus.
func seedLines(f *testing.F, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f.Add(bytes.Clone(sc.Bytes()))
	}
}

func FuzzV1Line(f *testing.F) {
	seedLines(f, "testdata/v1.jsonl")
	files, _ := filepath.Glob("testdata/v1/*.json")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Add([]byte(`{"id":1,"user":{"id":2},"timestamp_ms":"1","retweeted_status":{"id":3,"user":null}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, notice, err := DecodeV1("fuzz.jsonl:7", b)
		switch {
		case err != nil:
			if !strings.Contains(err.Error(), "fuzz.jsonl:7") {
				t.Fatalf("error does not name the record: %v", err)
			}
		case notice != "":
			if p.ID != "" {
				t.Fatalf("notice %q with a post %+v", notice, p)
			}
		default:
			if verr := p.Validate(); verr != nil {
				t.Fatalf("invalid post returned: %v", verr)
			}
		}
	})
}

func FuzzV2Page(f *testing.F) {
	seedLines(f, "testdata/v2.jsonl")
	f.Add([]byte(`{"data":{"id":"1","referenced_tweets":[{"type":"retweeted","id":"2"}]},"includes":{"tweets":[{"id":"2","note_tweet":{}}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		items, skipped, err := decodeV2("fuzz.jsonl:3", b)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.jsonl:3") {
				t.Fatalf("error does not name the record: %v", err)
			}
			return
		}
		if skipped != "" && len(items) > 0 {
			t.Fatalf("skipped %q with %d items", skipped, len(items))
		}
		for _, it := range items {
			if it.err != nil {
				if !strings.Contains(it.err.Error(), "fuzz.jsonl:3") {
					t.Fatalf("error does not name the record: %v", it.err)
				}
				continue
			}
			if verr := it.p.Validate(); verr != nil {
				t.Fatalf("invalid post returned: %v", verr)
			}
		}
	})
}

func FuzzIOArchiveRow(f *testing.F) {
	b, err := os.ReadFile("testdata/io_tweets.csv")
	if err != nil {
		f.Fatal(err)
	}
	head, rows, _ := strings.Cut(string(b), "\r\n")
	for _, r := range strings.Split(rows, "\r\n") {
		f.Add(head, r)
	}
	f.Add("tweet_time,userid,tweetid,urls", `2017-05-05 19:02,u,1,"[""a"", 'b\'"`)
	f.Fuzz(func(t *testing.T, header, row string) {
		src, err := NewIOArchiveCSV("fuzz.csv", strings.NewReader(header+"\n"+row))
		if err != nil {
			var re *ingest.RecordError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), "fuzz.csv") {
				t.Fatalf("header error does not name the record: %v", err)
			}
			return
		}
		for i := 0; i < 1000; i++ {
			p, err := src.Next(context.Background())
			if errors.Is(err, io.EOF) {
				return
			}
			var re *ingest.RecordError
			if errors.As(err, &re) {
				if !strings.Contains(err.Error(), "fuzz.csv:") || re.Line < 2 {
					t.Fatalf("error does not name the record: %v (line %d)", err, re.Line)
				}
				continue
			}
			if err != nil {
				t.Fatalf("fatal error from a string: %v", err)
			}
			if verr := p.Validate(); verr != nil {
				t.Fatalf("invalid post returned: %v", verr)
			}
		}
		t.Fatal("no EOF after 1000 records")
	})
}
