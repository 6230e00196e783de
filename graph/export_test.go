package graph

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// Hostile account names: XML metacharacters, a CDATA terminator, a
// character XML 1.0 cannot hold, invalid UTF-8, a spreadsheet formula and
// CSV's own quote and separator.
const (
	evilXML   = `twitter:<b a="1">&amp;'x'</b>]]>`
	evilCtl   = "twitter:ctl\x01\x1b[31mred"
	evilUTF8  = "twitter:bad\xff\xfeutf8"
	evilCSV   = `=HYPERLINK("http://x","y"),z`
	evilSpace = "mastodon:user name@example.org"
)

// exportClusters is a small store's worth of clusters: an active cluster
// with hostile member names, a second active one sharing an edge with the
// first (as overlapping records can after a replay), a merged cluster
// whose members now live in the first, and edges whose Extra went through
// JSON, as they do when read back from the store.
func exportClusters(t testing.TB) []post.Cluster {
	t.Helper()
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	edge := func(a, b string, w int, sig map[post.Kind]int, first, last int, delta float64, pairs int64) post.Edge {
		if a > b {
			a, b = b, a
		}
		return post.Edge{A: a, B: b, Weight: w, Signals: sig, First: at(first), Last: at(last), MeanDelta: delta,
			Extra: map[string]any{"co_actions": pairs}}
	}
	cs := []post.Cluster{
		{
			ID: "c-merged", Status: post.StatusMerged, MergedInto: "c-alpha", Platform: post.PlatformTwitter,
			Detected: at(3000), FirstSeen: at(10), LastSeen: at(900),
			Members: []string{"twitter:alice", "twitter:dave"}, Edges: []post.Edge{},
			Scores: post.Scores{Risk: 90},
		},
		{
			ID: "c-alpha", Status: post.StatusActive, Platform: post.PlatformOther,
			Detected: at(3600), FirstSeen: at(10), LastSeen: at(2000),
			Members: []string{"twitter:alice", "twitter:bob", evilXML, evilCtl, evilUTF8, evilCSV, evilSpace},
			Edges: []post.Edge{
				edge("twitter:alice", "twitter:bob", 4, map[post.Kind]int{post.KindRepost: 3, post.KindLink: 1}, 10, 1500, 2.5, 6),
				edge("twitter:bob", evilXML, 3, map[post.Kind]int{post.KindRepost: 3}, 20, 2000, 0.75, 3),
				edge(evilCtl, evilUTF8, 5, map[post.Kind]int{post.KindLink: 5}, 100, 1900, 12, 5),
				edge(evilCSV, evilSpace, 3, map[post.Kind]int{post.KindHashtag: 3}, 30, 1000, 1.0/3, 4),
				edge("twitter:alice", evilCSV, 3, map[post.Kind]int{post.KindRepost: 3}, 40, 1100, 5, 3),
			},
			EdgeCount: 5,
			Scores:    post.Scores{Risk: 72.5},
		},
		{
			ID: "c-beta", Status: post.StatusActive, Platform: post.PlatformTwitter,
			Detected: at(3600), FirstSeen: at(500), LastSeen: at(2500),
			Members: []string{"twitter:bob", "twitter:erin", "twitter:frank"},
			Edges: []post.Edge{
				edge("twitter:alice", "twitter:bob", 9, map[post.Kind]int{post.KindRepost: 9}, 500, 2500, 1, 9),
				edge("twitter:erin", "twitter:frank", 3, map[post.Kind]int{post.KindRepost: 3}, 600, 2400, 3, 3),
				edge("twitter:bob", "twitter:frank", 3, map[post.Kind]int{post.KindRepost: 3}, 700, 2300, 4, 3),
			},
			EdgeCount: 3,
			Scores:    post.Scores{Risk: 40},
		},
	}
	// Through JSON, as the store returns them: co_actions becomes float64.
	b, err := json.Marshal(cs)
	if err != nil {
		t.Fatal(err)
	}
	var out []post.Cluster
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestExportGolden pins the bytes of every format. Run
// `go test ./graph -run ExportGolden -update` after an intended change and
// review the diff of testdata/export.
func TestExportGolden(t *testing.T) {
	n := NewNetwork(exportClusters(t))
	var graphml, gexf, nodes, edges bytes.Buffer
	if err := n.WriteGraphML(&graphml); err != nil {
		t.Fatal(err)
	}
	if err := n.WriteGEXF(&gexf); err != nil {
		t.Fatal(err)
	}
	if err := n.WriteCSV(&nodes, &edges); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name string
		got  []byte
	}{
		{"network.graphml", graphml.Bytes()},
		{"network.gexf", gexf.Bytes()},
		{"nodes.csv", nodes.Bytes()},
		{"edges.csv", edges.Bytes()},
	} {
		t.Run(f.name, func(t *testing.T) {
			path := filepath.Join("testdata", "export", f.name)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, f.got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(f.got, want) {
				t.Errorf("%s differs; run with -update if intended.\ngot:\n%s", path, f.got)
			}
		})
	}
}

