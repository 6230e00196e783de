package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigie-osint/vigie/config"
	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/web"
)

// TestGraphExportAudited: `vigie graph export` appends who exported what
// to the audit log (http.audit_file, default <data_dir>/audit.jsonl), as
// the API's exports do.
func TestGraphExportAudited(t *testing.T) {
	data := exportStore(t, exportCluster("c-1", post.StatusActive, 60, "twitter:x", "twitter:y", "twitter:z"),
		exportCluster("c-2", post.StatusActive, 70, "twitter:u", "twitter:v", "twitter:w"))
	for range 2 {
		var stdout, stderr bytes.Buffer
		if code := Main(context.Background(), []string{"graph", "export", "--data-dir", data, "--format", "gexf", "--min-risk", "65", "--out", filepath.Join(t.TempDir(), "g.gexf")}, &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	}
	f, err := os.Open(filepath.Join(data, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []web.AuditEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e web.AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		lines = append(lines, e)
	}
	if len(lines) != 2 {
		t.Fatalf("%d audit lines, want 2 (appended)", len(lines))
	}
	e := lines[1]
	if e.Endpoint != "vigie graph export" || e.Role != "cli" || e.Identity == "" || e.Records != 1 || e.Detail["nodes"] != 3 ||
		e.Detail["edges"] != 2 || e.Params["format"] != "gexf" || e.Params["min_risk"] != "65" || e.Time.IsZero() {
		t.Errorf("audit line %+v", e)
	}
}

// TestServeRefusesExposureWithoutAuth: `vigie serve` on a non-loopback
// address without authentication stops before anything starts (no store
// is created), and starts with a tokens file.
func TestServeRefusesExposureWithoutAuth(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse(strings.NewReader(""), []string{"VIGIE_DATA_DIR=" + dir, "VIGIE_HTTP_ADDR=0.0.0.0:0"})
	if err != nil {
		t.Fatal(err)
	}
	err = Run(context.Background(), Options{Config: cfg, Stages: []string{StageServe}})
	if err == nil || !strings.Contains(err.Error(), "http.addr") || !strings.Contains(err.Error(), "http.auth.tokens") {
		t.Fatalf("Run = %v; want the exposure refused", err)
	}
	if _, err := os.Stat(cfg.Store.Path); !os.IsNotExist(err) {
		t.Errorf("a store was created before the refusal: %v", err)
	}
	// A bad tokens file is reported at start too, naming the key and line.
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte("alice analyst s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.HTTP.Auth.TokensFile = tokens
	err = Run(context.Background(), Options{Config: cfg, Stages: []string{StageServe}})
	if err == nil || !strings.Contains(err.Error(), "http.auth.tokens_file") || !strings.Contains(err.Error(), "tokens:1") || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("Run with a bad tokens file = %v", err)
	}
}
