package kibana

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Versions written into every object. They are the saved-object format of
// Kibana 7.17, chosen at or below the last migration Kibana 7.17 has for
// each type: Kibana refuses an object that claims a newer migration than it
// knows, and runs every later migration itself, so the same file imports
// into Kibana 7.17 and 8.x (which migrates it forward).
const (
	CoreMigrationVersion = "7.17.0"
	panelVersion         = "7.17.0"
)

var migrationVersions = map[string]string{
	"index-pattern": "7.11.0",
	"search":        "7.9.3",
	"visualization": "7.10.0",
	"dashboard":     "7.9.3",
}

// SavedObject is one line of a saved-objects NDJSON file.
type SavedObject struct {
	ID                   string            `json:"id"`
	Type                 string            `json:"type"`
	Attributes           map[string]any    `json:"attributes"`
	References           []Reference       `json:"references"`
	MigrationVersion     map[string]string `json:"migrationVersion,omitempty"`
	CoreMigrationVersion string            `json:"coreMigrationVersion,omitempty"`
}

// Reference links a saved object to another by type and ID; Name is how the
// object's attributes refer to it (indexRefName, panelRefName).
type Reference struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

// IndexPattern describes one data view over a Vigie index.
type IndexPattern struct {
	ID        string // saved-object ID, stable so re-imports overwrite
	Title     string // the index pattern, e.g. vigie-posts*
	TimeField string // empty: the data view has no time filter
	// Model names the Go type whose JSON tags define the documents' fields
	// (the store writes post package structs as they are).
	Model string
}

// The data views, one per index of the Elasticsearch store
// (store/elastic/templates): posts live in one index per UTC day, the
// others in one index each. The time field is the one an analyst filters
// on: a post's time, a cluster's last co-action, an alert's detection, an
// account's latest observation, a briefing's day.
var (
	Posts     = IndexPattern{ID: "vigie-posts", Title: "vigie-posts-*", TimeField: "time", Model: "post.Post"}
	Clusters  = IndexPattern{ID: "vigie-clusters", Title: "vigie-clusters", TimeField: "last_seen", Model: "post.Cluster"}
	Accounts  = IndexPattern{ID: "vigie-accounts", Title: "vigie-accounts", TimeField: "observed", Model: "account document"}
	Alerts    = IndexPattern{ID: "vigie-alerts", Title: "vigie-alerts", TimeField: "time", Model: "post.Alert"}
	Briefings = IndexPattern{ID: "vigie-briefings", Title: "vigie-briefings", TimeField: "day", Model: "store.Briefing"}
)

// IndexPatterns lists every data view, in file order.
func IndexPatterns() []IndexPattern {
	return []IndexPattern{Posts, Clusters, Accounts, Alerts, Briefings}
}

// Candidates are the candidates of the bundled 2017 scenario, as alert
// targets name them. The dashboards do not depend on the list (they group
// by the targets field); it only documents the scenario on the dashboard.
var Candidates = []string{"macron", "lepen", "fillon", "melenchon", "hamon"}

// Dashboard IDs, also the stable part of each dashboard's URL
// (/app/dashboards#/view/<id>).
const (
	DashClusters  = "vigie-dashboard-clusters"
	DashTargeting = "vigie-dashboard-targeting"
	DashAlerts    = "vigie-dashboard-alerts"
)

func indexPatternObject(p IndexPattern) SavedObject {
	attrs := map[string]any{
		"title": p.Title,
		// Kibana fetches the field list from Elasticsearch when it is
		// empty, so the file never goes stale against the templates.
		"fields":     "[]",
		"fieldAttrs": "{}",
	}
	if p.TimeField != "" {
		attrs["timeFieldName"] = p.TimeField
	}
	return SavedObject{ID: p.ID, Type: "index-pattern", Attributes: attrs, References: []Reference{}}
}

const indexRef = "kibanaSavedObjectMeta.searchSourceJSON.index"

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps and slices of plain values are marshalled here
	}
	return string(b)
}

func kuery(q string) map[string]any { return map[string]any{"query": q, "language": "kuery"} }

func searchSource(q string, withIndex bool) string {
	s := map[string]any{"query": kuery(q), "filter": []any{}}
	if withIndex {
		s["indexRefName"] = indexRef
	}
	return mustJSON(s)
}