func TestNewNetwork(t *testing.T) {
	cs := exportClusters(t)
	n := NewNetwork(cs)
	byAcc := map[string]NetNode{}
	for _, nd := range n.Nodes {
		byAcc[nd.Account] = nd
	}
	tests := []struct {
		acc              string
		cluster, status  string
		size, deg, stren int
		risk             float64
	}{
		// alice is in the merged cluster (risk 90) and in c-alpha: the
		// active cluster wins over a higher-risk merged record.
		{"twitter:alice", "c-alpha", post.StatusActive, 7, 2, 7, 72.5},
		// bob is in both active clusters: the riskier one wins, and the
		// alice-bob edge present in both is kept once, from c-alpha.
		{"twitter:bob", "c-alpha", post.StatusActive, 7, 3, 10, 72.5},
		{"twitter:frank", "c-beta", post.StatusActive, 3, 2, 6, 40},
		// dave is only in the merged record: a node with no edge.
		{"twitter:dave", "c-merged", post.StatusMerged, 2, 0, 0, 90},
		{evilXML, "c-alpha", post.StatusActive, 7, 1, 3, 72.5},
	}
	for _, tt := range tests {
		t.Run(tt.acc, func(t *testing.T) {
			nd, ok := byAcc[tt.acc]
			if !ok {
				t.Fatalf("no node for %q", tt.acc)
			}
			got := []any{nd.Cluster, nd.Status, nd.ClusterSize, nd.Degree, nd.Strength, nd.Risk}
			want := []any{tt.cluster, tt.status, tt.size, tt.deg, tt.stren, tt.risk}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("cluster, status, size, degree, strength, risk = %v, want %v", got, want)
			}
		})
	}
	if len(n.Nodes) != 10 || len(n.Edges) != 7 {
		t.Errorf("%d nodes, %d edges; want 10, 7", len(n.Nodes), len(n.Edges))
	}
	for _, e := range n.Edges {
		if a, b := n.Nodes[e.Source].Account, n.Nodes[e.Target].Account; a == "twitter:alice" && b == "twitter:bob" && (e.Weight != 4 || e.Cluster != "c-alpha" || e.CoActions != 6) {
			t.Errorf("alice-bob edge = %+v, want c-alpha's weight 4 with 6 co-actions", e)
		}
	}
	if want := []post.Kind{post.KindRepost, post.KindLink, post.KindHashtag}; !reflect.DeepEqual(n.Kinds, want) {
		t.Errorf("Kinds = %v, want %v", n.Kinds, want)
	}
	if want := t0.Add(3600 * time.Second); !n.Updated.Equal(want) {
		t.Errorf("Updated = %v, want %v", n.Updated, want)
	}
	// Node first/last seen span its edges; an edgeless node takes its cluster's.
	if nd := byAcc["twitter:alice"]; !nd.FirstSeen.Equal(t0.Add(10*time.Second)) || !nd.LastSeen.Equal(t0.Add(1500*time.Second)) {
		t.Errorf("alice seen %v..%v, want t0+10s..t0+1500s", nd.FirstSeen, nd.LastSeen)
	}
	if nd := byAcc["twitter:dave"]; !nd.FirstSeen.Equal(t0.Add(10*time.Second)) || !nd.LastSeen.Equal(t0.Add(900*time.Second)) {
		t.Errorf("dave seen %v..%v, want the merged cluster's t0+10s..t0+900s", nd.FirstSeen, nd.LastSeen)
	}
	// The input order does not matter.
	r := rand.New(rand.NewPCG(3, 4))
	for range 5 {
		r.Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
		if got := NewNetwork(cs); !reflect.DeepEqual(got, n) {
			t.Fatalf("network depends on cluster order:\n%+v\nwant\n%+v", got, n)
		}
	}
}

