// Package alert delivers Vigie's alerts and briefing announcements to
// subscribers' webhooks: a versioned JSON payload (docs/alerts.md, schema
// in alert/schema/), HMAC-SHA256 signatures over timestamp and body with a
// replay window (Sign, Verify), Slack, Microsoft Teams and generic JSON
// formats, per-subscription filters with de-duplication and a cooldown per
// cluster, and a durable outbox (an SQLite file) from which a dispatcher
// delivers with exponential backoff, jitter and Retry-After.
//
// The flow: the alert stage hands each risky cluster update to
// Notifier.Notify, which writes one delivery per matching subscription to
// the outbox and returns only once it is on disk; the stage then commits
// its Kafka offsets. The dispatcher reads due deliveries from the outbox,
// so a delivery survives a crash or a restart at any point. Delivery is
// at least once: a receiver de-duplicates by the X-Vigie-Delivery header
// (the payload's "id"), which is deterministic.
package alert

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// PayloadVersion is the version of the JSON payload (field "version").
// Additive changes keep it; a change that breaks a receiver bumps it, and
// the schema file alert/schema/vigie-webhook-v<N>.json is added beside the
// old one.
const PayloadVersion = 1

// Event types.
const (
	TypeAlert    = "alert"
	TypeBriefing = "briefing"
	TypeTest     = "test"
)

// Payload is the body of a "json"-format delivery (the Slack and Teams
// formats are rendered from it). It is built once, when the delivery is
// written to the outbox, so every retry sends the same bytes.
type Payload struct {
	Version int    `json:"version"`
	Type    string `json:"type"`
	// ID identifies the delivery (subscription and event); it is stable, so
	// a receiver de-duplicates retries and replays by it.
	ID           string            `json:"id"`
	Subscription string            `json:"subscription"`
	Created      time.Time         `json:"created"` // wall time the delivery was queued
	Alert        *AlertInfo        `json:"alert,omitempty"`
	Cluster      *ClusterInfo      `json:"cluster,omitempty"`
	Briefing     *BriefingInfo     `json:"briefing,omitempty"`
	Links        map[string]string `json:"links,omitempty"`
}

// AlertInfo is the alert part of a payload.
type AlertInfo struct {
	ID      string    `json:"id"`
	Rule    string    `json:"rule"`
	Time    time.Time `json:"time"` // stream time of the detection
	Risk    float64   `json:"risk"`
	Summary string    `json:"summary"`
	Reasons []string  `json:"reasons,omitempty"`
	Targets []string  `json:"targets,omitempty"`
}

// ClusterInfo is what a receiver needs to triage a cluster without
// calling back: size, time span, signals, top objects, stance.
type ClusterInfo struct {
	ID         string          `json:"id"`
	Status     string          `json:"status"`
	Platform   string          `json:"platform"`
	Size       int             `json:"size"`
	EdgeCount  int             `json:"edge_count"`
	FirstSeen  time.Time       `json:"first_seen"`
	LastSeen   time.Time       `json:"last_seen"`
	Signals    map[string]int  `json:"signals,omitempty"`
	TopObjects []post.KeyCount `json:"top_objects,omitempty"`
	// Stance per candidate: the shares of the members' posts that favour
	// and that smear them. Target is the candidate favoured or smeared
	// most ("favour" or "smear" in TargetStance), empty when none clearly.
	Stance       map[string]post.StanceScore `json:"stance,omitempty"`
	Target       string                      `json:"target,omitempty"`
	TargetStance string                      `json:"target_stance,omitempty"`
	// BotShare is the share of members scored bot-like.
	BotShare  float64  `json:"bot_share"`
	Languages []string `json:"languages,omitempty"`
	Members   []string `json:"members_sample,omitempty"`
}

// BriefingInfo announces a daily briefing.
type BriefingInfo struct {
	Date    string `json:"date"`
	Title   string `json:"title"`
	Summary string `json:"summary"`
	Final   bool   `json:"final"` // false while the day is not over in stream time
}

// Sample sizes in a payload: enough to triage, small enough for a chat
// message.
const (
	payloadTopObjects = 5
	payloadMembers    = 10
	payloadReasons    = 8
)

// AlertEventID identifies one alerting update of a cluster: the cluster
// and the stream time of its detection. A re-delivered update gives the
// same ID; a later update of the same cluster a new one.
func AlertEventID(a post.Alert, c post.Cluster) string {
	return post.StableID("e-", c.ID, a.Rule, c.Detected.UTC().Format(time.RFC3339Nano))
}

// DeliveryID is the delivery's ID: event and subscription.
func DeliveryID(sub, event string) string { return post.StableID("d-", sub, event) }

