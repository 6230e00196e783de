package graph

import (
	"fmt"
	"testing"
	"time"
)

func TestZZExplore(t *testing.T) {
	s := genStream(1, []int{10, 20, 30}, 3000, 40000, 40)
	for _, cfg := range []Config{{}, {Algorithm: "leiden"}, {Algorithm: "components"}, {DiscountPopular: true}, {HyperactiveAt: 20}, {BackboneAlpha: 0.05}, {BackboneAlpha: 1}, {NullModelAlpha: 0.01}, {NullModelAlpha: 1}, {MinWeight: 2, BackboneAlpha: 0.05}, {MinWeight: 2, NullModelAlpha: 0.001}} {
		e := mustNew(t, cfg)
		for _, p := range s.posts {
			e.Add(p)
		}
		st := time.Now()
		cs := e.Detect()
		d := time.Since(st)
		organic := 0
		var sizes []int
		for _, c := range cs {
			sizes = append(sizes, len(c.Members))
			for _, m := range c.Members {
				if s.orgs[m] {
					organic++
				}
			}
		}
		ex := ""
		if len(cs) > 0 {
			ex = fmt.Sprint(cs[0].Edges[0].Extra, cs[0].Extra["binding"])
		}
		t.Logf("%+v: %d clusters %v, organic %d, detect %v, edges %d\n  %s", cfg, len(cs), sizes, organic, d, e.Stats().LastDetectSize, ex)
	}
}
