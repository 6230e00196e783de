package mastodon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// backoff returns the delay before reconnection attempt n (0-based): base
// doubled per attempt, capped at max, with "equal jitter" (half fixed,
// half random) so that many clients dropped at once do not come back in
// lockstep.
func backoff(base, max time.Duration, n int) time.Duration {
	if base <= 0 {
		base = time.Second
	}
	d := base
	for i := 0; i < n && d < max; i++ {
		d *= 2
	}
	if max > 0 && d > max {
		d = max
	}
	half := d / 2
	return half + rand.N(half+1)
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// links parses an RFC 8288 Link header into rel → URL. Mastodon pages
// with rel="next" (older statuses, max_id) and rel="prev" (newer, min_id).
func links(h string) map[string]string {
	out := map[string]string{}
	for h != "" {
		h = strings.TrimLeft(h, " \t,")
		if !strings.HasPrefix(h, "<") {
			break
		}
		end := strings.IndexByte(h, '>')
		if end < 0 {
			break
		}
		target := h[1:end]
		h = h[end+1:]
		// Parameters up to the next link: a ',' outside quotes.
		var params string
		inQuote := false
		i := 0
		for ; i < len(h); i++ {
			if h[i] == '"' {
				inQuote = !inQuote
			}
			if h[i] == ',' && !inQuote {
				break
			}
		}
		params, h = h[:i], h[i:]
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
				continue
			}
			for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(v), `"`)) {
				if _, dup := out[strings.ToLower(rel)]; !dup {
					out[strings.ToLower(rel)] = target
				}
			}
		}
	}
	return out
}

// rateLimit is what Mastodon's X-RateLimit-* headers said last.
type rateLimit struct {
	known     bool
	remaining int
	// wait is how long after the response the window resets, measured
	// against the response's own Date header when it has one, so a skewed
	// local clock does not matter.
	wait time.Duration
	at   time.Time // local time the response arrived
}

// maxRateWait caps a wait asked by the server. Mastodon's windows are 5
// minutes; a reset hours away is a broken header, not a plan.
const maxRateWait = 15 * time.Minute

func parseRateLimit(h http.Header, now time.Time) rateLimit {
	rem := h.Get("X-RateLimit-Remaining")
	if rem == "" {
		return rateLimit{}
	}
	n, err := strconv.Atoi(strings.TrimSpace(rem))
	if err != nil {
		return rateLimit{}
	}
	rl := rateLimit{known: true, remaining: n, at: now}
	rl.wait = resetWait(h, now)
	return rl
}

// resetWait is how long until X-RateLimit-Reset (an ISO 8601 time), or
// until Retry-After (seconds or an HTTP date), or 0 when neither says.
func resetWait(h http.Header, now time.Time) time.Duration {
	ref := now
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		ref = d
	}
	var wait time.Duration
	if r := h.Get("X-RateLimit-Reset"); r != "" {
		if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(r)); err == nil {
			wait = t.Sub(ref)
		}
	} else if r := strings.TrimSpace(h.Get("Retry-After")); r != "" {
		if s, err := strconv.Atoi(r); err == nil {
			wait = time.Duration(s) * time.Second
		} else if t, err := http.ParseTime(r); err == nil {
			wait = t.Sub(ref)
		}
	}
	if wait < 0 {
		wait = 0
	}
	if wait > maxRateWait {
		wait = maxRateWait
	}
	return wait
}

// statusError is a non-2xx HTTP response.
type statusError struct {
	code int
	url  string
	body string
}

func (e *statusError) Error() string {
	if e.body != "" {
		return fmt.Sprintf("GET %s: HTTP %d: %s", e.url, e.code, e.body)
	}
	return fmt.Sprintf("GET %s: HTTP %d", e.url, e.code)
}

// permanent reports whether retrying cannot help: the request is wrong,
// the token is refused or the timeline does not exist.
func (e *statusError) permanent() bool {
	switch e.code {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound,
		http.StatusMethodNotAllowed, http.StatusGone, http.StatusUnprocessableEntity:
		return true
	}
	return false
}

func isPermanent(err error) bool {
	var se *statusError
	return errors.As(err, &se) && se.permanent()
}

func newStatusError(res *http.Response, u string) *statusError {
	b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	body := strings.TrimSpace(string(b))
	if strings.ContainsAny(body, "\n\r") {
		body = strings.Join(strings.Fields(body), " ")
	}
	return &statusError{code: res.StatusCode, url: u, body: truncate(body, 200)}
}

// sameOrigin reports whether u is on base's scheme, host and port: a page
// link elsewhere is not followed, so the token never leaves the instance.
func sameOrigin(base, u *url.URL) bool {
	return strings.EqualFold(base.Scheme, u.Scheme) && strings.EqualFold(base.Host, u.Host)
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	switch strings.ToLower(host) {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return strings.HasPrefix(host, "127.")
}
