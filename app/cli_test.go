package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCLI(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yml")
	if err := os.WriteFile(bad, []byte("graph:\n  key_cap: 1\nhttp:\n  addr: nowhere\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	tests := []struct {
		args         []string
		code         int
		stdout, errs string
	}{
		{nil, 2, "", "Usage: vigie <command>"},
		{[]string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{[]string{"help"}, 0, "Commands:", ""},
		{[]string{"version"}, 0, "vigie ", ""},
		{[]string{"run", "--help"}, 0, "", "embedded"},
		{[]string{"ingest", "--help"}, 0, "", "dead-letter"},
		{[]string{"graph", "--help"}, 0, "", "checkpointed"},
		{[]string{"index", "--help"}, 0, "", "durable"},
		{[]string{"alert", "--help"}, 0, "", "alerts.min_risk"},
		{[]string{"serve", "--help"}, 0, "", "-http"},
		{[]string{"gen", "--help"}, 0, "", "byte-identical"},
		{[]string{"run", "--no-such-flag"}, 2, "", "flag provided but not defined"},
		{[]string{"run", "extra"}, 2, "", "unexpected arguments"},
		{[]string{"config"}, 2, "", "Usage: vigie config check"},
		{[]string{"config", "check"}, 0, "configuration valid", ""},
		{[]string{"config", "check", "--config", bad}, 1, "", "graph.key_cap: must be at least 2"},
		{[]string{"config", "check", "--config", bad}, 1, "", "http.addr"},
		{[]string{"config", "check", "--keys"}, 0, "VIGIE_GRAPH_MIN_WEIGHT", ""},
		{[]string{"config", "check", "--print"}, 0, "min_weight: 3", ""},
		{[]string{"run", "--elasticsearch", "http://127.0.0.1:1", "--data-dir", t.TempDir(), "--quiet"}, 1, "", "elastic: open http://127.0.0.1:1"},
		{[]string{"gen", "--out", out, "--users", "50", "--seed", "7"}, 0, "planted networks", ""},
		{[]string{"gen", "--preset", "nope", "--out", t.TempDir()}, 1, "", "unknown preset"},
		{[]string{"gen", "--preset", "organic-week", "--out", t.TempDir()}, 0, "with 0 planted networks", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code || !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.errs) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s\nwant stdout ⊇ %q, stderr ⊇ %q", code, tt.code, stdout.String(), stderr.String(), tt.stdout, tt.errs)
			}
		})
	}
	for _, f := range []string{"posts.jsonl", "truth.json"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("gen did not write %s: %v", f, err)
		}
	}
}
