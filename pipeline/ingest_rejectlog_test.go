package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/ingest"
)

// logLines is a slog handler that keeps the messages and attributes of
// the records it receives, for tests.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Enabled(context.Context, slog.Level) bool { return true }
func (l *logLines) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logLines) WithGroup(string) slog.Handler            { return l }
func (l *logLines) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	l.mu.Lock()
	l.lines = append(l.lines, b.String())
	l.mu.Unlock()
	return nil
}

func (l *logLines) matching(s string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, x := range l.lines {
		if strings.Contains(x, s) {
			out = append(out, x)
		}
	}
	return out
}

// TestRejectLog: the first records are logged one line each, later ones
// as one count per interval, and the end gives the total; no rejection is
// left out of the counts.
func TestRejectLog(t *testing.T) {
	tests := []struct {
		name        string
		first       int
		rejects     int
		step, every time.Duration // clock advance per rejection; interval
		full        int           // lines naming a record
		summaries   []string      // since_last_line of each summary line
		final       string        // the closing line's attributes, "" for none
	}{
		{"few", 10, 4, time.Millisecond, time.Second, 4, nil, ""},
		{"exactly first", 10, 10, time.Millisecond, time.Second, 10, nil, ""},
		{"flood, quick", 10, 1000, time.Millisecond, time.Second, 10, nil, "rejected=1000 logged_in_full=10 since_last_line=990"},
		// 1 ms apart, 100 ms interval: a summary every 100 rejections
		// after the first ten (at 109 ms, 209 ms...), 990 counted.
		{"flood, slow", 10, 1000, time.Millisecond, 100 * time.Millisecond, 10,
			[]string{"100", "100", "100", "100", "100", "100", "100", "100", "100"}, "rejected=1000 logged_in_full=10 since_last_line=90"},
		{"first 3", 3, 5, time.Second, time.Second, 3, []string{"1", "1"}, "rejected=5 logged_in_full=3 since_last_line=0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &logLines{}
			r := newRejectLog(slog.New(h), tc.first, tc.every)
			clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			r.now = func() time.Time { return clock }
			for i := range tc.rejects {
				r.add(&ingest.RecordError{Source: "f.csv", Line: int64(i + 2), Err: errors.New("bad")})
				clock = clock.Add(tc.step)
			}
			r.close()
			if got := h.matching("f.csv:"); len(got) < tc.full || len(h.matching("ingest rejected a record")) != tc.full {
				t.Errorf("%d lines name a record, want %d: %q", len(h.matching("ingest rejected a record")), tc.full, h.lines)
			}
			var sums []string
			for _, l := range h.matching("ingest rejected more records") {
				_, after, _ := strings.Cut(l, "since_last_line=")
				n, _, _ := strings.Cut(after, " ")
				sums = append(sums, n)
			}
			if fmt.Sprint(sums) != fmt.Sprint(tc.summaries) {
				t.Errorf("summaries since_last_line %v, want %v", sums, tc.summaries)
			}
			final := h.matching("in all")
			switch {
			case tc.final == "" && len(final) > 0:
				t.Errorf("closing line %q, want none", final)
			case tc.final != "" && (len(final) != 1 || !strings.HasSuffix(final[0], tc.final)):
				t.Errorf("closing lines %q, want one ending %q", final, tc.final)
			}
			if len(h.lines) != tc.full+len(tc.summaries)+len(final) {
				t.Errorf("%d log lines: %q", len(h.lines), h.lines)
			}
		})
	}
}

// TestIngestRejectLogFlood runs the stage on a file of 500 bad lines and
// a good one: every bad line is dead-lettered, but the log holds the
// first RejectLogFirst in full and the total, not 500 lines.
func TestIngestRejectLogFlood(t *testing.T) {
	e := newEnv(t)
	h := &logLines{}
	path := filepath.Join(t.TempDir(), "bad.jsonl")
	var b strings.Builder
	for i := range 500 {
		fmt.Fprintf(&b, "{\"schema\":1,\"platform\":\"twitter\",\"id\":\"%d\"}\n", i) // no author nor time
	}
	b.WriteString(`{"schema":1,"platform":"twitter","id":"ok","author":"a","time":"2024-06-01T10:00:00Z","text":"x"}` + "\n")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	in := &Ingest{Source: path, Topics: e.topics, Producer: e.prod, Checkpoints: e.st, Log: slog.New(h), Stats: e.stats,
		RejectLogFirst: 5, RejectLogEvery: time.Hour}
	if err := in.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := e.stats.DeadLetters.Load(); n != 500 {
		t.Errorf("dead letters %d, want 500", n)
	}
	if got := h.matching("ingest rejected a record"); len(got) != 5 {
		t.Errorf("%d rejection lines in full, want 5: %q", len(got), got)
	}
	if got := h.matching("in all"); len(got) != 1 || !strings.Contains(got[0], "rejected=500") {
		t.Errorf("closing lines %q, want one with rejected=500", got)
	}
	if n := len(h.matching("WARN")); n > 10 {
		t.Errorf("%d WARN lines for 500 bad records", n)
	}
}
