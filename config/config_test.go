package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestGoodFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/*.good.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no good files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := Load(f, nil); err != nil {
				t.Fatalf("Load: %v", err)
			}
		})
	}
}

func TestBadFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/*.bad.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want, err := os.ReadFile(strings.TrimSuffix(f, ".yml") + ".err")
			if err != nil {
				t.Fatalf("every bad file needs a .err file with the expected message: %v", err)
			}
			_, err = Load(f, nil)
			if err == nil {
				t.Fatal("Load succeeded; want an error")
			}
			if !strings.Contains(err.Error(), strings.TrimSpace(string(want))) {
				t.Fatalf("error %q does not contain %q", err, strings.TrimSpace(string(want)))
			}
		})
	}
}

func TestFullFileValues(t *testing.T) {
	c, err := Load("testdata/full.good.yml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Graph.Window.D(); got != 30*time.Second {
		t.Errorf("graph.window = %v, want 30s", got)
	}
	if len(c.Bus.Brokers) != 2 || c.Bus.Brokers[1] != "kafka-2:9092" {
		t.Errorf("bus.brokers = %v", c.Bus.Brokers)
	}
	if c.Store.Path != "/var/lib/vigie/vigie.db" {
		t.Errorf("store.path default should follow data_dir, got %q", c.Store.Path)
	}
}

// TestGraphParams checks that the engine parameter keys are read.
func TestGraphParams(t *testing.T) {
	c, err := Load("testdata/graph_params.good.yml", nil)
	if err != nil {
		t.Fatal(err)
	}
	g := c.Graph
	if g.MaxEvidence != 3 || g.Level != -1 || g.Rejoin != -1 || g.TextThreshold != 0.8 ||
		g.TextMinWords != 7 || g.MediaMaxDistance != -1 || g.IDOverlap != 0.5 || g.HashtagSeqMin != 3 {
		t.Errorf("graph parameters %+v", g)
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse(strings.NewReader(""), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key       string
		got, want any
	}{
		{"data_dir", c.DataDir, "var"},
		{"alerts.outbox", c.Alerts.Outbox, "var/outbox.db"},
		{"alerts.min_risk", c.Alerts.MinRisk, 50.0},
		{"alerts.cooldown", c.Alerts.Cooldown.D(), 6 * time.Hour},
		{"alerts.max_attempts", c.Alerts.MaxAttempts, 10},
		{"alerts.max_payload_bytes", c.Alerts.MaxPayloadBytes, 64 << 10},
		{"brief.enabled", *c.Brief.Enabled, true},
		{"brief.dir", c.Brief.Dir, "var/briefings"},
		{"brief.base_url", c.Brief.BaseURL, "http://127.0.0.1:8080"},
		{"bus.brokers", len(c.Bus.Brokers), 0},
		{"bus.partitions", c.Bus.Partitions, 1},
		{"store.kind", c.Store.Kind, "embedded"},
		{"store.path", c.Store.Path, "var/vigie.db"},
		{"graph.window", c.Graph.Window.D(), 60 * time.Second},
		{"graph.key_cap", c.Graph.KeyCap, 50},
		{"graph.min_weight", c.Graph.MinWeight, 3},
		{"graph.signals", strings.Join(c.Graph.Signals, ","), "repost,link,reply"},
		{"graph.max_evidence", c.Graph.MaxEvidence, 5},
		{"graph.level", c.Graph.Level, 0},
		{"graph.rejoin", c.Graph.Rejoin, 0.0},
		{"graph.text_threshold", c.Graph.TextThreshold, 0.7},
		{"graph.text_min_words", c.Graph.TextMinWords, 5},
		{"graph.media_max_distance", c.Graph.MediaMaxDistance, 6},
		{"graph.id_overlap", c.Graph.IDOverlap, 0.3},
		{"graph.hashtag_seq_min", c.Graph.HashtagSeqMin, 2},
		{"graph.min_cohesion", c.Graph.MinCohesion, 0.2},
		{"http.addr", c.HTTP.Addr, "127.0.0.1:8080"},
		{"ingest.detect_language", *c.Ingest.DetectLanguage, true},
		{"ingest.dedupe", c.Ingest.Dedupe, 250_000},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.key, tt.got, tt.want)
		}
	}
}

func TestEnvOverrides(t *testing.T) {
	env := []string{
		"VIGIE_GRAPH_WINDOW=2m",
		"VIGIE_BUS_BROKERS=a:9092, b:9092",
		"VIGIE_HTTP_ADDR=127.0.0.1:9999",
		"VIGIE_ALERTS_MIN_RISK=42.5",
		"VIGIE_GRAPH_KEY_CAP=7",
		"VIGIE_INGEST_DETECT_LANGUAGE=false",
		"VIGIE_INGEST_RESOLVE_SHORTENERS=true",
		"UNRELATED=1",
	}
	c, err := Parse(strings.NewReader("graph:\n  window: 30s\n"), env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Graph.Window.D() != 2*time.Minute {
		t.Errorf("env must override the file: window = %v", c.Graph.Window.D())
	}
	if strings.Join(c.Bus.Brokers, "|") != "a:9092|b:9092" {
		t.Errorf("brokers = %q", c.Bus.Brokers)
	}
	if *c.Ingest.DetectLanguage || !c.Ingest.ResolveShorteners {
		t.Errorf("bool overrides not applied: %v %v", *c.Ingest.DetectLanguage, c.Ingest.ResolveShorteners)
	}
	if c.HTTP.Addr != "127.0.0.1:9999" || c.Alerts.MinRisk != 42.5 || c.Graph.KeyCap != 7 {
		t.Errorf("overrides not applied: %+v %+v %+v", c.HTTP, c.Alerts, c.Graph.KeyCap)
	}
}

func TestEnvErrorsNameKey(t *testing.T) {
	tests := []struct{ env, want string }{
		{"VIGIE_GRAPH_KEY_CAP=lots", `graph.key_cap: from VIGIE_GRAPH_KEY_CAP: "lots" is not an integer`},
		{"VIGIE_GRAPH_WINDOW=soon", `graph.window: from VIGIE_GRAPH_WINDOW`},
		{"VIGIE_ALERTS_MIN_RISK=high", `alerts.min_risk: from VIGIE_ALERTS_MIN_RISK`},
		{"VIGIE_INGEST_DETECT_LANGUAGE=maybe", `ingest.detect_language: from VIGIE_INGEST_DETECT_LANGUAGE: "maybe" is not true or false`},
	}
	for _, tt := range tests {
		_, err := Parse(strings.NewReader(""), []string{tt.env})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to contain %q", tt.env, err, tt.want)
		}
	}
}

func TestValidateReportsAll(t *testing.T) {
	c := Default()
	c.Graph.KeyCap = 1
	c.HTTP.Addr = "nowhere"
	err := c.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, key := range []string{"graph.key_cap", "http.addr"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error %q does not name %s", err, key)
		}
	}
}

func TestKeysAndRoundTrip(t *testing.T) {
	keys := Keys()
	if len(keys) < 20 || keys[0] != "data_dir" {
		t.Fatalf("Keys() = %v", keys)
	}
	c := Default()
	b, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(strings.NewReader(string(b)), nil)
	if err != nil {
		t.Fatalf("re-parse printed config: %v\n%s", err, b)
	}
	if back.Graph.Window != c.Graph.Window || back.Store.Path != c.Store.Path {
		t.Errorf("round trip changed values")
	}
}

func FuzzParse(f *testing.F) {
	for _, p := range []string{"", "graph:\n  window: 1s\n", "bus: {brokers: [a:1]}", "x: [", "alerts: {min_risk: -1}"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(strings.NewReader(s), nil)
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("Parse accepted a config that does not validate: %v", verr)
			}
		}
	})
}
