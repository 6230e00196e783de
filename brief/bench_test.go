package brief

import (
	"testing"
	"time"
)

// BenchmarkBuild builds the fixture's briefing with its three charts.
func BenchmarkBuild(b *testing.B) {
	s := fixtureTB(b)
	for b.Loop() {
		if _, err := Build(b.Context(), s, Options{Date: "2017-05-05", Final: true, Now: time.Unix(0, 0)}); err != nil {
			b.Fatal(err)
		}
	}
}
