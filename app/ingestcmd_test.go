package app

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestIngestFileCommand runs `vigie ingest file` as the README shows it,
// on a small CooRTweet CSV in the German layout: eight rows, three of
// them rows of post 100 (its URL, a hashtag and an image, not adjacent:
// each a share event of its own, none a duplicate), one an exact copy of
// post 100's first row (the only duplicate), one without a post ID (dead
// letter). The summary, the progress output and the dead-letter file
// must agree, and a second run resumes at the end.
func TestIngestFileCommand(t *testing.T) {
	dir := t.TempDir()
	args := []string{"ingest", "file", "testdata/ingest_german.csv", "--format", "coortweet", "--data-dir", dir, "--progress-every", "1ms"}
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
	}
	want := regexp.MustCompile(`read 8, produced 6, duplicates 1, dead-lettered 1 \(` + regexp.QuoteMeta(filepath.Join(dir, "deadletter.jsonl")) + ` and topic vigie\.deadletter\)`)
	if !want.MatchString(stdout.String()) {
		t.Errorf("summary %q does not match %s", stdout.String(), want)
	}
	if !strings.Contains(stdout.String(), "batches") {
		t.Errorf("summary without producer figures: %q", stdout.String())
	}
	f, err := os.Open(filepath.Join(dir, "deadletter.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for sc := bufio.NewScanner(f); sc.Scan(); lines++ {
		if !strings.Contains(sc.Text(), `"line":6`) || !strings.Contains(sc.Text(), "post_id") {
			t.Errorf("dead letter %s does not name line 6 and post_id", sc.Text())
		}
	}
	f.Close()
	if lines != 1 {
		t.Errorf("%d dead letters in the file, want 1", lines)
	}

	// Run again: the checkpoint says the file was read.
	stdout.Reset()
	stderr.Reset()
	if code := Main(context.Background(), append(args, "--quiet"), &stdout, &stderr); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "read 0, produced 0") {
		t.Errorf("second run summary %q, want nothing re-read", stdout.String())
	}
	if strings.Contains(stderr.String(), "rows") {
		t.Errorf("--quiet printed progress: %q", stderr.String())
	}
}

func TestIngestCommandUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		errs string
	}{
		{[]string{"ingest", "file"}, 2, "a PATH is required"},
		{[]string{"ingest", "file", "x.csv"}, 2, "--format is required"},
		{[]string{"ingest", "file", "x.csv", "--format", "xml", "--data-dir", t.TempDir()}, 1, "ingest.format: must be one of"},
		{[]string{"ingest", "nowhere"}, 2, `unknown source "nowhere"`},
		{[]string{"ingest", "mastodon", "--help"}, 0, "-timeline"},
		{[]string{"ingest", "bluesky", "--backfill"}, 2, "flag provided but not defined"},
		{[]string{"ingest", "--help"}, 0, "twarc2"},
		{[]string{"ingest", "mastodon", "--data-dir", t.TempDir(), "--quiet"}, 1, "--server is required"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code || !strings.Contains(stderr.String(), tt.errs) {
				t.Fatalf("exit %d (want %d); stderr %q, want ⊇ %q", code, tt.code, stderr.String(), tt.errs)
			}
		})
	}
}
