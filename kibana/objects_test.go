package kibana

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store"
)

var update = flag.Bool("update", false, "rewrite deploy/kibana/vigie.ndjson from Objects()")

const (
	goldenFile   = "../deploy/kibana/vigie.ndjson"
	templatesDir = "../store/elastic/templates"
)

// TestGolden keeps deploy/kibana/vigie.ndjson equal to what Objects()
// builds, so the file operators import by hand is the one the binary
// imports and the one the checks below read.
func TestGolden(t *testing.T) {
	got, err := NDJSON(Objects())
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(goldenFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatalf("%v (run go test ./kibana -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date with Objects(); run go test ./kibana -update", goldenFile)
	}
}

// TestSavedObjectsFile checks every line of the NDJSON file as Kibana will
// read it: valid JSON, unique IDs, references that resolve, the JSON
// nested in strings parsing, and every field that a visualisation, search,
// query or data view uses existing with a usable type in the model and in
// the index templates.
func TestSavedObjectsFile(t *testing.T) {
	data, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	schemas := modelSchemas()
	tmpl, err := templateSchemas(templatesDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(tmpl) == 0 {
		t.Logf("no index templates in %s: fields checked against the post package only", templatesDir)
	} else {
		t.Logf("fields checked against the post package and %d index templates", len(tmpl))
	}
	errs, stats := checkNDJSON(data, schemas, tmpl)
	for _, e := range errs {
		t.Error(e)
	}
	t.Logf("%d objects (%v), %d field uses checked", stats.objects, stats.types, stats.fields)
	for _, want := range []string{"Vigie · Coordinated clusters", "Vigie · Candidate targeting", "Vigie · Alerts"} {
		if !slices.Contains(stats.dashboards, want) {
			t.Errorf("dashboard %q missing", want)
		}
	}
	for _, p := range IndexPatterns() {
		if stats.types["index-pattern"] == 0 || !slices.Contains(stats.patterns, p.Title) {
			t.Errorf("data view %q missing", p.Title)
		}
	}
}

// TestCheckerCatchesMistakes makes sure the checks above can fail: each
// mutation of a correct file must be reported.
func TestCheckerCatchesMistakes(t *testing.T) {
	good, err := NDJSON(Objects())
	if err != nil {
		t.Fatal(err)
	}
	schemas := modelSchemas()
	if errs, _ := checkNDJSON(good, schemas, nil); len(errs) > 0 {
		t.Fatalf("the built objects fail the checks: %v", errs)
	}
	tmpl := map[string]schema{"vigie-alerts*": {"time": "date", "risk": "number", "rule": "text"}}
	real, err := templateSchemas(templatesDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(real) == 0 {
		real = map[string]schema{"vigie-clusters": {"scores.risk": "number", "scores.stance": "object"}}
	}
	for _, tc := range []struct {
		name    string
		mutate  func(string) string
		tmpl    map[string]schema
		wantErr string
	}{
		{"unknown field", func(s string) string {
			return strings.Replace(s, `\"field\":\"scores.risk\"`, `\"field\":\"scores.riskk\"`, 1)
		}, nil, `"scores.riskk"`},
		{"metric on a string", func(s string) string {
			return strings.Replace(s, `{\"customLabel\":\"Highest risk\",\"field\":\"scores.risk\"}`,
				`{\"customLabel\":\"Highest risk\",\"field\":\"status\"}`, 1)
		}, nil, `max needs a number`},
		{"broken reference", func(s string) string {
			return strings.Replace(s, `"id":"vigie-vis-alerts-by-rule","name":"panel_2"`, `"id":"vigie-vis-nope","name":"panel_2"`, 1)
		}, nil, "vigie-vis-nope"},
		{"duplicate id", func(s string) string {
			first, _, _ := strings.Cut(s, "\n")
			return s + first + "\n"
		}, nil, "twice"},
		{"not JSON", func(s string) string { return s + "{oops\n" }, nil, "line"},
		{"bad KQL field", func(s string) string {
			return strings.Replace(s, `\"query\":\"status:active\"`, `\"query\":\"stat:active\"`, 1)
		}, nil, `"stat"`},
		{"bad time field", func(s string) string {
			return strings.Replace(s, `"timeFieldName":"last_seen"`, `"timeFieldName":"status"`, 1)
		}, nil, "needs a date"},
		{"terms on a text field of the template", func(s string) string { return s }, tmpl, `terms cannot use "rule"`},
		{"field the index template does not index", func(s string) string {
			return strings.Replace(s, `{\"customLabel\":\"Highest risk\",\"field\":\"scores.risk\"}`,
				`{\"customLabel\":\"Highest risk\",\"field\":\"scores.stance.macron\"}`, 1)
		}, real, `"scores.stance.macron" (max), which the index template for vigie-clusters lacks`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := tc.mutate(string(good))
			if tc.tmpl == nil && bad == string(good) {
				t.Fatal("mutation changed nothing")
			}
			errs, _ := checkNDJSON([]byte(bad), schemas, tc.tmpl)
			joined := fmt.Sprint(errs)
			if !strings.Contains(joined, tc.wantErr) {
				t.Errorf("errors %v do not mention %q", errs, tc.wantErr)
			}
		})
	}
}

// schema maps a dotted field name to its kind: "string", "text", "number",
// "date", "bool" or "object". A name ending in ".*" stands for any one
// more path segment (a map in Go, dynamic fields in a template).
type schema map[string]string

func (s schema) lookup(field string) (string, bool) {
	if k, ok := s[field]; ok {
		return k, true
	}
	if i := strings.LastIndexByte(field, '.'); i > 0 {
		if k, ok := s[field[:i]+".*"]; ok {
			return k, true
		}
	}
	return "", false
}

// modelSchemas derives each data view's fields from the Go types the
// store serialises (store/elastic's document types: the post package's
// structs plus a few store fields, mirrored here), for when the index
// templates are not there to check against.
func modelSchemas() map[string]schema {
	type accountDoc struct {
		Key      string        `json:"key"`
		Platform post.Platform `json:"platform"`
		Author   string        `json:"author"`
		Observed time.Time     `json:"observed"`
		Account  post.Account  `json:"account"`
	}
	type clusterDoc struct {
		post.Cluster
		Size int `json:"size"`
	}
	type briefingDoc struct {
		store.Briefing
		Day time.Time `json:"day"` // "2006-01-02" mapped as a date
	}
	types := map[string]reflect.Type{
		Posts.ID:     reflect.TypeFor[post.Post](),
		Clusters.ID:  reflect.TypeFor[clusterDoc](),
		Accounts.ID:  reflect.TypeFor[accountDoc](),
		Alerts.ID:    reflect.TypeFor[post.Alert](),
		Briefings.ID: reflect.TypeFor[briefingDoc](),
	}
	out := map[string]schema{}
	for id, typ := range types {
		s := schema{}
		walkModel(typ, "", s)
		out[id] = s
	}
	return out
}

var timeType = reflect.TypeFor[time.Time]()

func walkModel(t reflect.Type, prefix string, s schema) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	kind := func(t reflect.Type) string {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		switch {
		case t == timeType:
			return "date"
		case t.Kind() == reflect.String:
			return "string"
		case t.Kind() == reflect.Bool:
			return "bool"
		case t.Kind() >= reflect.Int && t.Kind() <= reflect.Float64:
			return "number"
		}
		return "object"
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Tag.Get("json") == "" {
			walkModel(f.Type, prefix, s)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Map:
			s[key] = "object"
			s[key+".*"] = kind(ft.Elem())
		case ft.Kind() == reflect.Struct && ft != timeType:
			s[key] = "object"
			walkModel(ft, key, s)
		default:
			s[key] = kind(ft)
		}
	}
}

