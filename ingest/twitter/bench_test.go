package twitter

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"testing"

	//lint:ignore SA1019 the stream decodes with go-twitter (see Stream); this compares it.
	gotwitter "github.com/dghubble/go-twitter/twitter"
)

// BenchmarkV1Decode decodes a streamed retweet of an extended tweet (6.5
// KB, with both users, extended_tweet and extended_entities) into a
// normalised, validated post: "compact" is the file path (fastjson into
// v1Tweet), "encoding-json" the same before fastjson (encoding/json into
// v1Tweet),
// "go-twitter" the stream's (go-twitter's full Tweet, then the same
// mapping), for comparison with the figures in facts.md.
func BenchmarkV1Decode(b *testing.B) {
	raw, err := os.ReadFile("testdata/v1/retweet.json")
	if err != nil {
		b.Fatal(err)
	}
	var line bytes.Buffer
	if err := json.Compact(&line, raw); err != nil {
		b.Fatal(err)
	}
	b.Run("compact", func(b *testing.B) {
		b.SetBytes(int64(line.Len()))
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := DecodeV1("bench:1", line.Bytes()); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
	})
	b.Run("encoding-json", func(b *testing.B) { // the file path before fastjson
		b.SetBytes(int64(line.Len()))
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := decodeV1Reflect("bench:1", line.Bytes()); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
	})
	b.Run("go-twitter", func(b *testing.B) {
		b.SetBytes(int64(line.Len()))
		b.ReportAllocs()
		for b.Loop() {
			var t gotwitter.Tweet
			if err := json.Unmarshal(line.Bytes(), &t); err != nil {
				b.Fatal(err)
			}
			if _, err := fromGoTwitter(&t).toPost("bench:1"); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
	})
}

// BenchmarkIOArchiveDecode reads an archive CSV made of the sample's
// valid records repeated (quoted multi-line text, lists, hashed and
// unhashed accounts, CRLF) through the whole source: encoding/csv, the
// column map and the mapping.
func BenchmarkIOArchiveDecode(b *testing.B) {
	raw, err := os.ReadFile("testdata/io_tweets.csv")
	if err != nil {
		b.Fatal(err)
	}
	// Keep the sample's valid records (a lenient reader gets past the
	// bad ones).
	r := csv.NewReader(bytes.NewReader(raw))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	recs, err := r.ReadAll()
	if err != nil {
		b.Fatal(err)
	}
	cols, err := newIOCols(recs[0])
	if err != nil {
		b.Fatal(err)
	}
	var data bytes.Buffer
	w := csv.NewWriter(&data)
	w.UseCRLF = true
	w.Write(recs[0])
	const copies = 200
	per := 0
	for _, rec := range recs[1:] {
		if len(rec) == len(recs[0]) {
			if _, err := decodeIORecord("x", cols, rec); err == nil {
				per++
			}
		}
	}
	for range copies {
		for _, rec := range recs[1:] {
			if len(rec) == len(recs[0]) {
				if _, err := decodeIORecord("x", cols, rec); err == nil {
					w.Write(rec)
				}
			}
		}
	}
	w.Flush()
	b.SetBytes(int64(data.Len()))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		src, err := NewIOArchiveCSV("bench.csv", bytes.NewReader(data.Bytes()))
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := src.Next(context.Background())
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	if n != b.N*copies*per {
		b.Fatalf("%d posts, want %d", n, b.N*copies*per)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "posts/s")
}
