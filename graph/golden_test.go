package graph

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

var update = flag.Bool("update", false, "rewrite testdata/golden files from current output")

// TestGolden pins the exact Detect output of a small fixed stream through
// three detections (clusters found; two merged; all expired), so any
// change to the wire output is a reviewed diff of testdata/golden. Run
// `go test ./graph -run Golden -update` after an intended change.
func TestGolden(t *testing.T) {
	e := mustNew(t, Config{Retention: 6 * time.Hour, MaxEvidence: 2})
	n := 0
	add := func(ps []*post.Post) {
		for _, p := range ps {
			e.Add(p)
		}
	}
	x := []string{"x1", "x2", "x3"}
	y := []string{"y1", "y2", "y3", "y4"}
	for i := range 3 {
		add(burst(&n, x, fmt.Sprint("ox", i), float64(i*200)))
		add(burst(&n, y, fmt.Sprint("oy", i), float64(i*200+100)))
	}
	// An organic bystander co-reposts once: a weight-1 edge, never a cluster.
	add([]*post.Post{rp("org1", "bystander", "oy0", 105)})
	var runs [][]post.Cluster
	runs = append(runs, e.Detect())
	for i := range 4 {
		add(burst(&n, append(append([]string{}, y...), x...), fmt.Sprint("oxy", i), float64(1000+i*200)))
	}
	runs = append(runs, e.Detect())
	add([]*post.Post{rp("late", "nobody", "nothing", 8*3600)})
	runs = append(runs, e.Detect())

	got, err := json.MarshalIndent(runs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "golden", "detect.json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Detect output differs from %s; run with -update if intended.\ngot:\n%s", path, got)
	}
}
