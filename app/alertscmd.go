package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/vigie-osint/vigie/alert"
	"github.com/vigie-osint/vigie/config"
	"github.com/vigie-osint/vigie/netguard"
	"github.com/vigie-osint/vigie/post"
)

// alertParts are the webhook pieces one process shares: the outbox (an
// SQLite file in data_dir), the subscriptions, the notifier the alert
// stage and the briefing schedule queue through, and the dispatcher.
type alertParts struct {
	Outbox     *alert.Outbox
	Registry   *alert.Registry
	Notifier   *alert.Notifier
	Dispatcher *alert.Dispatcher
	Stats      *alert.Stats
}

func (a *alertParts) Close() error {
	if a == nil || a.Outbox == nil {
		return nil
	}
	return a.Outbox.Close()
}

// egressPolicy maps alerts.allow_private and alerts.allow_networks.
func egressPolicy(cfg config.Config) (netguard.Policy, error) {
	allow, err := netguard.ParsePrefixes(cfg.Alerts.AllowNetworks)
	if err != nil {
		return netguard.Policy{}, fmt.Errorf("alerts.allow_networks%w", err)
	}
	return netguard.Policy{AllowPrivate: cfg.Alerts.AllowPrivate, Allow: allow}, nil
}

// subscriptions converts the configured subscriptions, reading secrets
// named by secret_env from the environment.
func subscriptions(cfg config.Config, log *slog.Logger) []alert.Subscription {
	var out []alert.Subscription
	for _, s := range cfg.Alerts.Subscriptions {
		secret := s.Secret
		if s.SecretEnv != "" {
			secret = os.Getenv(s.SecretEnv)
			if secret == "" {
				log.Warn("webhook secret variable is empty: deliveries go unsigned", "subscription", s.Name, "variable", s.SecretEnv)
			}
		} else if secret == "" {
			log.Warn("webhook has no secret: deliveries go unsigned", "subscription", s.Name)
		}
		out = append(out, alert.Subscription{Name: s.Name, URL: s.URL, Format: s.Format, Secret: secret,
			Candidates: s.Candidates, MinRisk: s.MinRisk, Signals: s.Signals, Languages: s.Languages, Briefings: s.Briefings})
	}
	return out
}

func openAlerts(ctx context.Context, cfg config.Config, log *slog.Logger) (*alertParts, error) {
	policy, err := egressPolicy(cfg)
	if err != nil {
		return nil, err
	}
	ps, err := pseudonymizer(cfg, "alerts") // app/privacy.go
	if err != nil {
		return nil, err
	}
	subs := subscriptions(cfg, log)
	for i := range subs {
		if err := subs[i].Validate(); err != nil {
			return nil, fmt.Errorf("alerts.subscriptions[%d]: %w", i, err)
		}
	}
	o, err := alert.OpenOutbox(ctx, cfg.Alerts.Outbox)
	if err != nil {
		return nil, err
	}
	reg := &alert.Registry{Static: subs, Outbox: o}
	st := &alert.Stats{}
	return &alertParts{
		Outbox: o, Registry: reg, Stats: st,
		Notifier: &alert.Notifier{Outbox: o, Registry: reg, MinRisk: cfg.Alerts.MinRisk, Cooldown: cfg.Alerts.Cooldown.D(),
			BaseURL: cfg.Brief.BaseURL, MaxPayload: cfg.Alerts.MaxPayloadBytes, Log: log.With("component", "webhooks"),
			Pseudonymizer: ps},
		Dispatcher: &alert.Dispatcher{Outbox: o, Registry: reg, Client: policy.Client(cfg.Alerts.Timeout.D()),
			MaxAttempts: cfg.Alerts.MaxAttempts, Log: log.With("component", "webhooks"), Stats: st},
	}, nil
}

const alertsUsage = `Usage: vigie alerts <command> [flags]

Commands:
  test    send a sample alert to a webhook: --url URL --format slack|teams|json
          [--secret S] [--allow-private]
  list    list the subscriptions and the outbox's deliveries (--config, --data-dir)
`

func alertsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, alertsUsage)
		return errUsage
	}
	switch args[0] {
	case "test":
		return alertsTest(ctx, args[1:], stdout, stderr)
	case "list":
		return alertsList(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, alertsUsage)
		return nil
	}
	fmt.Fprintf(stderr, "vigie alerts: unknown command %q\n\n%s", args[0], alertsUsage)
	return errUsage
}

// SampleAlert is the alert `vigie alerts test` sends: a made-up network so
// that every field of the format shows.
func SampleAlert(now time.Time) (post.Alert, post.Cluster) {
	t := now.UTC().Truncate(time.Second)
	c := post.Cluster{ID: "c-sample", Status: post.StatusActive, Platform: post.PlatformTwitter, Detected: t,
		FirstSeen: t.Add(-2 * time.Hour), LastSeen: t, Members: []string{"twitter:sample1", "twitter:sample2", "twitter:sample3", "twitter:sample4"},
		EdgeCount: 6, Signals: map[post.Kind]int{post.KindRepost: 12, post.KindLink: 3},
		TopObjects: []post.KeyCount{{Kind: post.KindLink, Key: "https://example.org/sample", Count: 4}},
		Scores:     post.Scores{Risk: 72, Reasons: []string{"sample: 4 accounts reposted 12 posts within 10 s of each other"}},
		Stance:     map[string]post.StanceScore{"sample-candidate": {Smear: 0.8}}, Target: "sample-candidate", TargetStance: "smear", BotShare: 0.5}
	a := post.Alert{Schema: post.SchemaVersion, ID: "a-sample", ClusterID: c.ID, Rule: "test", Time: t, Risk: 72, Size: 4,
		Summary: "TEST from `vigie alerts test`: a sample coordinated network of 4 accounts (not a real alert).", Reasons: c.Scores.Reasons}
	return a, c
}

func alertsTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("alerts test", "Send one signed sample alert to a webhook and report the answer. Loopback,\nprivate and link-local targets are refused unless --allow-private (safe egress).", stderr)
	u := fs.String("url", "", "webhook URL (required)")
	format := fs.String("format", "json", "json, slack or teams")
	secret := fs.String("secret", "", "signing secret (default: $VIGIE_WEBHOOK_SECRET; unsigned when empty)")
	allowPrivate := fs.Bool("allow-private", false, "allow loopback, private and link-local targets")
	timeout := fs.Duration("timeout", 10*time.Second, "request timeout")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *secret == "" {
		*secret = os.Getenv("VIGIE_WEBHOOK_SECRET")
	}
	sub := alert.Subscription{Name: "test", URL: *u, Format: *format, Secret: *secret}
	if err := sub.Validate(); err != nil {
		fmt.Fprintln(stderr, err)
		return errUsage
	}
	a, c := SampleAlert(time.Now())
	p := alert.NewAlertPayload(sub.Name, a, c, "", time.Now())
	p.Type = alert.TypeTest
	body, err := alert.Render(sub.Format, p, 64<<10)
	if err != nil {
		return err
	}
	client := netguard.Policy{AllowPrivate: *allowPrivate}.Client(*timeout)
	res := alert.Post(ctx, client, sub, p.ID, alert.TypeTest, body, time.Now())
	if res.Err != nil {
		if errors.Is(res.Err, netguard.ErrRefused) {
			return fmt.Errorf("%w (pass --allow-private to test a receiver on this machine or network)", res.Err)
		}
		return res.Err
	}
	fmt.Fprintf(stdout, "delivered %s (%s, %d bytes): HTTP %d\n", p.ID, sub.Format, len(body), res.Status)
	return nil
}

func alertsList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("alerts list", "List the subscriptions (secrets hidden) and the latest deliveries of the outbox.", stderr)
	var cf commonFlags
	cf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	ap, err := openAlerts(ctx, cfg, NewLogger(cfg.Log, stderr))
	if err != nil {
		return err
	}
	defer ap.Close()
	subs, err := ap.Registry.List(ctx)
	if err != nil {
		return err
	}
	for i := range subs {
		subs[i] = subs[i].Redacted()
	}
	counts, err := ap.Outbox.Counts(ctx)
	if err != nil {
		return err
	}
	ds, err := ap.Outbox.List(ctx, "", 50)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"subscriptions": subs, "deliveries": counts, "latest": ds})
}
