package alert

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/privacy"
)

// TestPseudonymisedPayload queues an alert with a Pseudonymizer set and
// checks the stored body: no handle left, members and mention objects as
// pseudonyms, the same delivery ID as without (IDs derive from the
// cluster ID and detection time), and a body that decodes as the v1
// Payload (its field types, which TestSchemaCoversPayload holds to the
// schema, are unchanged).
func TestPseudonymisedPayload(t *testing.T) {
	ps, err := privacy.New([]byte("test-key-not-a-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2017, 5, 5, 12, 0, 0, 0, time.UTC)
	c, a := cluster("c1", 70, t0)
	c.Members = []string{"twitter:jeanne_lambda", "twitter:pierre_bot", "twitter:marie_relai"}
	c.TopObjects = []post.KeyCount{{Kind: post.KindMention, Key: "twitter:cible_media", Count: 4}, {Kind: post.KindHashtag, Key: "macronleaks", Count: 3}}
	bodies := map[bool][]byte{}
	ids := map[bool]string{}
	for _, pseudo := range []bool{false, true} {
		h := newHarness(t, Subscription{Name: "a", URL: "http://127.0.0.1:1/", Secret: secret})
		if pseudo {
			h.notif.Pseudonymizer = ps
		}
		if err := h.notif.Notify(t.Context(), []post.Cluster{c}, []post.Alert{a}); err != nil {
			t.Fatal(err)
		}
		ds, err := h.outbox.List(t.Context(), "", 10)
		if err != nil || len(ds) != 1 {
			t.Fatalf("%d deliveries, %v; want 1", len(ds), err)
		}
		bodies[pseudo], ids[pseudo] = ds[0].Body, ds[0].ID
	}
	for _, h := range []string{"jeanne_lambda", "pierre_bot", "marie_relai", "cible_media"} {
		if !bytes.Contains(bodies[false], []byte(h)) {
			t.Errorf("plain payload lacks %q: the fixture does not test what it should", h)
		}
		if bytes.Contains(bodies[true], []byte(h)) {
			t.Errorf("pseudonymised payload holds %q: %s", h, bodies[true])
		}
	}
	if ids[true] != ids[false] {
		t.Errorf("delivery IDs differ: %s and %s", ids[true], ids[false])
	}
	var p Payload
	if err := json.Unmarshal(bodies[true], &p); err != nil {
		t.Fatal(err)
	}
	if p.Version != PayloadVersion || p.Cluster == nil || len(p.Cluster.Members) != 3 ||
		p.Cluster.Members[0] != ps.Account("twitter:jeanne_lambda") || p.Cluster.TopObjects[0].Key != ps.Account("twitter:cible_media") ||
		p.Cluster.TopObjects[1].Key != "macronleaks" || p.Cluster.Target != "macron" {
		t.Errorf("pseudonymised payload = %+v", p.Cluster)
	}
}
