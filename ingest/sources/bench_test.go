package sources_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/bus"
	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/ingest/sources"
	"github.com/vigie-osint/vigie/pipeline"
	"github.com/vigie-osint/vigie/store/sqlite"
)

// BenchmarkIngestOntoBroker measures file ingest end to end, as `vigie
// ingest file` runs it: read and decode the file, normalise (canonical
// URLs, dedupe by platform ID), encode, and produce onto the embedded
// broker with acks from all in-sync replicas (the broker fsyncs every
// batch), saving the checkpoint in the embedded store after each batch.
// Each iteration ingests the whole file into fresh topics.
//
//	go test -run XXX -bench IngestOntoBroker -benchtime 1x ./ingest/sources/
func BenchmarkIngestOntoBroker(b *testing.B) {
	dir := b.TempDir()
	cases := []struct {
		name, format, path string
		rows               int
	}{
		{"coortweet-csv", sources.FormatCooRTweet, filepath.Join(dir, "coortweet.csv"), 300_000},
		{"twitter-v1-json", sources.FormatTwitterV1, filepath.Join(dir, "v1.jsonl"), 60_000},
	}
	writeCooRTweet(b, cases[0].path, cases[0].rows)
	writeTwitterV1(b, cases[1].path, cases[1].rows)

	e, err := bus.StartEmbedded(bus.EmbeddedConfig{Dir: filepath.Join(dir, "broker")})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	cfg := bus.Config{Brokers: []string{e.Addr()}}
	run := 0
	for _, c := range cases {
		st, err := os.Stat(c.path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(st.Size())
			var posts int64
			cpu0 := cpuTime()
			for b.Loop() {
				b.StopTimer()
				run++
				topics := pipeline.TopicsWithPrefix(fmt.Sprintf("bench%d.", run))
				var specs []bus.TopicSpec
				for _, t := range topics.All() {
					specs = append(specs, bus.TopicSpec{Name: t, Partitions: 1, ReplicationFactor: 1})
				}
				if err := bus.EnsureTopics(context.Background(), cfg, specs...); err != nil {
					b.Fatal(err)
				}
				store, err := sqlite.Open(context.Background(), filepath.Join(dir, fmt.Sprintf("s%d.db", run)), sqlite.WithLogger(slog.New(slog.DiscardHandler)))
				if err != nil {
					b.Fatal(err)
				}
				// A producer per run: kafka-go caches topic metadata.
				prod, err := bus.NewProducer(cfg)
				if err != nil {
					b.Fatal(err)
				}
				stats := &pipeline.Stats{}
				norm := ingest.NewNormaliser(1_000_000)
				norm.DetectLanguage = true
				in := &pipeline.Ingest{Source: c.path, Format: c.format, Topics: topics, Producer: prod, Checkpoints: store,
					Normaliser: norm, Stats: stats, BatchSize: 500}
				b.StartTimer()
				if err := in.Run(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				store.Close()
				prod.Close()
				if got := stats.Ingested.Load(); got != int64(c.rows) {
					b.Fatalf("ingested %d posts of %d (dead letters %d, duplicates %d)", got, c.rows, stats.DeadLetters.Load(), stats.Duplicates.Load())
				}
				posts += stats.Ingested.Load()
				b.StartTimer()
			}
			b.ReportMetric(float64(posts)/b.Elapsed().Seconds(), "posts/s")
			// CPU of the whole process (reader, normaliser, producer and
			// the in-process broker), so figures taken on a busy machine
			// can be told apart from the code's own cost.
			b.ReportMetric(float64(posts)/(cpuTime()-cpu0).Seconds(), "posts/cpu-s")
		})
	}
}

// writeCooRTweet writes CooRTweet's compact four-column layout: rows
// retweets of a few thousand tweets by 20,000 accounts, one second apart.
func writeCooRTweet(b *testing.B, path string, rows int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("object_id,account_id,content_id,timestamp_share\n")
	for i := range rows {
		fmt.Fprintf(w, "%d,%d,%d,%d\n", 1_000_000+i%5000, 10_000+(i*7919)%20_000, 90_000_000+i, 1_600_000_000+i)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
}

// writeTwitterV1 writes full v1.1 tweets as the filter stream delivers
// them: the sample tweets of ../twitter/testdata/v1 (originals, replies,
// quotes, retweets of extended tweets, 2-7 KB each) in turn, each copy
// with an ID of its own.
func writeTwitterV1(b *testing.B, path string, rows int) {
	files, err := filepath.Glob("../twitter/testdata/v1/*.json")
	if err != nil || len(files) == 0 {
		b.Fatalf("samples: %v", err)
	}
	idRe := regexp.MustCompile(`"id_str":"(\d+)"`)
	var templates [][]byte
	for _, p := range files {
		raw, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		var line bytes.Buffer
		if err := json.Compact(&line, raw); err != nil {
			b.Fatal(err)
		}
		templates = append(templates, line.Bytes())
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range rows {
		t := templates[i%len(templates)]
		m := idRe.FindSubmatch(t)
		if m == nil {
			b.Fatalf("sample without id_str: %.80s", t)
		}
		id := []byte(fmt.Sprint(900_000_000_000_000_000 + i))
		// The top-level "id" and "id_str" come first in a tweet.
		line := bytes.Replace(t, m[1], id, 2)
		w.Write(line)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