// NewAlertPayload builds the payload of an alert for one subscription.
// baseURL (the web UI) makes the links; empty leaves them out.
func NewAlertPayload(sub string, a post.Alert, c post.Cluster, baseURL string, now time.Time) Payload {
	ci := &ClusterInfo{
		ID: c.ID, Status: c.Status, Platform: string(c.Platform), Size: len(c.Members), EdgeCount: c.EdgeCount,
		FirstSeen: c.FirstSeen.UTC(), LastSeen: c.LastSeen.UTC(), Stance: stance(c),
		Target: c.Target, TargetStance: c.TargetStance, BotShare: round3(c.BotShare), Languages: Languages(c),
	}
	if len(c.Signals) > 0 {
		ci.Signals = map[string]int{}
		for k, v := range c.Signals {
			if v > 0 {
				ci.Signals[string(k)] = v
			}
		}
	}
	ci.TopObjects = c.TopObjects[:min(len(c.TopObjects), payloadTopObjects)]
	ci.Members = slices.Clone(c.Members[:min(len(c.Members), payloadMembers)])
	p := Payload{
		Version: PayloadVersion, Type: TypeAlert, ID: DeliveryID(sub, AlertEventID(a, c)), Subscription: sub,
		Created: now.UTC().Truncate(time.Millisecond),
		Alert: &AlertInfo{ID: a.ID, Rule: a.Rule, Time: a.Time.UTC(), Risk: round1(a.Risk), Summary: a.Summary,
			Reasons: a.Reasons[:min(len(a.Reasons), payloadReasons)], Targets: Targets(a, c)},
		Cluster: ci,
	}
	if baseURL != "" {
		base := strings.TrimRight(baseURL, "/")
		p.Links = map[string]string{"cluster": base + "/clusters/" + c.ID, "api": base + "/api/clusters/" + c.ID}
	}
	return p
}

// NewBriefingPayload builds the announcement of a briefing.
func NewBriefingPayload(sub string, b BriefingInfo, baseURL string, now time.Time) Payload {
	ev := post.StableID("b-", b.Date, fmt.Sprint(b.Final), b.Summary)
	p := Payload{Version: PayloadVersion, Type: TypeBriefing, ID: DeliveryID(sub, ev), Subscription: sub,
		Created: now.UTC().Truncate(time.Millisecond), Briefing: &b}
	if baseURL != "" {
		base := strings.TrimRight(baseURL, "/")
		p.Links = map[string]string{"html": base + "/briefings/" + b.Date, "api": base + "/api/briefings/" + b.Date}
	}
	return p
}

// Targets gives the candidates an alert is about: the alert's own targets,
// the cluster's Target, and the candidates a clear share of its posts
// favours or smears (>= StanceThreshold), sorted, lower-cased.
func Targets(a post.Alert, c post.Cluster) []string {
	set := map[string]bool{}
	for _, t := range a.Targets {
		set[strings.ToLower(t)] = true
	}
	if c.Target != "" {
		set[strings.ToLower(c.Target)] = true
	}
	for k, v := range stance(c) {
		if max(v.Favour, v.Smear) >= StanceThreshold {
			set[strings.ToLower(k)] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// StanceThreshold is the favour or smear share at which a cluster counts as targeting a
// candidate for subscription filters.
const StanceThreshold = 0.2

// Languages gives a cluster's languages when the graph stage recorded them
// (Extra["languages"], a list or a map of language to count); nil when
// unknown.
func Languages(c post.Cluster) []string {
	v, ok := c.Extra["languages"]
	if !ok {
		return nil
	}
	var out []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, strings.ToLower(s))
			}
		}
	case []string:
		for _, s := range x {
			out = append(out, strings.ToLower(s))
		}
	case map[string]any:
		for k := range x {
			out = append(out, strings.ToLower(k))
		}
	}
	sort.Strings(out)
	return out
}

// stance gives the cluster's stance per candidate, rounded; a cluster
// scored by an older build (Scores.Stance, one signed number) is mapped
// onto favour and smear.
func stance(c post.Cluster) map[string]post.StanceScore {
	out := map[string]post.StanceScore{}
	for k, v := range c.Stance {
		out[k] = post.StanceScore{Favour: round3(v.Favour), Smear: round3(v.Smear)}
	}
	for k, v := range c.Scores.Stance {
		if _, ok := out[k]; ok {
			continue
		}
		if v >= 0 {
			out[k] = post.StanceScore{Favour: round3(v)}
		} else {
			out[k] = post.StanceScore{Smear: round3(-v)}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func round3(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return math.Round(x*1000) / 1000
}

func round1(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return math.Round(x*10) / 10
}

// Encode marshals a payload, trimming its optional lists until it fits in
// limit bytes; it fails (naming the delivery) when even the trimmed
// payload does not fit.
func Encode(p Payload, limit int) ([]byte, error) {
	for step := 0; ; step++ {
		b, err := json.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("alert: encode delivery %s: %w", p.ID, err)
		}
		if limit <= 0 || len(b) <= limit {
			return b, nil
		}
		switch {
		case p.Cluster != nil && len(p.Cluster.Members) > 0:
			p.Cluster.Members = nil
		case p.Cluster != nil && len(p.Cluster.TopObjects) > 0:
			p.Cluster.TopObjects = nil
		case p.Alert != nil && len(p.Alert.Reasons) > 0:
			p.Alert.Reasons = nil
		case p.Alert != nil && len(p.Alert.Summary) > 280:
			p.Alert.Summary = truncate(p.Alert.Summary, 280)
		case p.Briefing != nil && len(p.Briefing.Summary) > 1000:
			p.Briefing.Summary = truncate(p.Briefing.Summary, 1000)
		default:
			return nil, fmt.Errorf("alert: delivery %s: payload is %d bytes, over the %d-byte limit (alerts.max_payload_bytes)", p.ID, len(b), limit)
		}
	}
}

// truncate cuts s to at most n bytes on a rune boundary, with an ellipsis.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
