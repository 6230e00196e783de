package alert

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of a signed delivery.
const (
	HeaderTimestamp = "X-Vigie-Timestamp" // Unix seconds of this attempt
	HeaderSignature = "X-Vigie-Signature" // "v1=<hex>", several comma-separated during a secret rotation
	HeaderDelivery  = "X-Vigie-Delivery"  // the payload's id: de-duplicate by it
	HeaderEvent     = "X-Vigie-Event"     // alert, briefing or test
)

// DefaultReplayWindow is how far a signed timestamp may be from the
// receiver's clock before Verify refuses it.
const DefaultReplayWindow = 5 * time.Minute

// Errors of Verify.
var (
	ErrNoSignature  = errors.New("alert: no v1 signature")
	ErrBadSignature = errors.New("alert: signature does not match")
	ErrStale        = errors.New("alert: timestamp outside the replay window")
)

// Sign returns the v1 signature of a delivery: hex HMAC-SHA256, keyed by
// the secret, over the timestamp in decimal Unix seconds, a '.', and the
// body. Covering the timestamp is what makes the replay window hold: an
// attacker who captured a delivery cannot re-send it later with a fresh
// timestamp.
func Sign(secret []byte, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a delivery's headers against its raw body: the timestamp
// must be within window of now (0 means DefaultReplayWindow) and one of the
// v1 signatures must match, compared in constant time.
func Verify(secret []byte, timestampHeader, signatureHeader string, body []byte, now time.Time, window time.Duration) error {
	if window <= 0 {
		window = DefaultReplayWindow
	}
	ts, err := strconv.ParseInt(strings.TrimSpace(timestampHeader), 10, 64)
	if err != nil {
		return fmt.Errorf("alert: %s %q: not Unix seconds", HeaderTimestamp, timestampHeader)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > window || d < -window {
		return fmt.Errorf("%w: %s is %s from now", ErrStale, HeaderTimestamp, d.Round(time.Second))
	}
	want := Sign(secret, ts, body)
	found := false
	for _, s := range strings.Split(signatureHeader, ",") {
		s = strings.TrimSpace(s)
		if !strings.HasPrefix(s, "v1=") {
			continue
		}
		found = true
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	if !found {
		return ErrNoSignature
	}
	return ErrBadSignature
}

// VerifyRequest reads r's body (at most maxBytes; 0 means 1 MiB) and
// verifies it, returning the body on success. A receiver written in Go can
// use it as is (see docs/alerts.md).
func VerifyRequest(r *http.Request, secret []byte, window time.Duration, maxBytes int64) ([]byte, error) {
	if maxBytes <= 0 {
		maxBytes = 1 << 20
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("alert: read body: %w", err)
	}
	if int64(len(body)) > maxBytes {
		return nil, fmt.Errorf("alert: body over %d bytes", maxBytes)
	}
	if err := Verify(secret, r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature), body, time.Now(), window); err != nil {
		return nil, err
	}
	return body, nil
}
