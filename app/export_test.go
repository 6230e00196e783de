package app

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store/sqlite"
)

var exportT0 = time.Date(2017, 5, 5, 19, 0, 0, 0, time.UTC)

// exportCluster is a cluster of the given members, chained by edges of
// weight 3 (a path a-b-c...), as the graph stage stores them.
func exportCluster(id, status string, risk float64, members ...string) post.Cluster {
	c := post.Cluster{
		Schema: post.SchemaVersion, ID: id, Status: status, Platform: post.PlatformTwitter,
		Detected: exportT0.Add(time.Hour), FirstSeen: exportT0, LastSeen: exportT0.Add(30 * time.Minute),
		Members: members, Edges: []post.Edge{}, Signals: map[post.Kind]int{post.KindRepost: 3},
		Scores: post.Scores{Risk: risk, Reasons: []string{"test"}},
	}
	if status == post.StatusActive {
		for i := 1; i < len(members); i++ {
			a, b := members[i-1], members[i]
			if a > b {
				a, b = b, a
			}
			c.Edges = append(c.Edges, post.Edge{
				A: a, B: b, Weight: 3, Signals: map[post.Kind]int{post.KindRepost: 3},
				First: exportT0.Add(time.Duration(i) * time.Minute), Last: exportT0.Add(20 * time.Minute), MeanDelta: 2,
				Extra: map[string]any{"co_actions": 4},
			})
		}
		c.EdgeCount = len(c.Edges)
	}
	return c
}

// exportStore makes a data directory whose store holds clusters.
func exportStore(t *testing.T, clusters ...post.Cluster) string {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "vigie.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.PutClusters(ctx, clusters); err != nil {
		t.Fatal(err)
	}
	return dir
}

// counted is what a test reads back from an export: node and edge
// counts, and every node's label (account) with its cluster.
type counted struct {
	nodes, edges int
	cluster      map[string]string
}

func readGraphML(t *testing.T, b []byte) counted {
	t.Helper()
	var g struct {
		Nodes []struct {
			Data []struct {
				Key   string `xml:"key,attr"`
				Value string `xml:",chardata"`
			} `xml:"data"`
		} `xml:"graph>node"`
		Edges []struct{} `xml:"graph>edge"`
	}
	if err := xml.Unmarshal(b, &g); err != nil {
		t.Fatalf("GraphML: %v\n%s", err, b)
	}
	c := counted{nodes: len(g.Nodes), edges: len(g.Edges), cluster: map[string]string{}}
	for _, n := range g.Nodes {
		var label, cluster string
		for _, d := range n.Data {
			switch d.Key {
			case "n_label":
				label = d.Value
			case "n_cluster":
				cluster = d.Value
			}
		}
		c.cluster[label] = cluster
	}
	return c
}

func readGEXF(t *testing.T, b []byte) counted {
	t.Helper()
	var g struct {
		Nodes []struct {
			Label string `xml:"label,attr"`
			Att   []struct {
				For   string `xml:"for,attr"`
				Value string `xml:"value,attr"`
			} `xml:"attvalues>attvalue"`
		} `xml:"graph>nodes>node"`
		Edges []struct{} `xml:"graph>edges>edge"`
	}
	if err := xml.Unmarshal(b, &g); err != nil {
		t.Fatalf("GEXF: %v\n%s", err, b)
	}
	c := counted{nodes: len(g.Nodes), edges: len(g.Edges), cluster: map[string]string{}}
	for _, n := range g.Nodes {
		for _, a := range n.Att {
			if a.For == "cluster" {
				c.cluster[n.Label] = a.Value
			}
		}
	}
	return c
}

func readCSVTables(t *testing.T, dir string) counted {
	t.Helper()
	read := func(name string) [][]string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return rows
	}
	nodes, edges := read("nodes.csv"), read("edges.csv")
	c := counted{nodes: len(nodes) - 1, edges: len(edges) - 1, cluster: map[string]string{}}
	for _, r := range nodes[1:] {
		c.cluster[r[0]] = r[3] // id, label, platform, cluster
	}
	return c
}