func TestParseExportFormat(t *testing.T) {
	tests := []struct {
		in   string
		want ExportFormat
		err  bool
	}{
		{"graphml", FormatGraphML, false},
		{"GEXF", FormatGEXF, false},
		{" csv ", FormatCSV, false},
		{"gml", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		got, err := ParseExportFormat(tt.in)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("ParseExportFormat(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestExportValues(t *testing.T) {
	tests := []struct {
		got  value
		want value
	}{
		{double(72.5), value{"72.5", true}},
		{double(1e6), value{"1000000", true}},
		{double(math.NaN()), value{}},
		{double(math.Inf(1)), value{}},
		{str(""), value{}},
		{timeValue(time.Time{}), value{}},
		{timeValue(time.Date(2017, 5, 5, 21, 33, 0, 500, time.FixedZone("CEST", 7200))), value{"2017-05-05T19:33:00.0000005Z", true}},
		{value{signalsString(map[post.Kind]int{post.KindRepost: 5, post.KindLink: 2}), true}, value{"link:2,repost:5", true}},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%d: got %+v, want %+v", i, tt.got, tt.want)
		}
	}
	if got := coActions(map[string]any{"co_actions": json.Number("12")}); got != 12 {
		t.Errorf("coActions(json.Number) = %d", got)
	}
	if got := coActions(nil); got != -1 {
		t.Errorf("coActions(nil) = %d, want -1", got)
	}
}

// Parsed forms of the two XML formats, read back with encoding/xml's
// strict decoder.
type parsedGraphML struct {
	XMLName xml.Name `xml:"http://graphml.graphdrawing.org/xmlns graphml"`
	Keys    []struct {
		ID   string `xml:"id,attr"`
		For  string `xml:"for,attr"`
		Name string `xml:"attr.name,attr"`
		Type string `xml:"attr.type,attr"`
	} `xml:"key"`
	Graph struct {
		EdgeDefault string `xml:"edgedefault,attr"`
		Nodes       []struct {
			ID   string        `xml:"id,attr"`
			Data []graphmlData `xml:"data"`
		} `xml:"node"`
		Edges []struct {
			ID     string        `xml:"id,attr"`
			Source string        `xml:"source,attr"`
			Target string        `xml:"target,attr"`
			Data   []graphmlData `xml:"data"`
		} `xml:"edge"`
	} `xml:"graph"`
}

type parsedGEXF struct {
	XMLName xml.Name `xml:"http://gexf.net/1.3 gexf"`
	Version string   `xml:"version,attr"`
	Graph   struct {
		Mode       string `xml:"mode,attr"`
		TimeFormat string `xml:"timeformat,attr"`
		Attributes []struct {
			Class string          `xml:"class,attr"`
			Attrs []gexfAttribute `xml:"attribute"`
		} `xml:"attributes"`
		Nodes []struct {
			ID        string         `xml:"id,attr"`
			Label     string         `xml:"label,attr"`
			Start     string         `xml:"start,attr"`
			End       string         `xml:"end,attr"`
			AttValues []gexfAttValue `xml:"attvalues>attvalue"`
		} `xml:"nodes>node"`
		Edges []struct {
			Source    string         `xml:"source,attr"`
			Target    string         `xml:"target,attr"`
			Weight    string         `xml:"weight,attr"`
			Start     string         `xml:"start,attr"`
			End       string         `xml:"end,attr"`
			AttValues []gexfAttValue `xml:"attvalues>attvalue"`
		} `xml:"edges>edge"`
	} `xml:"graph"`
}

// xmlSafe is what an account name becomes in XML: encoding/xml replaces
// characters XML 1.0 cannot hold, and invalid UTF-8, with U+FFFD.
func xmlSafe(s string) string {
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF {
			b.WriteRune(r)
		} else {
			b.WriteRune('\uFFFD')
		}
	}
	return b.String()
}

// exportNetworks are the networks the round-trip tests write and read:
// the hand-made one with hostile names, and one the engine detected on a
// planted stream (co_actions still int64, many edges).
func exportNetworks(t *testing.T) map[string]*Network {
	e := mustNew(t, Config{})
	s := genStream(11, []int{8, 12, 5}, 300, 6000, 12)
	for _, p := range s.posts {
		e.Add(p)
	}
	detected := e.Detect()
	if len(detected) == 0 {
		t.Fatal("engine found no clusters on the planted stream")
	}
	return map[string]*Network{"hand-made": NewNetwork(exportClusters(t)), "engine": NewNetwork(detected)}
}

// TestGraphMLRoundTrip parses the GraphML back and checks that every key
// is declared once with a GraphML type, every data element refers to a
// declared key of the right domain, and nodes, edges and their attributes
// are those of the network.
func TestGraphMLRoundTrip(t *testing.T) {
	for name, n := range exportNetworks(t) {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := n.WriteGraphML(&buf); err != nil {
				t.Fatal(err)
			}
			var g parsedGraphML
			if err := xml.Unmarshal(buf.Bytes(), &g); err != nil {
				t.Fatalf("GraphML does not parse: %v", err)
			}
			if g.Graph.EdgeDefault != "undirected" {
				t.Errorf("edgedefault = %q", g.Graph.EdgeDefault)
			}
			keys := map[string]string{} // id -> for
			names := map[string]string{}
			for _, k := range g.Keys {
				if _, dup := keys[k.ID]; dup {
					t.Errorf("key %q declared twice", k.ID)
				}
				switch k.Type {
				case "boolean", "int", "long", "float", "double", "string":
				default:
					t.Errorf("key %q has type %q, not a GraphML type", k.ID, k.Type)
				}
				keys[k.ID] = k.For
				names[k.ID] = k.Name
			}
			if len(g.Graph.Nodes) != len(n.Nodes) || len(g.Graph.Edges) != len(n.Edges) {
				t.Fatalf("%d nodes, %d edges; want %d, %d", len(g.Graph.Nodes), len(g.Graph.Edges), len(n.Nodes), len(n.Edges))
			}
			ids := map[string]int{}
			for i, nd := range g.Graph.Nodes {
				ids[nd.ID] = i
				attrs := map[string]string{}
				for _, d := range nd.Data {
					if keys[d.Key] != "node" {
						t.Errorf("node %s: data for key %q, which is not a node key", nd.ID, d.Key)
					}
					attrs[names[d.Key]] = d.Value
				}
				want := n.Nodes[i]
				if attrs["label"] != xmlSafe(want.Account) || attrs["cluster"] != want.Cluster ||
					attrs["degree"] != strconv.Itoa(want.Degree) || attrs["risk"] != double(want.Risk).s {
					t.Errorf("node %s = %v, want %+v", nd.ID, attrs, want)
				}
			}
			for i, e := range g.Graph.Edges {
				si, sok := ids[e.Source]
				ti, tok := ids[e.Target]
				if !sok || !tok {
					t.Fatalf("edge %s joins unknown nodes %q, %q", e.ID, e.Source, e.Target)
				}
				attrs := map[string]string{}
				for _, d := range e.Data {
					if keys[d.Key] != "edge" {
						t.Errorf("edge %s: data for key %q, which is not an edge key", e.ID, d.Key)
					}
					attrs[names[d.Key]] = d.Value
				}
				want := n.Edges[i]
				if si != want.Source || ti != want.Target || attrs["weight"] != strconv.Itoa(want.Weight) ||
					attrs["co_actions"] != strconv.FormatInt(want.CoActions, 10) || attrs["signals"] != signalsString(want.Signals) {
					t.Errorf("edge %s = %s-%s %v, want %+v", e.ID, e.Source, e.Target, attrs, want)
				}
			}
		})
	}
}

