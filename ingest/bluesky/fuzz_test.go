package bluesky

import (
	"strings"
	"testing"
)

func FuzzJetstreamEvent(f *testing.F) {
	for _, ev := range testEvents(f) {
		if len(ev) < 1200 { // small seeds: the fuzzer minimises each new input
			f.Add(ev)
		}
	}
	f.Add([]byte(`{"did":"did:plc:a","time_us":1725911162329308,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"k","record":{"text":"t #x","langs":["en-GB"],"tags":["y"],"facets":[{"features":[{"$type":"app.bsky.richtext.facet#link","uri":"https://x.example"}]}],"embed":{"$type":"app.bsky.embed.recordWithMedia","record":{"record":{"uri":"at://did:plc:b/app.bsky.feed.post/q"}},"media":{"$type":"app.bsky.embed.video","video":{"ref":{"$link":"bafk"}}}}}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeEvent("fuzz", b, testNow)
		if err != nil || d.skip != "" {
			return
		}
		if err := d.post.Validate(); err != nil {
			t.Fatalf("decoded an invalid post: %v", err)
		}
		if !strings.HasPrefix(d.post.ID, "at://did:") || !strings.HasPrefix(d.post.Author, "did:") {
			t.Fatalf("post %+v", d.post)
		}
		if d.timeUS <= 0 || d.post.Time.UnixMicro() != d.timeUS {
			t.Fatalf("time %v vs time_us %d", d.post.Time, d.timeUS)
		}
		if peekTimeUS(b) < 0 {
			t.Fatal("negative time_us peeked")
		}
	})
}
