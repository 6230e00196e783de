package alert

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

func BenchmarkSignVerify(b *testing.B) {
	body := make([]byte, 4<<10)
	now := time.Unix(1_700_000_000, 0)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		sig := Sign([]byte(secret), now.Unix(), body)
		if err := Verify([]byte(secret), "1700000000", sig, body, now, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNotify measures queueing one alert for three subscriptions:
// rendering and one durable (fsynced) outbox transaction.
func BenchmarkNotify(b *testing.B) {
	h := newHarnessTB(b, Subscription{Name: "a", URL: "https://x/", Secret: secret},
		Subscription{Name: "b", URL: "https://x/", Format: FormatSlack, Secret: secret},
		Subscription{Name: "c", URL: "https://x/", Format: FormatTeams, Secret: secret})
	i := 0
	for b.Loop() {
		i++
		c, a := cluster(fmt.Sprint("c", i), 70, time.Date(2017, 5, 5, 12, 0, 0, 0, time.UTC))
		if err := h.notif.Notify(b.Context(), []post.Cluster{c}, []post.Alert{a}); err != nil {
			b.Fatal(err)
		}
	}
}