// templateSchemas reads Elasticsearch index templates (composable, with
// template.mappings, or legacy, with mappings) and returns each one's
// fields keyed by every index pattern it applies to.
func templateSchemas(dir string) (map[string]schema, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	out := map[string]schema{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var tpl struct {
			IndexPatterns []string        `json:"index_patterns"`
			Mappings      json.RawMessage `json:"mappings"`
			Template      struct {
				Mappings json.RawMessage `json:"mappings"`
			} `json:"template"`
		}
		if err := json.Unmarshal(b, &tpl); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		raw := tpl.Template.Mappings
		if raw == nil {
			raw = tpl.Mappings
		}
		var m mapping
		if raw != nil {
			if err := json.Unmarshal(raw, &m); err != nil {
				return nil, fmt.Errorf("%s: mappings: %w", f, err)
			}
		}
		s := schema{}
		m.walk("", false, s)
		for _, dt := range m.DynamicTemplates {
			for _, spec := range dt {
				if spec.PathMatch != "" {
					s[spec.PathMatch] = esKind(spec.Mapping.Type, false)
				}
			}
		}
		for _, p := range tpl.IndexPatterns {
			out[p] = s
		}
	}
	return out, nil
}

type mapping struct {
	Type             string                       `json:"type"`
	Properties       map[string]mapping           `json:"properties"`
	DynamicTemplates []map[string]dynamicTemplate `json:"dynamic_templates"`
	Fields           map[string]mapping           `json:"fields"`
}