// search is a saved search (Discover): columns, sort and a KQL query.
type search struct {
	id, title, description string
	index                  IndexPattern
	query                  string
	columns                []string
	sort                   [][2]string
}

func (s search) object() SavedObject {
	sort := make([][]string, len(s.sort))
	for i, x := range s.sort {
		sort[i] = []string{x[0], x[1]}
	}
	src := map[string]any{"highlightAll": true, "version": true, "query": kuery(s.query), "filter": []any{}, "indexRefName": indexRef}
	return SavedObject{
		ID: s.id, Type: "search",
		Attributes: map[string]any{
			"title": s.title, "description": s.description, "hits": 0, "version": 1,
			"columns": s.columns, "sort": sort,
			"kibanaSavedObjectMeta": map[string]any{"searchSourceJSON": mustJSON(src)},
		},
		References: []Reference{{ID: s.index.ID, Name: indexRef, Type: "index-pattern"}},
	}
}

// agg is one aggregation of a legacy (aggregation-based) visualisation.
type agg struct {
	id, typ, schema string
	params          map[string]any
}

func count(id string) agg { return agg{id, "count", "metric", map[string]any{}} }

func metric(id, typ, field, label string) agg {
	p := map[string]any{"field": field}
	if label != "" {
		p["customLabel"] = label
	}
	return agg{id, typ, "metric", p}
}

func terms(id, schema, field string, size int, orderBy, label string) agg {
	p := map[string]any{
		"field": field, "orderBy": orderBy, "order": "desc", "size": size,
		"otherBucket": false, "otherBucketLabel": "Other",
		"missingBucket": false, "missingBucketLabel": "Missing",
	}
	if label != "" {
		p["customLabel"] = label
	}
	return agg{id, "terms", schema, p}
}

func dateHistogram(id, schema, field, interval string) agg {
	return agg{id, "date_histogram", schema, map[string]any{
		"field": field, "useNormalizedEsInterval": true, "scaleMetricValues": false,
		"interval": interval, "drop_partials": false, "min_doc_count": 1, "extended_bounds": map[string]any{},
	}}
}

func histogram(id, schema, field string, interval, min, max float64, label string) agg {
	p := map[string]any{
		"field": field, "interval": interval, "min_doc_count": false,
		"has_extended_bounds": true, "extended_bounds": map[string]any{"min": min, "max": max},
	}
	if label != "" {
		p["customLabel"] = label
	}
	return agg{id, "histogram", schema, p}
}

// vis is a legacy visualisation: one of histogram (vertical bars), line,
// pie, table, metric or markdown.
type vis struct {
	id, title, description string
	typ                    string
	index                  *IndexPattern // nil for markdown
	query                  string
	aggs                   []agg
	markdown               string
	// mode of bar series: stacked (default) or normal (side by side).
	mode string
}

