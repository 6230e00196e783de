package elastic

import (
	"testing"
	"time"
)

func TestZZPhases(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	var tLocate, tPut time.Duration
	for i := 0; i < 4000; i += 500 {
		ps := genPosts(i, 500)
		ids := make([]string, len(ps))
		for j := range ps {
			ids[j] = ps[j].Key()
		}
		t0 := time.Now()
		if _, err := s.locate(ctx, ids, false); err != nil {
			t.Fatal(err)
		}
		tLocate += time.Since(t0)
		t0 = time.Now()
		if err := s.PutPosts(ctx, ps); err != nil {
			t.Fatal(err)
		}
		tPut += time.Since(t0)
	}
	t.Logf("locate %v, PutPosts (incl. locate) %v for 4000 posts", tLocate, tPut)
}