type dynamicTemplate struct {
	PathMatch string  `json:"path_match"`
	Mapping   mapping `json:"mapping"`
}

func (m mapping) walk(prefix string, inNested bool, s schema) {
	for name, p := range m.Properties {
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		nested := inNested || p.Type == "nested"
		if len(p.Properties) > 0 || p.Type == "object" || p.Type == "nested" {
			s[key] = "object"
			if nested {
				s[key] = "nested"
			}
			p.walk(key, nested, s)
			continue
		}
		s[key] = esKind(p.Type, nested)
		for sub, f := range p.Fields {
			s[key+"."+sub] = esKind(f.Type, nested)
		}
	}
}

func esKind(typ string, nested bool) string {
	k := "object"
	switch typ {
	case "keyword", "constant_keyword", "wildcard", "ip":
		k = "string"
	case "text", "match_only_text":
		k = "text"
	case "date", "date_nanos":
		k = "date"
	case "long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float", "unsigned_long":
		k = "number"
	case "boolean":
		k = "bool"
	case "flattened":
		k = "string"
	}
	if nested {
		return "nested " + k
	}
	return k
}

type checkStats struct {
	objects, fields      int
	types                map[string]int
	dashboards, patterns []string
	uses                 []fieldUse
}

// fieldUse is one use of a field by a saved object.
type fieldUse struct {
	object, field, use string // use: "terms", "max", "date_histogram", "column", "sort", "query", "time"...
	view               string // the data view's ID
}

// needs returns what kind of field a use requires, and whether a text
// field (not aggregatable) or a field under a nested mapping will do.
func needs(use string) (kinds []string, textOK bool) {
	switch use {
	case "max", "min", "avg", "sum", "histogram", "median":
		return []string{"number"}, false
	case "date_histogram", "time":
		return []string{"date"}, false
	case "terms", "cardinality", "sort":
		return []string{"string", "number", "date", "bool"}, false
	}
	return nil, true // column, query: any existing field
}

