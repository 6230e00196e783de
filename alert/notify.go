package alert

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/privacy"
)

// Notifier turns alerts and briefings into queued deliveries for the
// subscriptions that want them. Its Notify is what the alert stage calls
// before committing its offsets.
type Notifier struct {
	Outbox     *Outbox
	Registry   *Registry
	MinRisk    float64       // alerts.min_risk, for subscriptions that set none
	Cooldown   time.Duration // per subscription and cluster, in stream time
	BaseURL    string        // web UI, for links
	MaxPayload int           // bytes
	Log        *slog.Logger
	// Pseudonymizer, when set (privacy.pseudonymise: alerts), replaces
	// the account keys of payloads (members_sample, mention objects) by
	// keyed pseudonyms. Subscription filters still see the real cluster.
	// The payload schema is unchanged: the fields hold strings either way.
	Pseudonymizer *privacy.Pseudonymizer
	// Now is the wall clock (tests); nil means time.Now.
	Now func() time.Time
}

func (n *Notifier) now() time.Time {
	if n.Now != nil {
		return n.Now()
	}
	return time.Now()
}

// Notify queues the deliveries of alerts as[i] raised on clusters cs[i],
// durably, and returns once they are on disk. A payload too large even
// when trimmed is logged and skipped: it cannot ever be sent, and blocking
// the stage on it would stop every other alert.
func (n *Notifier) Notify(ctx context.Context, cs []post.Cluster, as []post.Alert) error {
	if len(cs) != len(as) {
		return fmt.Errorf("alert: notify: %d clusters for %d alerts", len(cs), len(as))
	}
	subs, err := n.Registry.List(ctx)
	if err != nil {
		return err
	}
	now := n.now()
	var items []Item
	for i := range cs {
		for _, s := range subs {
			if !s.MatchAlert(as[i], cs[i], n.MinRisk) {
				continue
			}
			p := NewAlertPayload(s.Name, as[i], n.Pseudonymizer.Cluster(cs[i]), n.BaseURL, now)
			body, err := Render(s.Format, p, n.MaxPayload)
			if err != nil {
				n.log().Error("alert not queued", "subscription", s.Name, "cluster", cs[i].ID, "err", err)
				continue
			}
			items = append(items, Item{ID: p.ID, Subscription: s.Name, Event: TypeAlert, Cluster: cs[i].ID,
				StreamTime: cs[i].Detected, Format: s.Format, Body: body})
		}
	}
	q, err := n.Outbox.Enqueue(ctx, items, n.Cooldown, now)
	if err != nil {
		return err
	}
	if q > 0 {
		n.log().Info("webhook deliveries queued", "count", q)
	}
	return nil
}

// NotifyBriefing queues the announcement of a briefing to subscriptions
// with Briefings set.
func (n *Notifier) NotifyBriefing(ctx context.Context, b BriefingInfo) error {
	subs, err := n.Registry.List(ctx)
	if err != nil {
		return err
	}
	now := n.now()
	var items []Item
	for _, s := range subs {
		if !s.Briefings {
			continue
		}
		p := NewBriefingPayload(s.Name, b, n.BaseURL, now)
		body, err := Render(s.Format, p, n.MaxPayload)
		if err != nil {
			n.log().Error("briefing announcement not queued", "subscription", s.Name, "date", b.Date, "err", err)
			continue
		}
		items = append(items, Item{ID: p.ID, Subscription: s.Name, Event: TypeBriefing, Format: s.Format, Body: body})
	}
	_, err = n.Outbox.Enqueue(ctx, items, 0, now)
	return err
}

func (n *Notifier) log() *slog.Logger {
	if n.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return n.Log
}
