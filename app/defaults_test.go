package app

import (
	"slices"
	"testing"

	"github.com/vigie-osint/vigie/config"
	"github.com/vigie-osint/vigie/graph"
)

// TestDefaultSignalsAgree checks that the configuration's default
// graph.signals reach the engine as graph.DefaultSignals: the two defaults
// are written in two packages (config does not import graph), and a
// library user building graph.Config{} must get the signals `vigie run`
// uses.
func TestDefaultSignalsAgree(t *testing.T) {
	fromConfig := GraphConfig(config.Default()).Signals
	if !slices.Equal(fromConfig, graph.DefaultSignals) {
		t.Errorf("config default signals %v, graph.DefaultSignals %v; want the same", fromConfig, graph.DefaultSignals)
	}
	eng, err := graph.New(graph.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got := eng.Config().Signals; !slices.Equal(got, fromConfig) {
		t.Errorf("engine default signals %v, want %v", got, fromConfig)
	}
}