func (v vis) params() map[string]any {
	switch v.typ {
	case "markdown":
		return map[string]any{"fontSize": 12, "openLinksInNewTab": false, "markdown": v.markdown}
	case "pie":
		return map[string]any{
			"type": "pie", "addTooltip": true, "addLegend": true, "legendPosition": "right", "isDonut": true,
			"labels": map[string]any{"show": false, "values": true, "last_level": true, "truncate": 100},
		}
	case "table":
		return map[string]any{
			"perPage": 10, "showPartialRows": false, "showMetricsAtAllLevels": false,
			"showTotal": false, "totalFunc": "sum", "percentageCol": "",
		}
	case "metric":
		return map[string]any{
			"addTooltip": true, "addLegend": false, "type": "metric",
			"metric": map[string]any{
				"percentageMode": false, "useRanges": false, "colorSchema": "Green to Red",
				"metricColorMode": "None", "colorsRange": []any{map[string]any{"from": 0, "to": 10000}},
				"labels": map[string]any{"show": true}, "invertColors": false,
				"style": map[string]any{"bgFill": "#000", "bgColor": false, "labelColor": false, "subText": "", "fontSize": 48},
			},
		}
	}
	// histogram and line: the vislib XY chart.
	mode := v.mode
	if mode == "" {
		mode = "stacked"
	}
	var series []any
	for _, a := range v.aggs {
		if a.schema != "metric" {
			continue
		}
		label := "Count"
		if l, ok := a.params["customLabel"].(string); ok {
			label = l
		} else if f, ok := a.params["field"].(string); ok {
			label = a.typ + " " + f
		}
		series = append(series, map[string]any{
			"show": true, "type": v.typ, "mode": mode, "valueAxis": "ValueAxis-1",
			"data":                   map[string]any{"label": label, "id": a.id},
			"drawLinesBetweenPoints": true, "lineWidth": 2, "showCircles": true, "interpolate": "linear",
		})
	}
	return map[string]any{
		"type": v.typ,
		"grid": map[string]any{"categoryLines": false},
		"categoryAxes": []any{map[string]any{
			"id": "CategoryAxis-1", "type": "category", "position": "bottom", "show": true, "style": map[string]any{},
			"scale": map[string]any{"type": "linear"}, "labels": map[string]any{"show": true, "filter": true, "truncate": 100},
			"title": map[string]any{},
		}},
		"valueAxes": []any{map[string]any{
			"id": "ValueAxis-1", "name": "LeftAxis-1", "type": "value", "position": "left", "show": true, "style": map[string]any{},
			"scale":  map[string]any{"type": "linear", "mode": "normal"},
			"labels": map[string]any{"show": true, "rotate": 0, "filter": false, "truncate": 100},
			"title":  map[string]any{"text": ""},
		}},
		"seriesParams": series, "addTooltip": true, "addLegend": true, "legendPosition": "right",
		"times": []any{}, "addTimeMarker": false, "labels": map[string]any{"show": false},
		"thresholdLine": map[string]any{"show": false, "value": 10, "width": 1, "style": "full", "color": "#E7664C"},
	}
}

func (v vis) object() SavedObject {
	aggs := []any{}
	for _, a := range v.aggs {
		aggs = append(aggs, map[string]any{"id": a.id, "enabled": true, "type": a.typ, "schema": a.schema, "params": a.params})
	}
	state := map[string]any{"title": v.title, "type": v.typ, "params": v.params(), "aggs": aggs}
	o := SavedObject{
		ID: v.id, Type: "visualization",
		Attributes: map[string]any{
			"title": v.title, "description": v.description, "version": 1,
			"uiStateJSON": "{}", "visState": mustJSON(state),
			"kibanaSavedObjectMeta": map[string]any{"searchSourceJSON": searchSource(v.query, v.index != nil)},
		},
		References: []Reference{},
	}
	if v.index != nil {
		o.References = append(o.References, Reference{ID: v.index.ID, Name: indexRef, Type: "index-pattern"})
	}
	return o
}

// panel places a visualisation or saved search on a dashboard's 48-column
// grid.
type panel struct {
	typ, id    string // "visualization" or "search", and its ID
	x, y, w, h int
}

type dashboard struct {
	id, title, description string
	panels                 []panel
}

func (d dashboard) object() SavedObject {
	var panels []any
	var refs []Reference
	for i, p := range d.panels {
		idx := fmt.Sprint(i + 1)
		ref := fmt.Sprintf("panel_%d", i)
		panels = append(panels, map[string]any{
			"version": panelVersion, "type": p.typ, "panelIndex": idx, "panelRefName": ref,
			"gridData":         map[string]any{"x": p.x, "y": p.y, "w": p.w, "h": p.h, "i": idx},
			"embeddableConfig": map[string]any{"enhancements": map[string]any{}},
		})
		refs = append(refs, Reference{ID: p.id, Name: ref, Type: p.typ})
	}
	return SavedObject{
		ID: d.id, Type: "dashboard",
		Attributes: map[string]any{
			"title": d.title, "description": d.description, "hits": 0, "version": 1, "timeRestore": false,
			"panelsJSON":            mustJSON(panels),
			"optionsJSON":           mustJSON(map[string]any{"useMargins": true, "syncColors": false, "hidePanelTitles": false}),
			"kibanaSavedObjectMeta": map[string]any{"searchSourceJSON": searchSource("", false)},
		},
		References: refs,
	}
}

// DefaultPrefix is the Elasticsearch store's default index prefix
// (store.elasticsearch_prefix), which the data view titles start with.
const DefaultPrefix = "vigie"

