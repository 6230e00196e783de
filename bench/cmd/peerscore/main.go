// Command peerscore rates a peer tool's co-action edges against a
// scenario's answer key with the same figures `vigie eval` gives Vigie:
// account precision, recall and F1, ARI and NMI (package eval). The peer
// tools output edges, not clusters; as their users do, the clusters are
// the connected components (of 3 or more accounts) of the graph of edges
// at or above a minimum weight, the weights of several edge files (e.g.
// the toolkit's co_retweet, co_link and co_reply networks) summed.
//
//	peerscore -truth DIR/truth.json -min-weight 3 co_retweet.csv co_link.csv
//
// Edge files are CSV with a header; the first two columns are the two
// accounts and the column named "weight" the weight. Account IDs without
// a "platform:" prefix get "twitter:". It prints one JSON object.
package main

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/vigie-osint/vigie/eval"
	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/scenario"
)

// Result is what peerscore prints.
type Result struct {
	Edges          int     `json:"edges"` // undirected edges at or above the minimum weight
	Clusters       int     `json:"clusters"`
	FalseClusters  int     `json:"false_clusters"` // fewer than half planted members or leaders
	FalsePerDay    float64 `json:"false_clusters_per_day"`
	Flagged        int     `json:"flagged"`
	Precision      float64 `json:"precision"`
	Recall         float64 `json:"recall"`
	F1             float64 `json:"f1"`
	AdjustedRand   float64 `json:"adjusted_rand"`
	NMI            float64 `json:"nmi"`
	NetworksFound  int     `json:"networks_found"` // half or more of the members in one cluster
	NetworksPlants int     `json:"networks"`
}

func main() {
	truthPath := flag.String("truth", "", "scenario answer key (truth.json)")
	minWeight := flag.Float64("min-weight", 3, "minimum summed edge weight")
	minSize := flag.Int("min-size", 3, "smallest cluster reported")
	flag.Parse()
	if err := run(*truthPath, *minWeight, *minSize, flag.Args(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(truthPath string, minWeight float64, minSize int, files []string, out io.Writer) error {
	b, err := os.ReadFile(truthPath)
	if err != nil {
		return err
	}
	var truth scenario.Truth
	if err := json.Unmarshal(b, &truth); err != nil {
		return fmt.Errorf("%s: %w", truthPath, err)
	}
	w := map[[2]string]float64{}
	for _, f := range files {
		if err := readEdges(f, w); err != nil {
			return err
		}
	}
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		if p, ok := parent[x]; ok && p != x {
			r := find(p)
			parent[x] = r
			return r
		}
		parent[x] = x
		return x
	}
	var r Result
	for e, v := range w {
		if v < minWeight {
			continue
		}
		r.Edges++
		a, b := find(e[0]), find(e[1])
		if a != b {
			parent[max(a, b)] = min(a, b)
		}
	}
	comp := map[string][]string{}
	for x := range parent {
		root := find(x)
		comp[root] = append(comp[root], x)
	}
	var clusters []post.Cluster
	for root, ms := range comp {
		if len(ms) < minSize {
			continue
		}
		slices.Sort(ms)
		clusters = append(clusters, post.Cluster{ID: "k-" + root, Status: post.StatusActive, Members: ms})
	}
	slices.SortFunc(clusters, func(a, b post.Cluster) int {
		return cmp.Or(cmp.Compare(len(b.Members), len(a.Members)), cmp.Compare(a.ID, b.ID))
	})
	planted := map[string]bool{}
	for _, n := range truth.Networks {
		for _, a := range n.Members {
			planted[a] = true
		}
		for _, a := range n.Leaders {
			planted[a] = true
		}
	}
	for _, c := range clusters {
		r.Flagged += len(c.Members)
		n := 0
		for _, m := range c.Members {
			if planted[m] {
				n++
			}
		}
		if 2*n < len(c.Members) {
			r.FalseClusters++
		}
	}
	rep := eval.Evaluate(truth, clusters, nil)
	r.Clusters = len(clusters)
	if rep.Days > 0 {
		r.FalsePerDay = float64(r.FalseClusters) / rep.Days
	}
	r.Precision, r.Recall, r.F1 = rep.Precision, rep.Recall, rep.F1
	r.AdjustedRand, r.NMI = rep.AdjustedRand, rep.NMI
	r.NetworksPlants = len(rep.Networks)
	for _, n := range rep.Networks {
		// Half or more of the members in its best cluster.
		if n.Cluster != "" && 2*n.Found >= n.Size && n.Jaccard > 0 {
			for _, c := range clusters {
				if c.ID == n.Cluster && 2*overlap(c.Members, truth, n.Name) >= n.Size {
					r.NetworksFound++
				}
			}
		}
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func overlap(ms []string, truth scenario.Truth, name string) int {
	for _, n := range truth.Networks {
		if n.Name == name {
			in := map[string]bool{}
			for _, m := range n.Members {
				in[m] = true
			}
			k := 0
			for _, m := range ms {
				if in[m] {
					k++
				}
			}
			return k
		}
	}
	return 0
}

// readEdges adds the weights of an edge CSV to w, one undirected edge per
// pair: a file holding both directions of an edge with the same weight
// (as the toolkit's export can) would count it twice, so the larger of
// the two directions is kept per file.
func readEdges(path string, w map[[2]string]float64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return fmt.Errorf("%s: header: %w", path, err)
	}
	wi := slices.Index(head, "weight")
	if wi < 2 {
		return fmt.Errorf("%s: no weight column after the two account columns in %v", path, head)
	}
	this := map[[2]string]float64{}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) <= wi {
			return fmt.Errorf("%s:%d: %d fields, want more than %d", path, line, len(rec), wi)
		}
		v, err := strconv.ParseFloat(rec[wi], 64)
		if err != nil {
			return fmt.Errorf("%s:%d: field weight: %w", path, line, err)
		}
		a, b := key(rec[0]), key(rec[1])
		if a == b {
			continue
		}
		e := [2]string{min(a, b), max(a, b)}
		this[e] = max(this[e], v)
	}
	for e, v := range this {
		w[e] += v
	}
	return nil
}

func key(id string) string {
	if strings.Contains(id, ":") {
		return id
	}
	return "twitter:" + id
}
