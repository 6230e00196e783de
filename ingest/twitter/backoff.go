package twitter

import (
	"context"
	"time"
)

// The reconnection rules Twitter documented for v1.1 streaming
// ("Connecting to a streaming endpoint"): once an established connection
// drops, reconnect at once; if reconnecting fails, back off
//
//   - linearly for TCP/IP-level errors: 250 ms more each attempt, up to 16 s;
//   - exponentially for HTTP errors: 5 s, doubling, up to 320 s;
//   - exponentially for HTTP 420 (and 429): 1 min, doubling.
//
// The documentation gives no ceiling for 420; RateMax caps it at 16
// minutes (go-twitter's own cap), so that a rate-limited collector during
// an election never sleeps for hours.
const (
	NetworkStep = 250 * time.Millisecond
	NetworkMax  = 16 * time.Second
	HTTPStart   = 5 * time.Second
	HTTPMax     = 320 * time.Second
	RateStart   = time.Minute
	RateMax     = 16 * time.Minute
)

// failure is what made a connection attempt fail.
type failure int

const (
	failNetwork failure = iota // dial, TLS, reset, or a stream that ended before any data
	failHTTP                   // an HTTP status worth retrying (503, 500...)
	failRate                   // HTTP 420 or 429
)

func (f failure) String() string {
	switch f {
	case failNetwork:
		return "network"
	case failHTTP:
		return "http"
	default:
		return "rate-limited"
	}
}

// backoff counts consecutive failures of each kind and says how long to
// wait before the next attempt. Each kind has its own sequence, as in the
// documentation; an HTTP 200 resets the HTTP and rate sequences, and data
// received on a connection resets the network one. A 200 whose body ends
// before any byte (not even a keep-alive) arrived counts as a network
// failure: reconnecting at once to a server that accepts and hangs up
// would otherwise loop without pause.
type backoff struct {
	network, http, rate int
}

// fail records a failure and returns the wait before the next attempt.
func (b *backoff) fail(f failure) time.Duration {
	switch f {
	case failNetwork:
		b.network++
		return min(time.Duration(b.network)*NetworkStep, NetworkMax)
	case failHTTP:
		b.http++
		return doubling(HTTPStart, HTTPMax, b.http)
	default:
		b.rate++
		return doubling(RateStart, RateMax, b.rate)
	}
}

// connected records an HTTP 200.
func (b *backoff) connected() { b.http, b.rate = 0, 0 }

// delivered records that a connection received data before it ended.
func (b *backoff) delivered() { b.network = 0 }

// doubling returns start·2^(n-1), capped at ceiling.
func doubling(start, ceiling time.Duration, n int) time.Duration {
	d := start
	for i := 1; i < n; i++ {
		d *= 2
		if d >= ceiling {
			return ceiling
		}
	}
	return min(d, ceiling)
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
