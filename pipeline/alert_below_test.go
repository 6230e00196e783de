package pipeline

import (
	"testing"

	"github.com/vigie-osint/vigie/post"
)

// TestBelow: the head check skips only updates the rule would drop, and
// leaves everything it cannot vouch for to DecodeCluster.
func TestBelow(t *testing.T) {
	for _, tc := range []struct {
		name, rec string
		want      bool
	}{
		{"active, risky", `{"schema":1,"id":"c-1","status":"active","scores":{"risk":80},"edges":[{"a":"x","b":"y"}]}`, false},
		{"active, at the threshold", `{"schema":1,"id":"c-1","status":"active","scores":{"risk":50}}`, false},
		{"active, quiet", `{"schema":1,"id":"c-1","status":"active","scores":{"risk":49.9},"edges":[{"a":"x","b":"y"}]}`, true},
		{"expired, risky", `{"schema":1,"id":"c-1","status":"expired","scores":{"risk":90}}`, true},
		{"merged", `{"schema":1,"id":"c-1","status":"merged","merged_into":"c-2"}`, true},
		{"no id", `{"schema":1,"status":"active","scores":{"risk":10}}`, false},
		{"newer schema", `{"schema":99,"id":"c-1","status":"active","scores":{"risk":10}}`, false},
		{"broken JSON", `{"schema":1,"id":"c-1","status":"active","scores":{"risk":10}`, false},
		{"risk not a number", `{"schema":1,"id":"c-1","status":"active","scores":{"risk":"high"}}`, false},
		{"not JSON", `<html>`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := below([]byte(tc.rec), 50); got != tc.want {
				t.Fatalf("below = %v, want %v", got, tc.want)
			}
			if !tc.want {
				return
			}
			// Skipped: the full path must agree that nothing is raised.
			c, err := post.DecodeCluster("t", []byte(tc.rec))
			if err != nil {
				t.Fatalf("skipped a record DecodeCluster rejects: %v", err)
			}
			if _, ok := Evaluate(c, 50); ok {
				t.Fatal("skipped a record that raises an alert")
			}
		})
	}
}