// TestGEXFRoundTrip does the same for GEXF, with its dynamic times.
func TestGEXFRoundTrip(t *testing.T) {
	for name, n := range exportNetworks(t) {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := n.WriteGEXF(&buf); err != nil {
				t.Fatal(err)
			}
			var g parsedGEXF
			if err := xml.Unmarshal(buf.Bytes(), &g); err != nil {
				t.Fatalf("GEXF does not parse: %v", err)
			}
			if g.Version != "1.3" || g.Graph.Mode != "dynamic" || g.Graph.TimeFormat != "dateTime" {
				t.Errorf("version %q, mode %q, timeformat %q", g.Version, g.Graph.Mode, g.Graph.TimeFormat)
			}
			declared := map[string]map[string]string{} // class -> id -> type
			for _, a := range g.Graph.Attributes {
				declared[a.Class] = map[string]string{}
				for _, at := range a.Attrs {
					declared[a.Class][at.ID] = at.Type
				}
			}
			if len(g.Graph.Nodes) != len(n.Nodes) || len(g.Graph.Edges) != len(n.Edges) {
				t.Fatalf("%d nodes, %d edges; want %d, %d", len(g.Graph.Nodes), len(g.Graph.Edges), len(n.Nodes), len(n.Edges))
			}
			for i, nd := range g.Graph.Nodes {
				want := n.Nodes[i]
				attrs := map[string]string{}
				for _, v := range nd.AttValues {
					if _, ok := declared["node"][v.For]; !ok {
						t.Errorf("node %s: value for undeclared attribute %q", nd.ID, v.For)
					}
					attrs[v.For] = v.Value
				}
				if nd.Label != xmlSafe(want.Account) || attrs["cluster"] != want.Cluster || attrs["cluster_size"] != strconv.Itoa(want.ClusterSize) {
					t.Errorf("node %s = %q %v, want %+v", nd.ID, nd.Label, attrs, want)
				}
				checkSpan(t, nd.ID, nd.Start, nd.End, want.FirstSeen, want.LastSeen)
			}
			for i, e := range g.Graph.Edges {
				want := n.Edges[i]
				attrs := map[string]string{}
				for _, v := range e.AttValues {
					if _, ok := declared["edge"][v.For]; !ok {
						t.Errorf("edge %d: value for undeclared attribute %q", i, v.For)
					}
					attrs[v.For] = v.Value
				}
				if e.Source != nodeID(want.Source) || e.Target != nodeID(want.Target) || e.Weight != strconv.Itoa(want.Weight) ||
					attrs["mean_delta_seconds"] != double(want.MeanDelta).s {
					t.Errorf("edge %d = %+v, want %+v", i, e, want)
				}
				for _, k := range n.Kinds {
					if got := attrs["signal_"+string(k)]; got != strconv.Itoa(want.Signals[k]) {
						t.Errorf("edge %d: signal_%s = %q, want %d", i, k, got, want.Signals[k])
					}
				}
				checkSpan(t, "edge "+strconv.Itoa(i), e.Start, e.End, want.First, want.Last)
			}
		})
	}
}

