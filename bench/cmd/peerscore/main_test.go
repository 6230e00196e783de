package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPeerScore(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	truth := write("truth.json", `{"start":"2017-05-03T00:00:00Z","end":"2017-05-05T00:00:00Z",
		"networks":[{"name":"N","members":["twitter:a","twitter:b","twitter:c"]},{"name":"M","members":["twitter:m1","twitter:m2","twitter:m3"]}]}`)
	// a-b reaches 3 only summed over the two files; both directions of
	// x-y are listed, as the toolkit's tables do, and count once; m1-m2
	// stays below the weight, so M is missed.
	retweets := write("co_retweet.csv", "user_1,user_2,weight\na,b,2\nb,c,3\nx,y,3\ny,x,3\nm1,m2,2\nc,c,9\n")
	links := write("co_link.csv", "user_1,user_2,weight\nb,a,1\ny,z,4\n")
	var out bytes.Buffer
	if err := run(truth, 3, 3, []string{retweets, links}, &out); err != nil {
		t.Fatal(err)
	}
	var r Result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	// Clusters {a,b,c} (planted) and {x,y,z} (organic: a false one).
	if r.Clusters != 2 || r.FalseClusters != 1 || r.Flagged != 6 || r.Edges != 4 {
		t.Errorf("clusters %d (false %d), flagged %d, edges %d; want 2 (1), 6, 4", r.Clusters, r.FalseClusters, r.Flagged, r.Edges)
	}
	if r.Precision != 0.5 || r.Recall != 0.5 || r.NetworksFound != 1 || r.FalsePerDay != 0.5 {
		t.Errorf("precision %v recall %v found %d false/day %v; want 0.5 0.5 1 0.5", r.Precision, r.Recall, r.NetworksFound, r.FalsePerDay)
	}

	bad := write("bad.csv", "user_1,user_2,weight\na,b,x\n")
	if err := run(truth, 3, 3, []string{bad}, &out); err == nil || !strings.Contains(err.Error(), "bad.csv:2") || !strings.Contains(err.Error(), "weight") {
		t.Errorf("bad weight: %v, want an error naming bad.csv:2 and the field", err)
	}
	noWeight := write("noweight.csv", "a,b\n1,2\n")
	if err := run(truth, 3, 3, []string{noWeight}, &out); err == nil || !strings.Contains(err.Error(), "noweight.csv") {
		t.Errorf("no weight column: %v", err)
	}
}

func FuzzReadEdges(f *testing.F) {
	f.Add([]byte("user_1,user_2,weight\na,b,2\n"))
	f.Add([]byte("a,b,weight\n\"x\ny\",z,1e3\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "e.csv")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		w := map[[2]string]float64{}
		if err := readEdges(p, w); err != nil && !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not name the file", err)
		}
	})
}