var kqlField = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_.]*)\s*(?::|<=|>=|<|>)`)

// checkNDJSON parses a saved-objects file and returns every problem found.
// schemas are keyed by data view ID (from the model); templates by index
// pattern (from the index templates), and may be nil.
func checkNDJSON(data []byte, schemas map[string]schema, templates map[string]schema) ([]error, checkStats) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	stats := checkStats{types: map[string]int{}}
	type object struct {
		ID         string         `json:"id"`
		Type       string         `json:"type"`
		Attributes map[string]any `json:"attributes"`
		References []Reference    `json:"references"`
		Migration  map[string]any `json:"migrationVersion"`
	}
	var objs []object
	byKey := map[string]object{}
	ids := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 16<<20)
	for n := 1; sc.Scan(); n++ {
		var o object
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			bad("line %d: %v", n, err)
			continue
		}
		if o.ID == "" || o.Type == "" || o.Attributes == nil {
			bad("line %d: id, type or attributes missing", n)
			continue
		}
		if ids[o.ID] {
			bad("line %d: id %q appears twice", n, o.ID)
		}
		ids[o.ID] = true
		if _, ok := o.Migration[o.Type]; !ok {
			bad("%s %s: migrationVersion lacks %q", o.Type, o.ID, o.Type)
		}
		objs = append(objs, o)
		byKey[o.Type+"/"+o.ID] = o
		stats.objects++
		stats.types[o.Type]++
	}
	// Every reference resolves to an object of the file, of the right type.
	for _, o := range objs {
		names := map[string]bool{}
		for _, r := range o.References {
			if _, ok := byKey[r.Type+"/"+r.ID]; !ok {
				bad("%s %s: reference %s to %s %s, which is not in the file", o.Type, o.ID, r.Name, r.Type, r.ID)
			}
			if names[r.Name] {
				bad("%s %s: reference name %s used twice", o.Type, o.ID, r.Name)
			}
			names[r.Name] = true
		}
	}
	refTo := func(o object, name string) (Reference, bool) {
		for _, r := range o.References {
			if r.Name == name {
				return r, true
			}
		}
		bad("%s %s: no reference named %q", o.Type, o.ID, name)
		return Reference{}, false
	}
	nested := func(o object, attr string, v any) bool {
		s, _ := o.Attributes[attr].(string)
		if attr == "searchSourceJSON" {
			meta, _ := o.Attributes["kibanaSavedObjectMeta"].(map[string]any)
			s, _ = meta["searchSourceJSON"].(string)
		}
		if err := json.Unmarshal([]byte(s), v); err != nil {
			bad("%s %s: %s is not JSON: %v", o.Type, o.ID, attr, err)
			return false
		}
		return true
	}
	var uses []fieldUse
	dataView := map[string]string{} // object key -> data view ID
	addQuery := func(o object, q string) {
		for _, m := range kqlField.FindAllStringSubmatch(q, -1) {
			uses = append(uses, fieldUse{o.Type + " " + o.ID, m[1], "query", ""})
		}
	}
	patternOf := map[string]string{}
	for _, o := range objs {
		key := o.Type + " " + o.ID
		switch o.Type {
		case "index-pattern":
			title, _ := o.Attributes["title"].(string)
			stats.patterns = append(stats.patterns, title)
			patternOf[o.ID] = title
			dataView[key] = o.ID
			if tf, _ := o.Attributes["timeFieldName"].(string); tf != "" {
				uses = append(uses, fieldUse{key, tf, "time", ""})
			}
		case "search", "visualization":
			var src struct {
				Query        struct{ Query, Language string }
				IndexRefName string
			}
			if !nested(o, "searchSourceJSON", &src) {
				continue
			}
			if src.Query.Language != "kuery" {
				bad("%s: query language %q, want kuery", key, src.Query.Language)
			}
			if src.IndexRefName != "" {
				if r, ok := refTo(o, src.IndexRefName); ok {
					if r.Type != "index-pattern" {
						bad("%s: %s refers to a %s", key, src.IndexRefName, r.Type)
					}
					dataView[key] = r.ID
				}
			}
			addQuery(o, src.Query.Query)
			if o.Type == "search" {
				if dataView[key] == "" {
					bad("%s: a saved search needs a data view", key)
				}
				cols, _ := o.Attributes["columns"].([]any)
				for _, c := range cols {
					if c != "_source" {
						uses = append(uses, fieldUse{key, fmt.Sprint(c), "column", ""})
					}
				}
				sorts, _ := o.Attributes["sort"].([]any)
				for _, s := range sorts {
					pair, _ := s.([]any)
					if len(pair) != 2 || (pair[1] != "asc" && pair[1] != "desc") {
						bad("%s: sort %v is not [field, asc|desc]", key, s)
						continue
					}
					uses = append(uses, fieldUse{key, fmt.Sprint(pair[0]), "sort", ""})
				}
				continue
			}
			var vs struct {
				Title string
				Type  string
				Aggs  []struct {
					ID, Type, Schema string
					Params           map[string]any
				}
				Params map[string]any
			}
			if !nested(o, "visState", &vs) {
				continue
			}
			if vs.Title != o.Attributes["title"] {
				bad("%s: visState title %q differs from the object's %q", key, vs.Title, o.Attributes["title"])
			}
			if vs.Type != "markdown" && dataView[key] == "" {
				bad("%s: a %s visualisation needs a data view", key, vs.Type)
			}
			aggIDs := map[string]bool{}
			for _, a := range vs.Aggs {
				if aggIDs[a.ID] {
					bad("%s: aggregation id %s twice", key, a.ID)
				}
				aggIDs[a.ID] = true
				if f, ok := a.Params["field"].(string); ok {
					uses = append(uses, fieldUse{key, f, a.Type, ""})
				}
			}
			for _, a := range vs.Aggs {
				if ob, ok := a.Params["orderBy"].(string); ok && ob != "_key" && !aggIDs[ob] {
					bad("%s: terms %s ordered by aggregation %q, which does not exist", key, a.ID, ob)
				}
			}
			if sp, ok := vs.Params["seriesParams"].([]any); ok {
				for _, s := range sp {
					id := fmt.Sprint(s.(map[string]any)["data"].(map[string]any)["id"])
					if !aggIDs[id] {
						bad("%s: series for aggregation %s, which does not exist", key, id)
					}
				}
			}
		case "dashboard":
			title, _ := o.Attributes["title"].(string)
			stats.dashboards = append(stats.dashboards, title)
			var panels []struct {
				PanelRefName string
				PanelIndex   string
				GridData     struct{ X, Y, W, H int }
			}
			if !nested(o, "panelsJSON", &panels) {
				continue
			}
			if len(panels) == 0 {
				bad("%s: no panels", key)
			}
			seen := map[string]bool{}
			for _, p := range panels {
				if seen[p.PanelIndex] {
					bad("%s: panelIndex %s twice", key, p.PanelIndex)
				}
				seen[p.PanelIndex] = true
				if p.GridData.X < 0 || p.GridData.W <= 0 || p.GridData.X+p.GridData.W > 48 || p.GridData.H <= 0 {
					bad("%s: panel %s does not fit the 48-column grid: %+v", key, p.PanelIndex, p.GridData)
				}
				refTo(o, p.PanelRefName)
			}
			var opts map[string]any
			nested(o, "optionsJSON", &opts)
			var src map[string]any
			nested(o, "searchSourceJSON", &src)
		}
	}
	// Fields: in the index template, or in the model when there is none.
	for _, u := range uses {
		stats.fields++
		_, id, _ := strings.Cut(u.object, " ")
		view := dataView[u.object]
		if view == "" {
			view = id
		}
		u.view = view
		stats.uses = append(stats.uses, u)
		check := func(where string, s schema) {
			if err := checkUse(u, where, s); err != nil {
				errs = append(errs, err)
			}
		}
		// The index template is what Elasticsearch indexes, so it decides
		// when there is one; the model stands in for it otherwise.
		covered := false
		for pat, s := range templates {
			if matchPattern(pat, patternOf[view]) {
				check("the index template for "+pat, s)
				covered = true
			}
		}
		if s, ok := schemas[view]; ok && !covered {
			check("the model of "+view, s)
		}
	}
	return errs, stats
}

// checkUse checks one use of a field against a schema.
func checkUse(u fieldUse, where string, s schema) error {
	kinds, textOK := needs(u.use)
	kind, ok := s.lookup(u.field)
	if !ok {
		return fmt.Errorf("%s uses field %q (%s), which %s lacks", u.object, u.field, u.use, where)
	}
	if strings.HasPrefix(kind, "nested") && !textOK {
		return fmt.Errorf("%s: %s cannot use %q: it is under a nested mapping in %s", u.object, u.use, u.field, where)
	}
	kind = strings.TrimPrefix(kind, "nested ")
	if kind == "text" && !textOK {
		return fmt.Errorf("%s: %s cannot use %q: it is a text field in %s (not aggregatable)", u.object, u.use, u.field, where)
	}
	if kinds != nil && !slices.Contains(kinds, kind) && kind != "text" {
		return fmt.Errorf("%s: %s needs a %s field, %q is %s in %s", u.object, u.use, strings.Join(kinds, " or "), u.field, kind, where)
	}
	return nil
}

// matchPattern tells whether an index template's pattern covers a data
// view's title (both may end in *).
func matchPattern(templatePattern, title string) bool {
	if title == "" {
		return false
	}
	t := strings.TrimSuffix(title, "*")
	if ok, _ := path.Match(templatePattern, t); ok {
		return true
	}
	return strings.TrimSuffix(templatePattern, "*") == t
}
