package alert

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzVerify: hostile headers never panic, and Verify accepts only a
// header that carries the true signature of the body at a timestamp
// within the window.
func FuzzVerify(f *testing.F) {
	f.Add("1700000000", "v1=00", []byte(`{}`))
	f.Add("", "", []byte{})
	f.Add("-9223372036854775808", "v1=,v1=zz,,", []byte("x"))
	f.Add("1700000000", Sign([]byte(secret), 1_700_000_000, []byte("ok")), []byte("ok"))
	now := time.Unix(1_700_000_000, 0)
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		if Verify([]byte(secret), ts, sig, body, now, time.Hour) != nil {
			return
		}
		n, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
		if err != nil {
			t.Fatalf("accepted an unparsable timestamp %q", ts)
		}
		parts := strings.Split(sig, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		if !slices.Contains(parts, Sign([]byte(secret), n, body)) {
			t.Fatalf("Verify accepted ts=%q sig=%q without the true signature", ts, sig)
		}
	})
}

// FuzzParseRetryAfter: any header value gives a delay in [0, 1h].
func FuzzParseRetryAfter(f *testing.F) {
	f.Add("120")
	f.Add("Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add("-5")
	now := time.Date(2017, 5, 5, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d := parseRetryAfter(v, now); d < 0 || d > maxRetryAfter {
			t.Fatalf("parseRetryAfter(%q) = %v", v, d)
		}
	})
}