func checkSpan(t *testing.T, what, start, end string, first, last time.Time) {
	t.Helper()
	s, err1 := time.Parse(time.RFC3339Nano, start)
	e, err2 := time.Parse(time.RFC3339Nano, end)
	if err1 != nil || err2 != nil || !s.Equal(first) || !e.Equal(last) || e.Before(s) {
		t.Errorf("%s: start %q end %q, want %v..%v", what, start, end, first, last)
	}
}

// TestCSVRoundTrip reads both tables back: CSV is lossless, so hostile
// names come back byte for byte.
func TestCSVRoundTrip(t *testing.T) {
	for name, n := range exportNetworks(t) {
		t.Run(name, func(t *testing.T) {
			var nodes, edges bytes.Buffer
			if err := n.WriteCSV(&nodes, &edges); err != nil {
				t.Fatal(err)
			}
			nr, err := csv.NewReader(&nodes).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			er, err := csv.NewReader(&edges).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(nr) != len(n.Nodes)+1 || len(er) != len(n.Edges)+1 {
				t.Fatalf("%d node rows, %d edge rows; want %d, %d plus headers", len(nr)-1, len(er)-1, len(n.Nodes), len(n.Edges))
			}
			if got := strings.Join(nr[0][:3], ","); got != "id,label,platform" {
				t.Errorf("nodes header starts %q", got)
			}
			if got := strings.Join(er[0][:4], ","); got != "source,target,type,weight" {
				t.Errorf("edges header starts %q", got)
			}
			for i, nd := range n.Nodes {
				if nr[i+1][0] != nd.Account || nr[i+1][1] != nd.Account {
					t.Errorf("node row %d = %q, want %q", i, nr[i+1][:2], nd.Account)
				}
			}
			for i, e := range n.Edges {
				row := er[i+1]
				if row[0] != n.Nodes[e.Source].Account || row[1] != n.Nodes[e.Target].Account || row[3] != strconv.Itoa(e.Weight) {
					t.Errorf("edge row %d = %q, want %+v", i, row, e)
				}
			}
		})
	}
}

