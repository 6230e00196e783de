package alert

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSchemaCoversPayload keeps the published JSON schema and the Go
// payload in step: every JSON field of the payload types is described in
// the schema, every required field is one the payload has, and a real
// payload carries every required field.
func TestSchemaCoversPayload(t *testing.T) {
	b, err := os.ReadFile("schema/vigie-webhook-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	type obj struct {
		Required   []string                   `json:"required"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	var schema struct {
		obj
		Defs map[string]obj `json:"$defs"`
	}
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	for _, tc := range []struct {
		name string
		typ  reflect.Type
		o    obj
	}{
		{"payload", reflect.TypeFor[Payload](), schema.obj},
		{"alert", reflect.TypeFor[AlertInfo](), schema.Defs["alert"]},
		{"cluster", reflect.TypeFor[ClusterInfo](), schema.Defs["cluster"]},
		{"briefing", reflect.TypeFor[BriefingInfo](), schema.Defs["briefing"]},
	} {
		var fields []string
		for f := range tc.typ.Fields() {
			fields = append(fields, strings.Split(f.Tag.Get("json"), ",")[0])
		}
		for _, f := range fields {
			if _, ok := tc.o.Properties[f]; !ok {
				t.Errorf("schema %s lacks field %q", tc.name, f)
			}
		}
		for p := range tc.o.Properties {
			if !slices.Contains(fields, p) {
				t.Errorf("schema %s describes %q, which the payload does not have", tc.name, p)
			}
		}
	}
	c, a := cluster("c1", 70, time.Date(2017, 5, 5, 12, 0, 0, 0, time.UTC))
	body, err := Encode(NewAlertPayload("s", a, c, "http://x", time.Now()), 0)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]map[string]any
	var top map[string]any
	json.Unmarshal(body, &top)
	json.Unmarshal(body, &got)
	for _, r := range schema.Required {
		if _, ok := top[r]; !ok {
			t.Errorf("payload lacks required %q", r)
		}
	}
	for _, def := range []string{"alert", "cluster"} {
		for _, r := range schema.Defs[def].Required {
			if _, ok := got[def][r]; !ok {
				t.Errorf("payload %s lacks required %q", def, r)
			}
		}
	}
}
