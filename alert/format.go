package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Delivery formats.
const (
	FormatJSON  = "json"  // Payload as is
	FormatSlack = "slack" // Slack incoming webhook: text + Block Kit blocks
	FormatTeams = "teams" // Microsoft Teams workflow webhook: an Adaptive Card message
)

// Formats lists the supported formats.
var Formats = []string{FormatJSON, FormatSlack, FormatTeams}

// Render gives the body of a delivery in format. JSON is encoded within
// limit (see Encode); chat formats are short by construction and checked
// against it.
func Render(format string, p Payload, limit int) ([]byte, error) {
	var v any
	switch format {
	case FormatJSON, "":
		return Encode(p, limit)
	case FormatSlack:
		v = slack(p)
	case FormatTeams:
		v = teams(p)
	default:
		return nil, fmt.Errorf("alert: unknown format %q (want json, slack or teams)", format)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // chat clients show the text; \u0026 would only obscure it
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("alert: render %s delivery %s: %w", format, p.ID, err)
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if limit > 0 && len(b) > limit {
		return nil, fmt.Errorf("alert: %s delivery %s: %d bytes, over the %d-byte limit (alerts.max_payload_bytes)", format, p.ID, len(b), limit)
	}
	return b, nil
}

// lines gives the title and the facts shown by both chat formats.
func lines(p Payload) (title, text string, facts [][2]string, link string) {
	switch {
	case p.Alert != nil:
		title = fmt.Sprintf("Vigie alert: coordinated network, risk %.0f", p.Alert.Risk)
		text = truncate(p.Alert.Summary, 1500)
		if p.Cluster != nil {
			facts = append(facts, [2]string{"Accounts", fmt.Sprint(p.Cluster.Size)},
				[2]string{"Active", p.Cluster.FirstSeen.Format("2006-01-02 15:04") + " – " + p.Cluster.LastSeen.Format("2006-01-02 15:04 MST")})
			if len(p.Cluster.TopObjects) > 0 {
				var objs []string
				for _, o := range p.Cluster.TopObjects[:min(3, len(p.Cluster.TopObjects))] {
					objs = append(objs, fmt.Sprintf("%s %s (%d)", o.Kind, truncate(o.Key, 80), o.Count))
				}
				facts = append(facts, [2]string{"Pushing", strings.Join(objs, "; ")})
			}
			if len(p.Cluster.Stance) > 0 {
				keys := make([]string, 0, len(p.Cluster.Stance))
				for k := range p.Cluster.Stance {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				var st []string
				for _, k := range keys {
					v := p.Cluster.Stance[k]
					st = append(st, fmt.Sprintf("%s favour %.0f%% smear %.0f%%", k, 100*v.Favour, 100*v.Smear))
				}
				facts = append(facts, [2]string{"Stance", strings.Join(st, ", ")})
			}
		}
		if p.Cluster != nil && p.Cluster.Target != "" {
			facts = append(facts, [2]string{"Target", p.Cluster.Target + " (" + p.Cluster.TargetStance + ")"})
		}
		if p.Cluster != nil && p.Cluster.BotShare > 0 {
			facts = append(facts, [2]string{"Bot-like members", fmt.Sprintf("%.0f%%", 100*p.Cluster.BotShare)})
		}
		if len(p.Alert.Targets) > 0 {
			facts = append(facts, [2]string{"Targets", strings.Join(p.Alert.Targets, ", ")})
		}
		if len(p.Alert.Reasons) > 0 {
			facts = append(facts, [2]string{"Why", truncate(strings.Join(p.Alert.Reasons[:min(3, len(p.Alert.Reasons))], "; "), 500)})
		}
		link = p.Links["cluster"]
	case p.Briefing != nil:
		title = "Vigie daily briefing " + p.Briefing.Date
		if !p.Briefing.Final {
			title += " (day not over yet)"
		}
		text = truncate(p.Briefing.Summary, 2000)
		link = p.Links["html"]
	default:
		title = "Vigie test delivery"
		text = "This is a test message from `vigie alerts test`: the webhook works."
	}
	return title, text, facts, link
}

func slack(p Payload) map[string]any {
	title, text, facts, link := lines(p)
	blocks := []any{
		map[string]any{"type": "header", "text": map[string]any{"type": "plain_text", "text": truncate(title, 150)}},
		map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": slackEscape(text)}},
	}
	if len(facts) > 0 {
		var fields []any
		for _, f := range facts[:min(len(facts), 10)] {
			fields = append(fields, map[string]any{"type": "mrkdwn", "text": "*" + f[0] + "*\n" + slackEscape(truncate(f[1], 1900))})
		}
		blocks = append(blocks, map[string]any{"type": "section", "fields": fields})
	}
	if link != "" {
		blocks = append(blocks, map[string]any{"type": "actions", "elements": []any{
			map[string]any{"type": "button", "text": map[string]any{"type": "plain_text", "text": "Open in Vigie"}, "url": link},
		}})
	}
	blocks = append(blocks, map[string]any{"type": "context", "elements": []any{
		map[string]any{"type": "mrkdwn", "text": "delivery " + p.ID},
	}})
	return map[string]any{"text": title + ": " + slackEscape(text), "blocks": blocks}
}

// slackEscape escapes the three characters Slack's mrkdwn gives meaning
// to, so text from posts cannot forge links or mentions.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func teams(p Payload) map[string]any {
	title, text, facts, link := lines(p)
	body := []any{
		map[string]any{"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": true},
		map[string]any{"type": "TextBlock", "text": text, "wrap": true},
	}
	if len(facts) > 0 {
		var fs []any
		for _, f := range facts {
			fs = append(fs, map[string]any{"title": f[0], "value": truncate(f[1], 1000)})
		}
		body = append(body, map[string]any{"type": "FactSet", "facts": fs})
	}
	body = append(body, map[string]any{"type": "TextBlock", "text": "delivery " + p.ID, "isSubtle": true, "size": "Small"})
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard", "version": "1.4", "body": body,
	}
	if link != "" {
		card["actions"] = []any{map[string]any{"type": "Action.OpenUrl", "title": "Open in Vigie", "url": link}}
	}
	return map[string]any{"type": "message", "attachments": []any{
		map[string]any{"contentType": "application/vnd.microsoft.card.adaptive", "content": card},
	}}
}
