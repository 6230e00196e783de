package graph

import (
	"fmt"
	"testing"
	"time"
)

// TestEdgeObjectsBounded: a pair that keeps co-acting never expires, so
// its edge must forget its oldest objects past MaxEdgeObjects instead of
// growing for as long as the stream runs.
func TestEdgeObjectsBounded(t *testing.T) {
	e := mustNew(t, Config{})
	n := MaxEdgeObjects + 200
	for i := range n {
		sec := float64(i * 120)
		e.Add(rp(fmt.Sprint("x", i), "bot1", fmt.Sprint("o", i), sec))
		e.Add(rp(fmt.Sprint("y", i), "bot2", fmt.Sprint("o", i), sec+2))
	}
	edges := e.Edges(1)
	if len(edges) != 1 {
		t.Fatalf("%d edges, want 1", len(edges))
	}
	ed := edges[0]
	if ed.Weight != MaxEdgeObjects {
		t.Fatalf("weight %d after %d shared objects, want it capped at %d", ed.Weight, n, MaxEdgeObjects)
	}
	if got := ed.Extra["co_actions"].(int64); got != int64(n) {
		t.Errorf("co_actions %d, want %d: the count of co-actions is not capped", got, n)
	}
	// The oldest objects went: the edge reached MinWeight at the third
	// object it still holds, the 203rd shared.
	since := ed.Extra["since"].(time.Time)
	want := ed.First.Add(time.Duration(202*120+2) * time.Second)
	if !since.Equal(want) {
		t.Errorf("since %s, want %s (the oldest %d objects forgotten)", since, want, n-MaxEdgeObjects)
	}
}
