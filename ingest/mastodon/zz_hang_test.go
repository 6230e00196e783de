package mastodon

import (
	"math/rand"
	"testing"
	"time"
)

func TestFindHang(t *testing.T) {
	seeds := [][]byte{readTestdata(t, "status.json"), readTestdata(t, "quote.json"), readTestdata(t, "reblog.json")}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 200000; i++ {
		b := append([]byte(nil), seeds[r.Intn(len(seeds))]...)
		for k := 0; k < 1+r.Intn(5) && len(b) > 1; k++ {
			switch r.Intn(3) {
			case 0:
				b[r.Intn(len(b))] = byte(r.Intn(256))
			case 1:
				j := r.Intn(len(b))
				b = b[:j]
			case 2:
				j := r.Intn(len(b))
				b = append(b[:j], append([]byte{"<>/'\"= !-"[r.Intn(9)]}, b[j:]...)...)
			}
		}
		done := make(chan bool)
		go func() { htmlText(string(b)); done <- true }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatalf("hang on %q", b)
		}
	}
}
