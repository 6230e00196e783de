package scoring

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
)

func TestTrends(t *testing.T) {
	now := t0.Add(12 * time.Hour)
	c := post.Cluster{ID: "c-1", Status: post.StatusActive, Members: []string{"twitter:a", "twitter:b"}, Scores: post.Scores{Coordination: 0.9}}
	loose := post.Cluster{ID: "c-2", Status: post.StatusActive, Members: []string{"twitter:c"}, Scores: post.Scores{Coordination: 0.2}}
	mk := func(author string, at time.Time, tags []string, urls ...string) post.Post {
		return post.Post{Platform: post.PlatformTwitter, ID: fmt.Sprint(author, at.Unix(), tags), Author: author, Time: at, Hashtags: tags, URLs: urls}
	}
	var ps []post.Post
	for i := range 10 {
		at := now.Add(-time.Duration(i+1) * 20 * time.Minute) // recent window (6 h)
		ps = append(ps, mk("a", at, []string{"MacronLeaks"}, "https://www.fringe.example/x"), mk("b", at, []string{"macronleaks", "Steady"}))
		ps = append(ps, mk("b", at.Add(-6*time.Hour), []string{"Steady"}))                  // steady: as much before
		ps = append(ps, mk("c", at, []string{"Loose"}))                                     // weakly coordinated pusher
		ps = append(ps, mk("organic", at, []string{"Organic", "Organic2"}))                 // not a member
		ps = append(ps, mk("a", at.Add(-13*time.Hour), []string{"TooOld"}))                 // outside both windows
		ps = append(ps, mk("a", now.Add(time.Duration(i)*time.Minute), []string{"Future"})) // at or after now
	}
	tr := Trends([]post.Cluster{c, loose}, ps, now, 6*time.Hour, 0)
	byKey := map[string]Trend{}
	for _, x := range tr {
		byKey[x.Kind+":"+x.Key] = x
	}
	if tr[0].Key != "macronleaks" || tr[0].Accounts != 2 || tr[0].Posts != 20 {
		t.Errorf("top trend %+v, want macronleaks pushed by 2 accounts in 20 posts", tr[0])
	}
	for _, k := range []string{"hashtag:organic", "hashtag:tooold", "hashtag:future"} {
		if _, ok := byKey[k]; ok {
			t.Errorf("%s should not trend", k)
		}
	}
	if byKey["hashtag:steady"].Score >= byKey["link:https://www.fringe.example/x"].Score {
		t.Errorf("steady %v ranks with a rising link of the same size %v", byKey["hashtag:steady"], byKey["link:https://www.fringe.example/x"])
	}
	if byKey["hashtag:loose"].Score >= byKey["link:https://www.fringe.example/x"].Score {
		t.Error("a loosely coordinated push outranks a tight one of the same size")
	}
	if d := byKey["domain:fringe.example"]; d.Posts != 10 || d.Clusters[0] != "c-1" {
		t.Errorf("domain trend %+v", d)
	}
	if got := Trends([]post.Cluster{c, loose}, ps, now, 6*time.Hour, 2); len(got) != 2 || got[0].Key != tr[0].Key || got[1].Key != tr[1].Key {
		t.Errorf("limit 2: %+v", got)
	}
}
