package alert

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/vigie-osint/vigie/post"
)

// Subscription is one team's webhook and what it wants to hear about.
type Subscription struct {
	Name   string `json:"name"`
	URL    string `json:"url"`
	Format string `json:"format"` // json, slack or teams
	// Secret signs deliveries. It is never returned by the API after the
	// subscription is created.
	Secret     string   `json:"secret,omitempty"`
	Candidates []string `json:"candidates,omitempty"`
	MinRisk    float64  `json:"min_risk,omitempty"`
	Signals    []string `json:"signals,omitempty"`
	Languages  []string `json:"languages,omitempty"`
	Briefings  bool     `json:"briefings,omitempty"`
	// Source is "config" for subscriptions from the configuration file,
	// which the API cannot change, and "api" for the others.
	Source string `json:"source,omitempty"`
}

// Redacted returns s without its secret, for API answers and logs.
func (s Subscription) Redacted() Subscription {
	s.Secret = ""
	return s
}

var knownSignals = []string{"repost", "link", "domain", "hashtag", "hashtag_seq", "text", "reply", "mention", "media"}

// ErrInvalid is wrapped by subscription validation errors.
var ErrInvalid = errors.New("invalid subscription")

// Validate checks a subscription, naming the bad field.
func (s *Subscription) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: field %q: %s", ErrInvalid, field, fmt.Sprintf(format, args...))
	}
	if !validName(s.Name) {
		return bad("name", "%q must be 1-64 letters, digits, '-' or '_'", s.Name)
	}
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return bad("url", "%q must be an http or https URL", s.URL)
	}
	if s.Format == "" {
		s.Format = FormatJSON
	}
	if !slices.Contains(Formats, s.Format) {
		return bad("format", "must be json, slack or teams, got %q", s.Format)
	}
	if s.MinRisk < 0 || s.MinRisk > 100 || s.MinRisk != s.MinRisk {
		return bad("min_risk", "must be between 0 and 100")
	}
	for i, sig := range s.Signals {
		if !slices.Contains(knownSignals, sig) {
			return bad(fmt.Sprintf("signals[%d]", i), "unknown signal %q", sig)
		}
	}
	for _, l := range [][]string{s.Candidates, s.Languages} {
		for i := range l {
			l[i] = strings.ToLower(strings.TrimSpace(l[i]))
		}
	}
	if len(s.Secret) > 256 {
		return bad("secret", "longer than 256 bytes")
	}
	return nil
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// NewSecret returns a random 32-byte secret, hex-encoded.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// MatchAlert reports whether the subscription wants an alert on cluster c.
// minRisk is the global alerts.min_risk, used when the subscription sets
// none. An empty filter matches everything; a language filter matches a
// cluster whose languages are unknown, since excluding what cannot be seen
// would silently drop alerts.
func (s *Subscription) MatchAlert(a post.Alert, c post.Cluster, minRisk float64) bool {
	if s.MinRisk > 0 {
		minRisk = s.MinRisk
	}
	if a.Risk < minRisk {
		return false
	}
	if len(s.Candidates) > 0 {
		ts := Targets(a, c)
		if !slices.ContainsFunc(s.Candidates, func(x string) bool { return slices.Contains(ts, strings.ToLower(x)) }) {
			return false
		}
	}
	if len(s.Signals) > 0 && !slices.ContainsFunc(s.Signals, func(x string) bool { return c.Signals[post.Kind(x)] > 0 }) {
		return false
	}
	if len(s.Languages) > 0 {
		if ls := Languages(c); len(ls) > 0 && !slices.ContainsFunc(s.Languages, func(x string) bool { return slices.Contains(ls, strings.ToLower(x)) }) {
			return false
		}
	}
	return true
}

// Registry is the set of subscriptions: the configured ones (read-only)
// and those added through the API, kept in the outbox database.
type Registry struct {
	Static []Subscription
	Outbox *Outbox
}

// ErrReadOnly is returned when the API tries to change a configured
// subscription.
var ErrReadOnly = errors.New("subscription comes from the configuration file and cannot be changed through the API")

// List returns every subscription, configured ones first, secrets
// included (callers redact).
func (r *Registry) List(ctx context.Context) ([]Subscription, error) {
	out := make([]Subscription, 0, len(r.Static))
	for _, s := range r.Static {
		s.Source = "config"
		out = append(out, s)
	}
	if r.Outbox == nil {
		return out, nil
	}
	dyn, err := r.Outbox.subscriptions(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range dyn {
		if !slices.ContainsFunc(r.Static, func(x Subscription) bool { return x.Name == s.Name }) {
			s.Source = "api"
			out = append(out, s)
		}
	}
	return out, nil
}

// Get returns one subscription or an error wrapping ErrNotFound.
func (r *Registry) Get(ctx context.Context, name string) (Subscription, error) {
	all, err := r.List(ctx)
	if err != nil {
		return Subscription{}, err
	}
	for _, s := range all {
		if s.Name == name {
			return s, nil
		}
	}
	return Subscription{}, fmt.Errorf("subscription %q: %w", name, ErrNotFound)
}

// ErrNotFound is wrapped when a subscription does not exist.
var ErrNotFound = errors.New("not found")

// Put validates and stores an API subscription, generating a secret when
// it has none; it returns the stored subscription, secret included, which
// is the only time the API shows it.
func (r *Registry) Put(ctx context.Context, s Subscription) (Subscription, error) {
	if err := s.Validate(); err != nil {
		return Subscription{}, err
	}
	if slices.ContainsFunc(r.Static, func(x Subscription) bool { return x.Name == s.Name }) {
		return Subscription{}, fmt.Errorf("subscription %q: %w", s.Name, ErrReadOnly)
	}
	if r.Outbox == nil {
		return Subscription{}, errors.New("alert: no outbox to keep API subscriptions in")
	}
	if s.Secret == "" {
		s.Secret = NewSecret()
	}
	s.Source = "api"
	if err := r.Outbox.putSubscription(ctx, s); err != nil {
		return Subscription{}, err
	}
	return s, nil
}

// Delete removes an API subscription; its pending deliveries are dropped
// by the dispatcher when due.
func (r *Registry) Delete(ctx context.Context, name string) error {
	if slices.ContainsFunc(r.Static, func(x Subscription) bool { return x.Name == name }) {
		return fmt.Errorf("subscription %q: %w", name, ErrReadOnly)
	}
	if r.Outbox == nil {
		return fmt.Errorf("subscription %q: %w", name, ErrNotFound)
	}
	return r.Outbox.deleteSubscription(ctx, name)
}
