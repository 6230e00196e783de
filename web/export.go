package web

import (
	"bytes"
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/vigie-osint/vigie/graph"
	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store"
)

// exportMaxClusters bounds one graph export over HTTP: it is built in
// memory before it is sent (so that an error is an error, not a truncated
// file). `vigie graph export` has no bound.
const exportMaxClusters = 5000

// apiExportGraph serves GET /api/export/graph: the stored clusters as one
// graph of accounts, as `vigie graph export` writes it, for Gephi,
// networkx or a spreadsheet. Parameters: format (graphml, the default;
// gexf; csv, with part=nodes or part=edges, one table per request),
// status (active, the default; all, merged, expired), min_risk.
// Every export is audited.
func (s *Server) apiExportGraph(w http.ResponseWriter, r *http.Request) {
	p := &params{r: r}
	formatName := p.str("format", 16)
	part := p.str("part", 8)
	status := p.str("status", 16)
	minRisk := p.float("min_risk")
	if p.err != nil {
		s.fail(w, r, p.err)
		return
	}
	if formatName == "" {
		formatName = string(graph.FormatGraphML)
	}
	f, err := graph.ParseExportFormat(formatName)
	if err != nil {
		s.fail(w, r, &paramError{"format", "must be graphml, gexf or csv"})
		return
	}
	if f == graph.FormatCSV && part != "nodes" && part != "edges" {
		s.fail(w, r, &paramError{"part", "csv needs part=nodes or part=edges"})
		return
	}
	if math.IsNaN(minRisk) || math.IsInf(minRisk, 0) {
		s.fail(w, r, &paramError{"min_risk", "must be a finite number"})
		return
	}
	q := store.ClusterQuery{Status: status, MinRisk: minRisk}
	switch status {
	case "":
		q.Status = post.StatusActive
	case "all":
		q.Status = store.StatusAll
	}
	if _, err := q.Normalized(); err != nil {
		s.fail(w, r, err)
		return
	}
	clusters, truncated, err := s.readClusters(r, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	n := graph.NewNetwork(clusters)
	var b bytes.Buffer
	ctype, ext := "application/xml; charset=utf-8", string(f)
	switch f {
	case graph.FormatGraphML:
		err = n.WriteGraphML(&b)
	case graph.FormatGEXF:
		err = n.WriteGEXF(&b)
	case graph.FormatCSV:
		ctype, ext = "text/csv; charset=utf-8", part+".csv"
		var discard bytes.Buffer
		if part == "nodes" {
			err = n.WriteCSV(&b, &discard)
		} else {
			err = n.WriteCSV(&discard, &b)
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	detail := map[string]int{"nodes": len(n.Nodes), "edges": len(n.Edges), "bytes": b.Len()}
	if truncated {
		detail["truncated"] = 1
	}
	if !s.audit(w, r, len(clusters), detail) {
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="vigie-clusters.`+ext+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	if truncated {
		w.Header().Set("X-Vigie-Truncated", strconv.Itoa(exportMaxClusters))
	}
	_, _ = w.Write(b.Bytes())
}

// readClusters pages through the clusters q matches, riskiest first, and
// loads each in full, up to exportMaxClusters.
func (s *Server) readClusters(r *http.Request, q store.ClusterQuery) ([]post.Cluster, bool, error) {
	q.Limit = store.MaxLimit
	seen := map[string]bool{}
	var out []post.Cluster
	for {
		page, err := s.Store.ListClusters(r.Context(), q)
		if err != nil {
			return nil, false, err
		}
		for _, sum := range page {
			if seen[sum.ID] {
				continue
			}
			if len(out) == exportMaxClusters {
				return out, true, nil
			}
			seen[sum.ID] = true
			c, err := s.Store.GetCluster(r.Context(), sum.ID)
			if errors.Is(err, store.ErrNotFound) {
				continue // removed since it was listed
			}
			if err != nil {
				return nil, false, err
			}
			out = append(out, c)
		}
		if len(page) < q.Limit {
			return out, false, nil
		}
		q.Offset += len(page)
	}
}