func TestGraphExport(t *testing.T) {
	data := exportStore(t,
		exportCluster("c-high", post.StatusActive, 80, "twitter:a1", "twitter:a2", "twitter:a3", "twitter:a4"),
		exportCluster("c-low", post.StatusActive, 30, "twitter:b1", "twitter:b2", "twitter:b3"),
		// Its members moved to c-high: with --status all, a1 stays in the
		// active cluster and m1 appears with the merged one.
		exportCluster("c-old", post.StatusMerged, 95, "twitter:a1", "twitter:m1"),
	)
	empty := t.TempDir()
	tests := []struct {
		name        string
		format      string
		extra       []string
		code        int
		nodes       int
		edges       int
		cluster     map[string]string // account -> cluster, for some accounts
		stdout, err string
	}{
		{name: "graphml active", format: "graphml", code: 0, nodes: 7, edges: 5,
			cluster: map[string]string{"twitter:a1": "c-high", "twitter:b2": "c-low"}, stdout: "exported 2 clusters: 7 accounts, 5 edges"},
		{name: "gexf min risk", format: "gexf", extra: []string{"--min-risk", "50"}, code: 0, nodes: 4, edges: 3,
			cluster: map[string]string{"twitter:a4": "c-high"}, stdout: "exported 1 clusters"},
		{name: "csv all", format: "csv", extra: []string{"--status", "all"}, code: 0, nodes: 8, edges: 5,
			cluster: map[string]string{"twitter:a1": "c-high", "twitter:m1": "c-old"}, stdout: "nodes.csv and"},
		{name: "merged only", format: "graphml", extra: []string{"--status", "merged"}, code: 0, nodes: 2, edges: 0,
			cluster: map[string]string{"twitter:a1": "c-old"}},
		{name: "nothing matches", format: "gexf", extra: []string{"--min-risk", "99"}, code: 0, nodes: 0, edges: 0, stdout: "exported 0 clusters"},
		{name: "bad format", format: "dot", code: 2, err: `unknown export format "dot"`},
		{name: "bad status", format: "csv", extra: []string{"--status", "dormant"}, code: 2, err: `--status "dormant"`},
		{name: "bad risk", format: "csv", extra: []string{"--min-risk", "NaN"}, code: 2, err: "finite"},
		{name: "no store", format: "graphml", extra: []string{"--data-dir", filepath.Join(empty, "nope")}, code: 1, err: "no store at"},
		{name: "extra argument", format: "graphml", extra: []string{"stray"}, code: 2, err: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "export."+tt.format)
			args := []string{"graph", "export", "--data-dir", data, "--format", tt.format, "--out", out}
			args = append(args, tt.extra...)
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), args, &stdout, &stderr)
			if code != tt.code || !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.err) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s\nwant stdout ⊇ %q, stderr ⊇ %q", code, tt.code, stdout.String(), stderr.String(), tt.stdout, tt.err)
			}
			if tt.code != 0 {
				if _, err := os.Stat(out); err == nil {
					t.Errorf("a failed export wrote %s", out)
				}
				return
			}
			var got counted
			switch tt.format {
			case "csv":
				got = readCSVTables(t, out)
			default:
				b, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				if tt.format == "gexf" {
					got = readGEXF(t, b)
				} else {
					got = readGraphML(t, b)
				}
			}
			if got.nodes != tt.nodes || got.edges != tt.edges {
				t.Errorf("%d nodes, %d edges; want %d, %d", got.nodes, got.edges, tt.nodes, tt.edges)
			}
			for acc, want := range tt.cluster {
				if got.cluster[acc] != want {
					t.Errorf("%s in cluster %q, want %q", acc, got.cluster[acc], want)
				}
			}
			// No temporary file is left beside the output.
			leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".*.tmp"))
			leftovers2, _ := filepath.Glob(filepath.Join(out, ".*.tmp"))
			if len(leftovers)+len(leftovers2) > 0 {
				t.Errorf("temporary files left: %v %v", leftovers, leftovers2)
			}
		})
	}
}

// TestGraphExportStdout writes to standard output; the report goes to
// standard error so the document stays clean for a pipe.
func TestGraphExportStdout(t *testing.T) {
	data := exportStore(t, exportCluster("c-1", post.StatusActive, 60, "twitter:x", "twitter:y", "twitter:z"))
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"graph", "export", "--data-dir", data, "--out", "-"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if got := readGraphML(t, stdout.Bytes()); got.nodes != 3 || got.edges != 2 {
		t.Errorf("%d nodes, %d edges; want 3, 2", got.nodes, got.edges)
	}
	if !strings.Contains(stderr.String(), "to standard output") {
		t.Errorf("report not on stderr: %q", stderr.String())
	}
	code = Main(context.Background(), []string{"graph", "export", "--data-dir", data, "--format", "csv", "--out", "-"}, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "must be a directory") {
		t.Errorf("csv to stdout: exit %d, stderr %q", code, stderr.String())
	}
}

// TestGraphExportPaging stores more clusters than one store page holds
// and a truncated cluster, and checks that all are exported and the
// truncation is reported.
func TestGraphExportPaging(t *testing.T) {
	var cs []post.Cluster
	for i := range 1003 {
		cs = append(cs, exportCluster(fmt.Sprintf("c-%04d", i), post.StatusActive, float64(i%100),
			fmt.Sprintf("twitter:u%04da", i), fmt.Sprintf("twitter:u%04db", i), fmt.Sprintf("twitter:u%04dc", i)))
	}
	cs[0].EdgeCount = 10 // stored with 2 of its 10 edges
	data := exportStore(t, cs...)
	out := filepath.Join(t.TempDir(), "g.graphml")
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"graph", "export", "--data-dir", data, "--out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := readGraphML(t, b); got.nodes != 3*1003 || got.edges != 2*1003 {
		t.Errorf("%d nodes, %d edges; want %d, %d", got.nodes, got.edges, 3*1003, 2*1003)
	}
	if !strings.Contains(stdout.String(), "1 clusters are stored with their strongest edges only; 8 weaker edges") {
		t.Errorf("truncation not reported: %q", stdout.String())
	}
}

func TestGraphExportHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"graph", "export", "--help"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"Usage: vigie graph export", "-format", "-min-risk", "-status", "nodes.csv"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, stderr.String())
		}
	}
	stdout.Reset()
	Main(context.Background(), []string{"help"}, &stdout, &stderr)
	if !strings.Contains(stdout.String(), "graph export") {
		t.Error("usage does not list graph export")
	}
}