// Objects returns every saved object, referenced objects first (data views,
// then searches and visualisations, then dashboards), which is also the
// order Kibana's own exports use.
func Objects() []SavedObject { return ObjectsForPrefix(DefaultPrefix) }

// ObjectsForPrefix returns the objects for a store whose indices start
// with prefix instead of "vigie": only the data views' titles change, so
// the IDs, and the links between objects, stay the same.
func ObjectsForPrefix(prefix string) []SavedObject {
	var out []SavedObject
	for _, p := range IndexPatterns() {
		p.Title = prefix + strings.TrimPrefix(p.Title, DefaultPrefix)
		out = append(out, indexPatternObject(p))
	}
	searches, visuals, dashboards := content()
	for _, s := range searches {
		out = append(out, s.object())
	}
	for _, v := range visuals {
		out = append(out, v.object())
	}
	for _, d := range dashboards {
		out = append(out, d.object())
	}
	for i := range out {
		out[i].MigrationVersion = map[string]string{out[i].Type: migrationVersions[out[i].Type]}
		out[i].CoreMigrationVersion = CoreMigrationVersion
	}
	return out
}

// NDJSON encodes objects one per line, the format of Kibana's import and
// export. encoding/json sorts map keys, so the output is deterministic.
func NDJSON(objs []SavedObject) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, o := range objs {
		if err := enc.Encode(o); err != nil {
			return nil, fmt.Errorf("saved object %s %s: %w", o.Type, o.ID, err)
		}
	}
	return b.Bytes(), nil
}

