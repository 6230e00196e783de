package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/vigie-osint/vigie/netguard"
)

// Result is the outcome of one attempt.
type Result struct {
	Status     int           // HTTP status; 0 when no answer came
	RetryAfter time.Duration // from a Retry-After header; 0 when none
	Retry      bool          // a later attempt may succeed
	Err        error         // nil on a 2xx answer
}

// UserAgent identifies Vigie to receivers.
const UserAgent = "Vigie-Webhook/1"

// maxRetryAfter caps a Retry-After a receiver asks for, so one
// misconfigured receiver cannot park its deliveries for days.
const maxRetryAfter = time.Hour

// Post sends one delivery. The body is signed with a timestamp taken now,
// so each attempt carries a fresh timestamp within the replay window.
// Redirects are not followed: a webhook URL that redirects is a
// configuration error, and following it would bypass the egress check of
// the first hop's intent.
func Post(ctx context.Context, client *http.Client, sub Subscription, id, event string, body []byte, now time.Time) Result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, bytes.NewReader(body))
	if err != nil {
		return Result{Err: fmt.Errorf("alert: %s: %w", sub.Name, err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(HeaderDelivery, id)
	req.Header.Set(HeaderEvent, event)
	ts := now.Unix()
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	if sub.Secret != "" {
		req.Header.Set(HeaderSignature, Sign([]byte(sub.Secret), ts, body))
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		// A refused target will not become allowed by retrying.
		return Result{Err: fmt.Errorf("alert: %s: %w", sub.Name, err), Retry: !errors.Is(err, netguard.ErrRefused)}
	}
	defer resp.Body.Close()
	// Read a little of the answer, for the error text, and drain at most
	// 64 KiB so the connection can be reused.
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	r := Result{Status: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), now)}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return r
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooEarly,
		resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		r.Retry = true
	}
	r.Err = fmt.Errorf("alert: %s: HTTP %d: %s", sub.Name, resp.StatusCode, truncate(string(bytes.TrimSpace(msg)), 200))
	return r
}

// parseRetryAfter reads delay-seconds or an HTTP date (RFC 9110 10.2.3).
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		// Compare in seconds first: n*time.Second overflows for a huge n
		// (a hostile or broken receiver), which would turn into a
		// negative delay.
		if n >= int(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter)
	}
	return 0
}

// Backoff is the delay before attempt n+1 after n failed attempts:
// exponential from base, capped at maxDelay, with "equal jitter" (half
// fixed, half random) so that many deliveries failing together do not
// retry in lockstep. A Retry-After from the receiver is honoured when it
// asks for longer.
func Backoff(n int, base, maxDelay, retryAfter time.Duration, rng *rand.Rand) time.Duration {
	d := base
	for i := 1; i < n && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	d = d/2 + time.Duration(rng.Int64N(int64(d/2)+1))
	return max(d, retryAfter)
}

// Stats counts dispatcher outcomes.
type Stats struct {
	Delivered atomic.Int64
	Retried   atomic.Int64
	Failed    atomic.Int64
}

// Dispatcher delivers due deliveries from the outbox.
type Dispatcher struct {
	Outbox      *Outbox
	Registry    *Registry
	Client      *http.Client // with the egress policy: netguard.Policy.Client
	MaxAttempts int          // default 10
	BaseDelay   time.Duration
	MaxDelay    time.Duration
	// Poll bounds how long the dispatcher sleeps when nothing is due.
	Poll  time.Duration
	Log   *slog.Logger
	Stats *Stats
	// Seed makes the jitter reproducible (tests); 0 uses 1.
	Seed uint64
}

// Run delivers until ctx is done. Deliveries go out one at a time, in due
// order: the volume is a few per alert, and sequential sending keeps a
// slow receiver from being hammered.
func (d *Dispatcher) Run(ctx context.Context) error {
	if d.MaxAttempts <= 0 {
		d.MaxAttempts = 10
	}
	if d.BaseDelay <= 0 {
		d.BaseDelay = time.Second
	}
	if d.MaxDelay <= 0 {
		d.MaxDelay = 10 * time.Minute
	}
	if d.Poll <= 0 {
		d.Poll = 5 * time.Second
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Stats == nil {
		d.Stats = &Stats{}
	}
	seed := d.Seed
	if seed == 0 {
		seed = 1
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	// An outbox that cannot be read or updated (its disk full, say) stalls
	// the dispatcher with a logged error and a backoff, instead of ending
	// it and, in `vigie run`, every stage with it: the deliveries are
	// still in the file and go out once it works again.
	failures := 0
	stall := func(err error) bool {
		failures++
		wait := min(time.Second<<min(failures-1, 5), 30*time.Second)
		d.Log.Error("webhook outbox unavailable; retrying", "attempt", failures, "retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	for {
		now := time.Now()
		due, next, err := d.Outbox.Due(ctx, now, 32)
		if err != nil {
			if ctx.Err() != nil || !stall(err) {
				return nil
			}
			continue
		}
		failed := false
		for _, dl := range due {
			if ctx.Err() != nil {
				return nil
			}
			if err := d.attempt(ctx, dl, rng); err != nil {
				if ctx.Err() != nil || !stall(err) {
					return nil
				}
				failed = true
				break
			}
		}
		if failed {
			continue
		}
		failures = 0
		if len(due) > 0 {
			continue
		}
		wait := d.Poll
		if !next.IsZero() {
			wait = min(wait, max(time.Until(next), 10*time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-d.Outbox.Wake():
		case <-t.C:
		}
		t.Stop()
	}
}

func (d *Dispatcher) attempt(ctx context.Context, dl Delivery, rng *rand.Rand) error {
	sub, err := d.Registry.Get(ctx, dl.Subscription)
	if errors.Is(err, ErrNotFound) {
		d.Stats.Failed.Add(1)
		return d.Outbox.record(ctx, dl.ID, StateFailed, dl.Attempts, time.Now(), 0, "subscription removed", time.Now())
	}
	if err != nil {
		return err
	}
	res := Post(ctx, d.Client, sub, dl.ID, dl.Event, dl.Body, time.Now())
	if ctx.Err() != nil {
		return nil // stopping: the delivery stays pending and is sent after a restart
	}
	n := dl.Attempts + 1
	now := time.Now()
	log := d.Log.With("delivery", dl.ID, "subscription", dl.Subscription, "attempt", n, "status", res.Status)
	switch {
	case res.Err == nil:
		d.Stats.Delivered.Add(1)
		log.Info("webhook delivered")
		return d.Outbox.record(ctx, dl.ID, StateDelivered, n, now, res.Status, "", now)
	case res.Retry && n < d.MaxAttempts:
		wait := Backoff(n, d.BaseDelay, d.MaxDelay, res.RetryAfter, rng)
		d.Stats.Retried.Add(1)
		log.Warn("webhook failed; will retry", "in", wait.Round(time.Millisecond), "err", res.Err)
		return d.Outbox.record(ctx, dl.ID, StatePending, n, now.Add(wait), res.Status, res.Err.Error(), now)
	default:
		d.Stats.Failed.Add(1)
		log.Error("webhook failed; giving up", "err", res.Err)
		return d.Outbox.record(ctx, dl.ID, StateFailed, n, now, res.Status, res.Err.Error(), now)
	}
}
