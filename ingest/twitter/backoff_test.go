package twitter

import (
	"testing"
	"time"
)

// TestBackoffSchedule checks the documented v1.1 reconnection rules, step
// by step.
func TestBackoffSchedule(t *testing.T) {
	type step struct {
		ev   string // "net", "http", "rate": a failure; "200": connected; "data": delivered
		wait time.Duration
	}
	ms := time.Millisecond
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"network: linear by 250 ms", []step{{"net", 250 * ms}, {"net", 500 * ms}, {"net", 750 * ms}, {"net", time.Second}}},
		{"http: 5 s doubling to 320 s", []step{
			{"http", 5 * time.Second}, {"http", 10 * time.Second}, {"http", 20 * time.Second}, {"http", 40 * time.Second},
			{"http", 80 * time.Second}, {"http", 160 * time.Second}, {"http", 320 * time.Second}, {"http", 320 * time.Second},
		}},
		{"420: 1 min doubling, capped at 16 min", []step{
			{"rate", time.Minute}, {"rate", 2 * time.Minute}, {"rate", 4 * time.Minute}, {"rate", 8 * time.Minute},
			{"rate", 16 * time.Minute}, {"rate", 16 * time.Minute},
		}},
		{"kinds keep their own sequences", []step{{"http", 5 * time.Second}, {"net", 250 * ms}, {"rate", time.Minute}, {"http", 10 * time.Second}, {"net", 500 * ms}, {"rate", 2 * time.Minute}}},
		{"a 200 resets http and 420, not network", []step{
			{"http", 5 * time.Second}, {"rate", time.Minute}, {"net", 250 * ms}, {"200", 0},
			{"http", 5 * time.Second}, {"rate", time.Minute}, {"net", 500 * ms},
		}},
		{"data resets network", []step{{"net", 250 * ms}, {"net", 500 * ms}, {"data", 0}, {"net", 250 * ms}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b backoff
			for i, s := range tc.steps {
				var got time.Duration
				switch s.ev {
				case "net":
					got = b.fail(failNetwork)
				case "http":
					got = b.fail(failHTTP)
				case "rate":
					got = b.fail(failRate)
				case "200":
					b.connected()
				case "data":
					b.delivered()
				}
				if got != s.wait {
					t.Errorf("step %d (%s): wait %s, want %s", i, s.ev, got, s.wait)
				}
			}
		})
	}
}

func TestBackoffCaps(t *testing.T) {
	var b backoff
	var last time.Duration
	for i := 1; i <= 200; i++ {
		last = b.fail(failNetwork)
		if i == 64 && last != NetworkMax {
			t.Errorf("64th network failure waits %s, want %s", last, NetworkMax)
		}
	}
	if last != NetworkMax {
		t.Errorf("network wait after 200 failures %s, want %s", last, NetworkMax)
	}
	for i := 0; i < 100; i++ { // no overflow past the cap
		if d := b.fail(failRate); d <= 0 || d > RateMax {
			t.Fatalf("rate wait %s after %d failures", d, i+1)
		}
		if d := b.fail(failHTTP); d <= 0 || d > HTTPMax {
			t.Fatalf("http wait %s after %d failures", d, i+1)
		}
	}
}