// content defines the saved searches, visualisations and dashboards. Field
// names are the JSON names of the post package's structs, which the
// Elasticsearch store indexes as they are; the tests check every one
// against the models and the index templates.
func content() ([]search, []vis, []dashboard) {
	searches := []search{
		{id: "vigie-search-active-clusters", title: "Vigie · Active clusters by risk", index: Clusters,
			description: "Clusters the graph still holds, riskiest first. Add members:\"twitter:123\" or scores.risk >= 70 to narrow.",
			query:       "status:active", columns: []string{"id", "scores.risk", "scores.coordination", "edge_count", "members", "scores.reasons"},
			sort: [][2]string{{"scores.risk", "desc"}}},
		{id: "vigie-search-alerts", title: "Vigie · Alerts", index: Alerts,
			description: "Every alert, newest first, with the cluster that raised it and the candidates it targets.",
			columns:     []string{"rule", "risk", "size", "cluster_id", "targets", "summary"},
			sort:        [][2]string{{"time", "desc"}}},
		{id: "vigie-search-targeting-alerts", title: "Vigie · Alerts naming a candidate", index: Alerts,
			description: "Alerts on clusters that favour or smear a candidate.",
			query:       "targets:*", columns: []string{"targets", "risk", "size", "cluster_id", "summary"},
			sort: [][2]string{{"risk", "desc"}}},
		{id: "vigie-search-posts", title: "Vigie · Posts", index: Posts,
			description: "Posts as read. Filter by author:\"<id>\", hashtags:<tag>, repost_of:<id> or a cluster's members.",
			columns:     []string{"platform", "author", "text", "hashtags", "urls", "repost_of"},
			sort:        [][2]string{{"time", "desc"}}},
		{id: "vigie-search-accounts", title: "Vigie · Accounts", index: Accounts,
			description: "Account snapshots as seen with their posts.",
			columns:     []string{"key", "account.handle", "account.name", "account.followers", "account.following", "account.posts", "account.created_at"},
			sort:        [][2]string{{"observed", "desc"}}},
		{id: "vigie-search-briefings", title: "Vigie · Briefings", index: Briefings,
			description: "Daily influence briefings, newest first; the full text is in markdown.",
			columns:     []string{"date", "title", "summary"},
			sort:        [][2]string{{"day", "desc"}}},
	}
	cl, al, po := Clusters, Alerts, Posts
	visuals := []vis{
		// Coordinated clusters.
		{id: "vigie-vis-clusters-help", title: "Vigie · How to read the clusters", typ: "markdown", markdown: "" +
			"**Coordinated clusters** are groups of accounts that repeatedly did the same thing (reposted the same post, " +
			"shared the same link, pasted the same text) within seconds of each other.\n\n" +
			"* **risk** (0–100) = 100 × (0.5 coordination + 0.3 size + 0.2 volume); alerts fire at `alerts.min_risk` (50).\n" +
			"* **coordination** (0–1) combines density, distinct shared objects per edge and synchrony.\n" +
			"* A cluster's `id` is stable while it grows; open it in Vigie's UI at `/clusters/<id>` for the evidence (both posts of every co-action).\n" +
			"* `status`: active, merged (see `merged_into`) or expired.\n\n" +
			"The time picker filters on `last_seen`; the bundled scenario is dated 3–7 May 2017."},
		{id: "vigie-vis-active-clusters", title: "Vigie · Active clusters", typ: "metric", index: &cl, query: "status:active",
			aggs: []agg{count("1"), metric("2", "max", "scores.risk", "Highest risk")}},
		{id: "vigie-vis-clusters-by-risk", title: "Vigie · Clusters by risk", typ: "histogram", index: &cl, query: "status:active",
			aggs: []agg{count("1"), histogram("2", "segment", "scores.risk", 10, 0, 100, "risk")}},
		{id: "vigie-vis-top-clusters", title: "Vigie · Riskiest clusters", typ: "table", index: &cl, query: "status:active",
			aggs: []agg{
				metric("1", "max", "scores.risk", "risk"),
				metric("2", "max", "scores.coordination", "coordination"),
				metric("3", "max", "edge_count", "edges"),
				metric("4", "max", "size", "accounts"),
				terms("5", "bucket", "id", 20, "1", "cluster"),
			}},
		{id: "vigie-vis-clusters-by-status", title: "Vigie · Clusters by status", typ: "pie", index: &cl,
			aggs: []agg{count("1"), terms("2", "segment", "status", 5, "1", "status")}},
		{id: "vigie-vis-clusters-over-time", title: "Vigie · Cluster activity over time", typ: "histogram", index: &cl,
			aggs: []agg{count("1"), dateHistogram("2", "segment", "last_seen", "auto"), terms("3", "group", "status", 3, "1", "status")}},
		{id: "vigie-vis-accounts-in-clusters", title: "Vigie · Accounts in the most clusters", typ: "table", index: &cl,
			description: "Accounts that belong to several clusters: brokers between networks, or reused accounts.",
			aggs:        []agg{count("1"), terms("2", "bucket", "members", 20, "1", "account")}},
		{id: "vigie-vis-top-objects", title: "Vigie · Objects most pushed by clusters", typ: "table", index: &cl, query: "status:active",
			aggs: []agg{count("1"), terms("2", "bucket", "top_objects.key", 20, "1", "shared object")}},
		// Candidate targeting.
		{id: "vigie-vis-targeting-help", title: "Vigie · How to read candidate targeting", typ: "markdown", markdown: "" +
			"**Candidate targeting** shows which candidates coordinated clusters push or attack.\n\n" +
			"* An alert's `targets` lists the candidates its cluster favours or smears.\n" +
			"* Mentions of candidates' accounts show who is being brigaded.\n" +
			"* Hashtags of posts show the campaigns' slogans (e.g. `#StopMacron`, `#Marine2017`).\n\n" +
			"Candidates of the bundled scenario: " + strings.Join(Candidates, ", ") + "."},
		{id: "vigie-vis-alerts-by-target", title: "Vigie · Alerts by targeted candidate", typ: "pie", index: &al,
			aggs: []agg{count("1"), terms("2", "segment", "targets", 10, "1", "candidate")}},
		{id: "vigie-vis-risk-by-target", title: "Vigie · Highest risk per targeted candidate", typ: "histogram", index: &al, mode: "normal",
			aggs: []agg{metric("1", "max", "risk", "highest risk"), metric("2", "sum", "size", "accounts in alerted clusters"), terms("3", "segment", "targets", 10, "1", "candidate")}},
		{id: "vigie-vis-mentions", title: "Vigie · Most mentioned accounts", typ: "table", index: &po,
			description: "Accounts named in posts: candidates and their campaigns are the usual targets of brigading.",
			aggs:        []agg{count("1"), terms("2", "bucket", "mentions", 25, "1", "mentioned account")}},
		{id: "vigie-vis-targets-over-time", title: "Vigie · Alerts per candidate over time", typ: "line", index: &al,
			aggs: []agg{count("1"), dateHistogram("2", "segment", "time", "auto"), terms("3", "group", "targets", 10, "1", "candidate")}},
		{id: "vigie-vis-hashtags", title: "Vigie · Top hashtags", typ: "table", index: &po,
			aggs: []agg{count("1"), terms("2", "bucket", "hashtags", 25, "1", "hashtag")}},
		// Alerts.
		{id: "vigie-vis-alerts-count", title: "Vigie · Alerts", typ: "metric", index: &al,
			aggs: []agg{count("1"), metric("2", "max", "risk", "Highest risk")}},
		{id: "vigie-vis-alerts-per-day", title: "Vigie · Alerts per day", typ: "histogram", index: &al,
			aggs: []agg{count("1"), dateHistogram("2", "segment", "time", "d"), terms("3", "group", "rule", 5, "1", "rule")}},
		{id: "vigie-vis-alerts-by-rule", title: "Vigie · Alerts by rule", typ: "pie", index: &al,
			aggs: []agg{count("1"), terms("2", "segment", "rule", 10, "1", "rule")}},
		{id: "vigie-vis-alert-risk", title: "Vigie · Alert risk", typ: "histogram", index: &al,
			aggs: []agg{count("1"), histogram("2", "segment", "risk", 10, 0, 100, "risk")}},
		{id: "vigie-vis-alerted-clusters", title: "Vigie · Clusters with the most alerts", typ: "table", index: &al,
			aggs: []agg{count("1"), metric("2", "max", "risk", "risk"), metric("3", "max", "size", "accounts"), terms("4", "bucket", "cluster_id", 20, "1", "cluster")}},
	}
	dashboards := []dashboard{
		{id: DashClusters, title: "Vigie · Coordinated clusters",
			description: "Coordinated clusters found by Vigie: how many, how risky, who is in several, what they push.",
			panels: []panel{
				{"visualization", "vigie-vis-clusters-help", 0, 0, 16, 15},
				{"visualization", "vigie-vis-active-clusters", 16, 0, 12, 15},
				{"visualization", "vigie-vis-clusters-by-status", 28, 0, 20, 15},
				{"visualization", "vigie-vis-clusters-by-risk", 0, 15, 24, 15},
				{"visualization", "vigie-vis-clusters-over-time", 24, 15, 24, 15},
				{"visualization", "vigie-vis-top-clusters", 0, 30, 24, 18},
				{"visualization", "vigie-vis-accounts-in-clusters", 24, 30, 24, 18},
				{"visualization", "vigie-vis-top-objects", 0, 48, 24, 18},
				{"search", "vigie-search-active-clusters", 24, 48, 24, 18},
			}},
		{id: DashTargeting, title: "Vigie · Candidate targeting",
			description: "Which candidates coordinated clusters favour or smear, and how risky those clusters are.",
			panels: []panel{
				{"visualization", "vigie-vis-targeting-help", 0, 0, 16, 15},
				{"visualization", "vigie-vis-alerts-by-target", 16, 0, 16, 15},
				{"visualization", "vigie-vis-risk-by-target", 32, 0, 16, 15},
				{"visualization", "vigie-vis-mentions", 0, 15, 24, 15},
				{"visualization", "vigie-vis-targets-over-time", 24, 15, 24, 15},
				{"visualization", "vigie-vis-hashtags", 0, 30, 16, 18},
				{"search", "vigie-search-targeting-alerts", 16, 30, 32, 18},
			}},
		{id: DashAlerts, title: "Vigie · Alerts",
			description: "Alerts raised on risky clusters: per day, by rule, by risk, and the list.",
			panels: []panel{
				{"visualization", "vigie-vis-alerts-count", 0, 0, 12, 12},
				{"visualization", "vigie-vis-alerts-per-day", 12, 0, 36, 12},
				{"visualization", "vigie-vis-alerts-by-rule", 0, 12, 16, 15},
				{"visualization", "vigie-vis-alert-risk", 16, 12, 16, 15},
				{"visualization", "vigie-vis-alerted-clusters", 32, 12, 16, 15},
				{"search", "vigie-search-alerts", 0, 27, 48, 20},
			}},
	}
	return searches, visuals, dashboards
}