// TestExportEmpty writes an empty network: still valid documents and
// header-only tables, so a filter that matches nothing is not an error.
func TestExportEmpty(t *testing.T) {
	n := NewNetwork(nil)
	var graphml, gexf, nodes, edges bytes.Buffer
	if err := n.WriteGraphML(&graphml); err != nil {
		t.Fatal(err)
	}
	if err := n.WriteGEXF(&gexf); err != nil {
		t.Fatal(err)
	}
	if err := n.WriteCSV(&nodes, &edges); err != nil {
		t.Fatal(err)
	}
	var g parsedGraphML
	if err := xml.Unmarshal(graphml.Bytes(), &g); err != nil || len(g.Graph.Nodes) != 0 {
		t.Errorf("empty GraphML: %v, %d nodes", err, len(g.Graph.Nodes))
	}
	var x parsedGEXF
	if err := xml.Unmarshal(gexf.Bytes(), &x); err != nil || len(x.Graph.Nodes) != 0 {
		t.Errorf("empty GEXF: %v, %d nodes", err, len(x.Graph.Nodes))
	}
	if strings.Count(nodes.String(), "\n") != 1 || strings.Count(edges.String(), "\n") != 1 {
		t.Errorf("empty CSV tables:\n%s\n%s", nodes.String(), edges.String())
	}
}

// failWriter fails after n bytes, as a full disk does.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, os.ErrClosed
	}
	w.n -= len(p)
	return len(p), nil
}

func TestExportWriteError(t *testing.T) {
	n := NewNetwork(exportClusters(t))
	if err := n.WriteGraphML(&failWriter{100}); err == nil {
		t.Error("WriteGraphML ignored a write error")
	}
	if err := n.WriteGEXF(&failWriter{100}); err == nil {
		t.Error("WriteGEXF ignored a write error")
	}
	if err := n.WriteCSV(&failWriter{10}, &bytes.Buffer{}); err == nil {
		t.Error("WriteCSV ignored a nodes write error")
	}
	if err := n.WriteCSV(&bytes.Buffer{}, &failWriter{10}); err == nil {
		t.Error("WriteCSV ignored an edges write error")
	}
}
