package graph

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// ExportFormat names a file format Network can be written in.
type ExportFormat string

// The export formats. GraphML is what networkx, igraph and Gephi all read;
// GEXF is Gephi's own and carries time, so Gephi's timeline can replay when
// each account and edge was active; CSV is two tables (nodes, edges) for
// spreadsheets, pandas and Gephi's spreadsheet import.
const (
	FormatGraphML ExportFormat = "graphml"
	FormatGEXF    ExportFormat = "gexf"
	FormatCSV     ExportFormat = "csv"
)

// ExportFormats lists the formats in the order help texts show them.
var ExportFormats = []ExportFormat{FormatGraphML, FormatGEXF, FormatCSV}

// ParseExportFormat returns the format named s (case-insensitive).
func ParseExportFormat(s string) (ExportFormat, error) {
	f := ExportFormat(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(ExportFormats, f) {
		return f, nil
	}
	return "", fmt.Errorf("unknown export format %q: want graphml, gexf or csv", s)
}

// Network is a set of clusters flattened into one graph of accounts, ready
// to be written in an exchange format. Build it with NewNetwork.
type Network struct {
	Nodes []NetNode // sorted by Account
	Edges []NetEdge // sorted by (Source, Target), Source < Target
	// Kinds are the co-action kinds found on any edge, in the engine's
	// fixed kind order; each gets its own typed edge column, so a tool can
	// filter edges by signal without parsing text.
	Kinds []post.Kind
	// Updated is the latest Detected time of the clusters: the stream time
	// the network describes. It dates the file instead of the wall clock,
	// so the same clusters always give byte-identical files.
	Updated time.Time
}

// NetNode is one account.
type NetNode struct {
	Account     string // "platform:author"
	Platform    string
	Cluster     string // ID of the cluster the account is shown in
	Status      string // that cluster's status
	ClusterSize int    // that cluster's member count
	Risk        float64
	Degree      int // distinct neighbours among the exported edges
	Strength    int // sum of the weights of those edges
	// FirstSeen and LastSeen span the account's exported edges, or its
	// cluster's when it has none (merged and expired records keep members
	// but no edges).
	FirstSeen, LastSeen time.Time
}

// NetEdge is one co-action edge between Nodes[Source] and Nodes[Target].
type NetEdge struct {
	Source, Target int
	Cluster        string
	Weight         int // distinct shared objects
	Signals        map[post.Kind]int
	// CoActions is the number of co-action pairs behind the edge (the
	// Coordination Network Toolkit's weight), or -1 when the record does
	// not carry it.
	CoActions   int64
	First, Last time.Time
	MeanDelta   float64 // seconds
}

// NewNetwork flattens clusters into one graph. An account may belong to
// several stored clusters (a merged cluster keeps its members, who now
// belong to the cluster it merged into); it is shown in one, the first by
// status active before others, then risk descending, then ID, so the
// attributes an analyst sees are those of its live, riskiest cluster. An
// edge present in several records is kept once, from the same first
// cluster. The result does not depend on the order of clusters.
func NewNetwork(clusters []post.Cluster) *Network {
	cs := make([]*post.Cluster, len(clusters))
	for i := range clusters {
		cs[i] = &clusters[i]
	}
	slices.SortStableFunc(cs, func(x, y *post.Cluster) int {
		if ax, ay := x.Status == post.StatusActive, y.Status == post.StatusActive; ax != ay {
			if ax {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(y.Scores.Risk, x.Scores.Risk); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	n := &Network{}
	home := map[string]*post.Cluster{}
	claim := func(acc string, c *post.Cluster) {
		if _, ok := home[acc]; !ok {
			home[acc] = c
		}
	}
	type pair struct{ a, b string }
	seen := map[pair]bool{}
	type rawEdge struct {
		e       *post.Edge
		cluster string
	}
	var raw []rawEdge
	kinds := map[post.Kind]bool{}
	for _, c := range cs {
		if c.Detected.After(n.Updated) {
			n.Updated = c.Detected
		}
		for _, m := range c.Members {
			claim(m, c)
		}
		for i := range c.Edges {
			e := &c.Edges[i]
			a, b := e.A, e.B
			if a == b {
				continue
			}
			if a > b {
				a, b = b, a
			}
			if seen[pair{a, b}] {
				continue
			}
			seen[pair{a, b}] = true
			claim(a, c)
			claim(b, c)
			raw = append(raw, rawEdge{e, c.ID})
			for k := range e.Signals {
				kinds[k] = true
			}
		}
	}
	accounts := make([]string, 0, len(home))
	for a := range home {
		accounts = append(accounts, a)
	}
	slices.Sort(accounts)
	index := make(map[string]int, len(accounts))
	n.Nodes = make([]NetNode, len(accounts))
	for i, a := range accounts {
		index[a] = i
		c := home[a]
		platform, _, _ := strings.Cut(a, ":")
		n.Nodes[i] = NetNode{
			Account: a, Platform: platform, Cluster: c.ID, Status: c.Status,
			ClusterSize: len(c.Members), Risk: c.Scores.Risk,
		}
	}
	// Edges are unique per pair, so a node's degree is its edge count.
	n.Edges = make([]NetEdge, 0, len(raw))
	for _, r := range raw {
		s, t := index[r.e.A], index[r.e.B]
		if s > t {
			s, t = t, s
		}
		ne := NetEdge{
			Source: s, Target: t, Cluster: r.cluster, Weight: r.e.Weight,
			Signals: r.e.Signals, CoActions: coActions(r.e.Extra),
			First: r.e.First, Last: r.e.Last, MeanDelta: r.e.MeanDelta,
		}
		n.Edges = append(n.Edges, ne)
		for _, u := range [2]int{s, t} {
			nd := &n.Nodes[u]
			nd.Degree++
			nd.Strength += ne.Weight
			if !ne.First.IsZero() && (nd.FirstSeen.IsZero() || ne.First.Before(nd.FirstSeen)) {
				nd.FirstSeen = ne.First
			}
			if ne.Last.After(nd.LastSeen) {
				nd.LastSeen = ne.Last
			}
		}
	}
	for i := range n.Nodes {
		nd := &n.Nodes[i]
		if nd.Degree == 0 {
			c := home[nd.Account]
			nd.FirstSeen, nd.LastSeen = c.FirstSeen, c.LastSeen
		}
	}
	slices.SortFunc(n.Edges, func(x, y NetEdge) int {
		if c := cmp.Compare(x.Source, y.Source); c != 0 {
			return c
		}
		return cmp.Compare(x.Target, y.Target)
	})
	for _, k := range allKinds {
		if kinds[k] {
			n.Kinds = append(n.Kinds, k)
		}
	}
	return n
}

// coActions reads Extra["co_actions"], an int64 when the edge comes from
// the engine and a float64 or json.Number once it went through JSON.
func coActions(extra map[string]any) int64 {
	switch v := extra["co_actions"].(type) {
	case int64:
		return v
	case int:
		return int64(v)
	case float64:
		if v >= 0 && v <= math.MaxInt64 && v == math.Trunc(v) {
			return int64(v)
		}
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
	}
	return -1
}

// column is one typed attribute of nodes or edges. Every format writes the
// same columns, so a file in one format can be checked against another.
type column struct {
	name string
	typ  colType
}

type colType uint8

const (
	colString colType = iota
	colInt
	colLong
	colDouble
)

// value is a cell; ok is false when the cell is empty and the formats
// leave it out rather than write a fake zero.
type value struct {
	s  string
	ok bool
}

var nodeColumns = []column{
	{"label", colString}, {"platform", colString}, {"cluster", colString},
	{"cluster_status", colString}, {"cluster_size", colInt}, {"risk", colDouble},
	{"degree", colInt}, {"strength", colInt}, {"first_seen", colString}, {"last_seen", colString},
}

func (n *Network) nodeValues(nd *NetNode) []value {
	return []value{
		str(nd.Account), str(nd.Platform), str(nd.Cluster), str(nd.Status),
		integer(int64(nd.ClusterSize)), double(nd.Risk), integer(int64(nd.Degree)),
		integer(int64(nd.Strength)), timeValue(nd.FirstSeen), timeValue(nd.LastSeen),
	}
}

// edgeColumns are the edge attributes; weight is not among them since
// GraphML, GEXF and CSV each have their own place for it.
func (n *Network) edgeColumns() []column {
	cols := []column{
		{"cluster", colString}, {"signals", colString}, {"co_actions", colLong},
		{"first", colString}, {"last", colString}, {"mean_delta_seconds", colDouble},
	}
	for _, k := range n.Kinds {
		cols = append(cols, column{"signal_" + string(k), colInt})
	}
	return cols
}

func (n *Network) edgeValues(e *NetEdge) []value {
	vals := []value{
		str(e.Cluster), str(signalsString(e.Signals)), {}, timeValue(e.First), timeValue(e.Last), double(e.MeanDelta),
	}
	if e.CoActions >= 0 {
		vals[2] = integer(e.CoActions)
	}
	for _, k := range n.Kinds {
		vals = append(vals, integer(int64(e.Signals[k])))
	}
	return vals
}

func str(s string) value { return value{s, s != ""} }

func integer(i int64) value { return value{strconv.FormatInt(i, 10), true} }

// double formats finite values only: NaN and infinities have no spelling
// that GraphML, GEXF and spreadsheets agree on.
func double(f float64) value {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return value{}
	}
	return value{strconv.FormatFloat(f, 'f', -1, 64), true}
}

// timeValue is RFC 3339 in UTC, which is also xsd:dateTime.
func timeValue(t time.Time) value {
	if t.IsZero() {
		return value{}
	}
	return value{t.UTC().Format(time.RFC3339Nano), true}
}

// signalsString spells per-kind counts as "link:2,repost:5", kinds sorted,
// for tools that show one text column.
func signalsString(m map[post.Kind]int) string {
	kinds := make([]string, 0, len(m))
	for k := range m {
		kinds = append(kinds, string(k))
	}
	slices.Sort(kinds)
	var b strings.Builder
	for i, k := range kinds {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s:%d", k, m[post.Kind(k)])
	}
	return b.String()
}

// Node and edge IDs in the XML formats are "n<index>" and "e<index>", not
// account keys: GraphML requires IDs to be XML name tokens, which account
// keys (hostile input, with spaces and any character) are not, and a key
// holding a character XML cannot represent would otherwise collide with
// another after replacement. The account is the node's label.
func nodeID(i int) string { return "n" + strconv.Itoa(i) }
func edgeID(i int) string { return "e" + strconv.Itoa(i) }

// Namespaces and schema locations of the two XML formats.
const (
	graphmlNS     = "http://graphml.graphdrawing.org/xmlns"
	graphmlSchema = graphmlNS + " http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd"
	gexfNS        = "http://gexf.net/1.3"
	gexfSchema    = gexfNS + " http://gexf.net/1.3/gexf.xsd"
	xsiNS         = "http://www.w3.org/2001/XMLSchema-instance"
)

// xmlWriter writes through encoding/xml, which escapes every attribute and
// text value and replaces characters XML 1.0 cannot hold (control
// characters, invalid UTF-8) with U+FFFD, so no account name or object key
// can break the document. It keeps the first error.
type xmlWriter struct {
	enc *xml.Encoder
	err error
}

func newXMLWriter(w io.Writer) *xmlWriter {
	x := &xmlWriter{enc: xml.NewEncoder(w)}
	x.enc.Indent("", "  ")
	x.token(xml.ProcInst{Target: "xml", Inst: []byte(`version="1.0" encoding="UTF-8"`)})
	x.token(xml.CharData("\n"))
	return x
}

func (x *xmlWriter) token(t xml.Token) {
	if x.err == nil {
		x.err = x.enc.EncodeToken(t)
	}
}

func (x *xmlWriter) element(v any) {
	if x.err == nil {
		x.err = x.enc.Encode(v)
	}
}

func (x *xmlWriter) start(name string, attrs ...string) {
	se := xml.StartElement{Name: xml.Name{Local: name}}
	for i := 0; i+1 < len(attrs); i += 2 {
		se.Attr = append(se.Attr, xml.Attr{Name: xml.Name{Local: attrs[i]}, Value: attrs[i+1]})
	}
	x.token(se)
}

func (x *xmlWriter) end(name string) { x.token(xml.EndElement{Name: xml.Name{Local: name}}) }

func (x *xmlWriter) close() error {
	x.token(xml.CharData("\n"))
	if x.err == nil {
		x.err = x.enc.Close()
	}
	return x.err
}

type graphmlKey struct {
	XMLName xml.Name `xml:"key"`
	ID      string   `xml:"id,attr"`
	For     string   `xml:"for,attr"`
	Name    string   `xml:"attr.name,attr"`
	Type    string   `xml:"attr.type,attr"`
}

type graphmlData struct {
	Key   string `xml:"key,attr"`
	Value string `xml:",chardata"`
}

type graphmlNode struct {
	XMLName xml.Name      `xml:"node"`
	ID      string        `xml:"id,attr"`
	Data    []graphmlData `xml:"data"`
}

type graphmlEdge struct {
	XMLName xml.Name      `xml:"edge"`
	ID      string        `xml:"id,attr"`
	Source  string        `xml:"source,attr"`
	Target  string        `xml:"target,attr"`
	Data    []graphmlData `xml:"data"`
}

var graphmlTypes = [...]string{colString: "string", colInt: "int", colLong: "long", colDouble: "double"}

// WriteGraphML writes the network as an undirected GraphML document: one
// <key> per attribute with its type (GraphML's int, long, double, string),
// declared before the graph as the schema requires, then the nodes and
// the edges. Edge weight is the attribute "weight", which Gephi and
// networkx both take as the edge weight.
func (n *Network) WriteGraphML(w io.Writer) error {
	bw := bufio.NewWriter(w)
	x := newXMLWriter(bw)
	x.start("graphml", "xmlns", graphmlNS, "xmlns:xsi", xsiNS, "xsi:schemaLocation", graphmlSchema)
	ncols, ecols := nodeColumns, append([]column{{"weight", colInt}}, n.edgeColumns()...)
	nkeys, ekeys := make([]string, len(ncols)), make([]string, len(ecols))
	for i, c := range ncols {
		nkeys[i] = "n_" + c.name
		x.element(graphmlKey{ID: nkeys[i], For: "node", Name: c.name, Type: graphmlTypes[c.typ]})
	}
	for i, c := range ecols {
		ekeys[i] = "e_" + c.name
		x.element(graphmlKey{ID: ekeys[i], For: "edge", Name: c.name, Type: graphmlTypes[c.typ]})
	}
	x.start("graph", "id", "vigie", "edgedefault", "undirected")
	data := func(keys []string, vals []value) []graphmlData {
		var out []graphmlData
		for i, v := range vals {
			if v.ok {
				out = append(out, graphmlData{Key: keys[i], Value: v.s})
			}
		}
		return out
	}
	for i := range n.Nodes {
		x.element(graphmlNode{ID: nodeID(i), Data: data(nkeys, n.nodeValues(&n.Nodes[i]))})
	}
	for i := range n.Edges {
		e := &n.Edges[i]
		vals := append([]value{integer(int64(e.Weight))}, n.edgeValues(e)...)
		x.element(graphmlEdge{ID: edgeID(i), Source: nodeID(e.Source), Target: nodeID(e.Target), Data: data(ekeys, vals)})
	}
	x.end("graph")
	x.end("graphml")
	if err := x.close(); err != nil {
		return fmt.Errorf("graphml: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("graphml: %w", err)
	}
	return nil
}

type gexfAttribute struct {
	XMLName xml.Name `xml:"attribute"`
	ID      string   `xml:"id,attr"`
	Title   string   `xml:"title,attr"`
	Type    string   `xml:"type,attr"`
}

type gexfAttValue struct {
	For   string `xml:"for,attr"`
	Value string `xml:"value,attr"`
}

type gexfNode struct {
	XMLName   xml.Name       `xml:"node"`
	ID        string         `xml:"id,attr"`
	Label     string         `xml:"label,attr"`
	Start     string         `xml:"start,attr,omitempty"`
	End       string         `xml:"end,attr,omitempty"`
	AttValues []gexfAttValue `xml:"attvalues>attvalue"`
}

type gexfEdge struct {
	XMLName   xml.Name       `xml:"edge"`
	ID        string         `xml:"id,attr"`
	Source    string         `xml:"source,attr"`
	Target    string         `xml:"target,attr"`
	Weight    string         `xml:"weight,attr"`
	Start     string         `xml:"start,attr,omitempty"`
	End       string         `xml:"end,attr,omitempty"`
	AttValues []gexfAttValue `xml:"attvalues>attvalue"`
}

var gexfTypes = [...]string{colString: "string", colInt: "integer", colLong: "long", colDouble: "double"}

// WriteGEXF writes the network as GEXF 1.3. The graph is dynamic with
// dateTime time: each node lives from its first to its last co-action and
// each edge from its first to its last, so Gephi's timeline shows a
// network forming and going quiet. Co-actions are seconds apart, so the
// time format is dateTime, not date. (networkx, up to 3.6 at least, reads
// GEXF times of format date, integer and double but fails on dateTime,
// its issue 3246: read the GraphML export with networkx.)
func (n *Network) WriteGEXF(w io.Writer) error {
	bw := bufio.NewWriter(w)
	x := newXMLWriter(bw)
	x.start("gexf", "xmlns", gexfNS, "xmlns:xsi", xsiNS, "xsi:schemaLocation", gexfSchema, "version", "1.3")
	var meta []string
	if !n.Updated.IsZero() {
		meta = []string{"lastmodifieddate", n.Updated.UTC().Format(time.DateOnly)}
	}
	x.start("meta", meta...)
	x.element(struct {
		XMLName xml.Name `xml:"creator"`
		V       string   `xml:",chardata"`
	}{V: "Vigie"})
	x.element(struct {
		XMLName xml.Name `xml:"description"`
		V       string   `xml:",chardata"`
	}{V: "Coordinated accounts (nodes) and their co-actions (edges); weight = distinct shared objects"})
	x.end("meta")
	x.start("graph", "defaultedgetype", "undirected", "mode", "dynamic", "timeformat", "dateTime")
	ncols, ecols := nodeColumns[1:], n.edgeColumns() // the label is the node's own attribute
	attrs := func(class string, cols []column) {
		x.start("attributes", "class", class, "mode", "static")
		for _, c := range cols {
			x.element(gexfAttribute{ID: c.name, Title: c.name, Type: gexfTypes[c.typ]})
		}
		x.end("attributes")
	}
	attrs("node", ncols)
	attrs("edge", ecols)
	attvalues := func(cols []column, vals []value) []gexfAttValue {
		var out []gexfAttValue
		for i, v := range vals {
			if v.ok {
				out = append(out, gexfAttValue{For: cols[i].name, Value: v.s})
			}
		}
		return out
	}
	x.start("nodes", "count", strconv.Itoa(len(n.Nodes)))
	for i := range n.Nodes {
		nd := &n.Nodes[i]
		x.element(gexfNode{
			ID: nodeID(i), Label: nd.Account,
			Start: timeValue(nd.FirstSeen).s, End: timeValue(nd.LastSeen).s,
			AttValues: attvalues(ncols, n.nodeValues(nd)[1:]),
		})
	}
	x.end("nodes")
	x.start("edges", "count", strconv.Itoa(len(n.Edges)))
	for i := range n.Edges {
		e := &n.Edges[i]
		x.element(gexfEdge{
			ID: edgeID(i), Source: nodeID(e.Source), Target: nodeID(e.Target),
			Weight: strconv.Itoa(e.Weight), Start: timeValue(e.First).s, End: timeValue(e.Last).s,
			AttValues: attvalues(ecols, n.edgeValues(e)),
		})
	}
	x.end("edges")
	x.end("graph")
	x.end("gexf")
	if err := x.close(); err != nil {
		return fmt.Errorf("gexf: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("gexf: %w", err)
	}
	return nil
}

// WriteCSV writes the nodes and the edges as two CSV tables with headers.
// Unlike the XML formats they use account keys as node IDs (CSV can hold
// any string, and an edge list keyed by account is what an analyst joins
// with other data). The headers are those Gephi's spreadsheet import
// recognises: id and label for nodes; source, target, type and weight for
// edges. Values are written as they are: encoding/csv quotes what needs
// quoting, and nothing is prefixed to defuse spreadsheet formulas, which
// would alter the account names.
func (n *Network) WriteCSV(nodes, edges io.Writer) error {
	nw := csv.NewWriter(nodes)
	header := []string{"id"}
	for _, c := range nodeColumns {
		header = append(header, c.name)
	}
	nw.Write(header)
	for i := range n.Nodes {
		nd := &n.Nodes[i]
		row := []string{nd.Account}
		for _, v := range n.nodeValues(nd) {
			row = append(row, v.s)
		}
		nw.Write(row)
	}
	nw.Flush()
	if err := nw.Error(); err != nil {
		return fmt.Errorf("nodes csv: %w", err)
	}
	ew := csv.NewWriter(edges)
	header = []string{"source", "target", "type", "weight"}
	for _, c := range n.edgeColumns() {
		header = append(header, c.name)
	}
	ew.Write(header)
	for i := range n.Edges {
		e := &n.Edges[i]
		row := []string{n.Nodes[e.Source].Account, n.Nodes[e.Target].Account, "Undirected", strconv.Itoa(e.Weight)}
		for _, v := range n.edgeValues(e) {
			row = append(row, v.s)
		}
		ew.Write(row)
	}
	ew.Flush()
	if err := ew.Error(); err != nil {
		return fmt.Errorf("edges csv: %w", err)
	}
	return nil
}
