package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/user"
	"path/filepath"

	"github.com/vigie-osint/vigie/config"
	"github.com/vigie-osint/vigie/graph"
	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store"
	"github.com/vigie-osint/vigie/web"
)

const graphExportDoc = `Write stored clusters as one graph of accounts for Gephi, networkx or a
spreadsheet: nodes are accounts (with their cluster, its status and risk,
degree, first and last co-action), edges are co-actions (weight = distinct
shared objects, per-signal counts, co-action pairs, first and last time,
mean delay).

  --format graphml   one GraphML file (typed <key> attributes; Gephi, networkx, igraph)
  --format gexf      one GEXF 1.3 file, dynamic: Gephi's timeline replays the network
  --format csv       --out is a directory; writes nodes.csv and edges.csv in it

It reads the store only (it can run beside 'vigie run'). A cluster record
carries at most its 1,000 strongest edges; the export holds the stored
edges and says when some were left out.

With privacy.pseudonymise listing exports (or --pseudonymise), account keys
become keyed pseudonyms (twitter:acct_…, HMAC-SHA256 with privacy.key):
the same key gives the same pseudonyms in every export (docs/privacy.md).`

// graphExport is `vigie graph export`.
func graphExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := newFlagSet("graph export", graphExportDoc, stderr)
	format := fl.String("format", string(graph.FormatGraphML), "graphml, gexf or csv")
	out := fl.String("out", "", "output file, - for standard output (graphml, gexf); output directory (csv)")
	minRisk := fl.Float64("min-risk", 0, "only clusters whose risk (0-100) is at least this")
	status := fl.String("status", post.StatusActive, "clusters to export: active, all, merged or expired")
	pseudo := fl.Bool("pseudonymise", false, "replace account keys by keyed pseudonyms (needs privacy.key or privacy.key_file); on when privacy.pseudonymise lists exports")
	cf := commonFlags{speed: -1}
	fl.StringVar(&cf.configPath, "config", "", "YAML configuration file (its store settings are used)")
	fl.StringVar(&cf.dataDir, "data-dir", "", "directory of the embedded store (data_dir)")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	f, err := graph.ParseExportFormat(*format)
	if err != nil {
		fmt.Fprintln(stderr, "vigie graph export:", err)
		return errUsage
	}
	switch {
	case *out == "":
		fmt.Fprintln(stderr, "vigie graph export: --out is required")
		return errUsage
	case *out == "-" && f == graph.FormatCSV:
		fmt.Fprintln(stderr, "vigie graph export: csv writes two files: --out must be a directory, not -")
		return errUsage
	case math.IsNaN(*minRisk) || math.IsInf(*minRisk, 0):
		fmt.Fprintln(stderr, "vigie graph export: --min-risk must be a finite number")
		return errUsage
	}
	q := store.ClusterQuery{Status: *status, MinRisk: *minRisk}
	if *status == "all" {
		q.Status = store.StatusAll
	}
	if _, err := q.Normalized(); err != nil {
		fmt.Fprintf(stderr, "vigie graph export: --status %q: want active, all, merged or expired\n", *status)
		return errUsage
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	if *pseudo && !cfg.Privacy.Pseudonymises("exports") {
		if cfg.Privacy.Key == "" && cfg.Privacy.KeyFile == "" {
			fmt.Fprintln(stderr, "vigie graph export: --pseudonymise needs a key: set privacy.key_file (or VIGIE_PRIVACY_KEY)")
			return errUsage
		}
		cfg.Privacy.Pseudonymise = append(cfg.Privacy.Pseudonymise, "exports")
	}
	ps, err := pseudonymizer(cfg, "exports")
	if err != nil {
		return err
	}
	st, err := openExistingStore(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	clusters, err := readClusters(ctx, st, q)
	if err != nil {
		return err
	}
	for i := range clusters {
		clusters[i] = ps.Cluster(clusters[i]) // nil ps: unchanged
	}
	n := graph.NewNetwork(clusters)
	// Who took which data out, as for the API's exports: recorded first,
	// so that no export leaves unaudited (docs/security.md).
	if err := auditExport(cfg, map[string]string{"format": string(f), "status": *status, "min_risk": fmt.Sprint(*minRisk), "out": *out,
		"pseudonymised": fmt.Sprint(ps.Enabled())},
		len(clusters), map[string]int{"nodes": len(n.Nodes), "edges": len(n.Edges)}); err != nil {
		return err
	}
	written, err := writeNetwork(n, f, *out, stdout)
	if err != nil {
		return err
	}
	report := stdout
	if *out == "-" {
		report = stderr
	}
	fmt.Fprintf(report, "exported %d clusters: %d accounts, %d edges to %s\n", len(clusters), len(n.Nodes), len(n.Edges), written)
	if ps.Enabled() {
		fmt.Fprintln(report, "accounts are pseudonymised (privacy.pseudonymise: exports)")
	}
	short, missing := 0, 0
	for _, c := range clusters {
		if c.EdgeCount > len(c.Edges) {
			short++
			missing += c.EdgeCount - len(c.Edges)
		}
	}
	if short > 0 {
		fmt.Fprintf(report, "note: %d clusters are stored with their strongest edges only; %d weaker edges are not in the export\n", short, missing)
	}
	return nil
}

// openExistingStore opens the configured store but refuses to create one:
// exporting from a mistyped --data-dir should say so, not write an empty
// file from a database it just made.
func openExistingStore(ctx context.Context, cfg config.Config, stderr io.Writer) (store.Store, error) {
	if cfg.Store.Kind == "embedded" {
		if _, err := os.Stat(cfg.Store.Path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no store at %s: run 'vigie run' (or the index stage) first, or point --data-dir or --config at it", cfg.Store.Path)
		}
	}
	return openStore(ctx, cfg, NewLogger(config.Log{Level: "warn", Format: cfg.Log.Format}, stderr))
}

// readClusters pages through every cluster q matches and loads each in
// full (members and edges). A cluster listed on two pages, as can happen
// while a running pipeline rewrites the store, is read once.
func readClusters(ctx context.Context, r store.Reader, q store.ClusterQuery) ([]post.Cluster, error) {
	q.Limit = store.MaxLimit
	seen := map[string]bool{}
	var out []post.Cluster
	for {
		page, err := r.ListClusters(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, s := range page {
			if seen[s.ID] {
				continue
			}
			seen[s.ID] = true
			c, err := r.GetCluster(ctx, s.ID)
			if errors.Is(err, store.ErrNotFound) {
				continue // removed since it was listed
			}
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		if len(page) < q.Limit {
			return out, nil
		}
		q.Offset += len(page)
	}
}

// writeNetwork writes n in format f to out and returns what it wrote, for
// the report. Files are written under a temporary name and renamed once
// complete, so an interrupted export never leaves a truncated file that
// Gephi would half-read.
func writeNetwork(n *graph.Network, f graph.ExportFormat, out string, stdout io.Writer) (string, error) {
	if out == "-" {
		bw := bufio.NewWriter(stdout)
		var err error
		if f == graph.FormatGEXF {
			err = n.WriteGEXF(bw)
		} else {
			err = n.WriteGraphML(bw)
		}
		if err != nil {
			return "", err
		}
		return "standard output", bw.Flush()
	}
	var paths []string
	if f == graph.FormatCSV {
		if err := os.MkdirAll(out, 0o755); err != nil {
			return "", fmt.Errorf("export: %w", err)
		}
		paths = []string{filepath.Join(out, "nodes.csv"), filepath.Join(out, "edges.csv")}
	} else {
		paths = []string{out}
	}
	files := make([]*atomicFile, 0, len(paths))
	abort := func() {
		for _, a := range files {
			a.abort()
		}
	}
	for _, p := range paths {
		a, err := createAtomic(p)
		if err != nil {
			abort()
			return "", err
		}
		files = append(files, a)
	}
	var err error
	switch f {
	case graph.FormatCSV:
		err = n.WriteCSV(files[0].w, files[1].w)
	case graph.FormatGEXF:
		err = n.WriteGEXF(files[0].w)
	default:
		err = n.WriteGraphML(files[0].w)
	}
	if err != nil {
		abort()
		return "", fmt.Errorf("export %s: %w", out, err)
	}
	// Both CSV tables are complete on disk before either is renamed.
	for i, a := range files {
		if err := a.commit(); err != nil {
			for _, rest := range files[i+1:] {
				rest.abort()
			}
			return "", err
		}
	}
	if f == graph.FormatCSV {
		return paths[0] + " and " + paths[1], nil
	}
	return out, nil
}

// atomicFile is a temporary file beside path, renamed over it by commit.
type atomicFile struct {
	path string
	f    *os.File
	w    *bufio.Writer
}

func createAtomic(path string) (*atomicFile, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return &atomicFile{path: path, f: f, w: bufio.NewWriterSize(f, 1<<16)}, nil
}

func (a *atomicFile) commit() error {
	err := a.w.Flush()
	if err == nil {
		err = a.f.Chmod(0o644)
	}
	if err == nil {
		err = a.f.Close()
	}
	if err == nil {
		err = os.Rename(a.f.Name(), a.path)
	}
	if err != nil {
		a.abort()
		return fmt.Errorf("export %s: %w", a.path, err)
	}
	return nil
}

func (a *atomicFile) abort() {
	a.f.Close()
	os.Remove(a.f.Name())
}

// auditExport appends the export to the audit log (http.audit_file), with
// the operating-system user as identity.
func auditExport(cfg config.Config, params map[string]string, records int, detail map[string]int) error {
	a, err := web.OpenAudit(cfg.HTTP.AuditFile, nil)
	if err != nil {
		return err
	}
	who := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	err = a.Record(web.AuditEntry{Identity: who, Role: "cli", Via: "cli", Endpoint: "vigie graph export", Params: params, Records: records, Detail: detail})
	return errors.Join(err, a.Close())
}
