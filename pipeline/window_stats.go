package pipeline

import (
	"sync/atomic"

	"github.com/vigie-osint/vigie/graph"
)

// WindowStats mirror the graph engine's size for metrics. The engine is
// not safe for concurrent use, so the graph stage copies its figures here
// at each checkpoint (every few seconds) instead of letting a metrics
// scrape walk the engine.
type WindowStats struct {
	Edges         atomic.Int64 // edges held
	StrongEdges   atomic.Int64 // edges at or above graph.min_weight
	Accounts      atomic.Int64 // accounts held
	Keys          atomic.Int64 // objects with a window buffer
	Actions       atomic.Int64 // actions held in window buffers
	SeenPosts     atomic.Int64 // post keys held for duplicate detection
	Pairs         atomic.Int64 // co-action pairs recorded so far
	LastDetectLen atomic.Int64 // edges given to the last community detection
}

// set copies an engine's figures.
func (w *WindowStats) set(s graph.Stats) {
	w.Edges.Store(int64(s.Edges))
	w.StrongEdges.Store(int64(s.StrongEdges))
	w.Accounts.Store(int64(s.Accounts))
	w.Keys.Store(int64(s.WindowKeys))
	w.Actions.Store(int64(s.WindowActions))
	w.SeenPosts.Store(int64(s.SeenPosts))
	w.Pairs.Store(s.Pairs)
	w.LastDetectLen.Store(int64(s.LastDetectSize))
}
