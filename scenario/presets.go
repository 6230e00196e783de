package scenario

import (
	"fmt"
	"strings"
	"time"
)

// Presets are named scenarios for benchmarks and evaluation (`vigie gen
// --preset NAME`), each with a fixed seed so that every run rates the
// same stream:
//
//   - default: Default(), the full four days.
//   - compact: Compact(), the scenario bundled in testdata/scenario.
//   - hard: the compact background plus every hard case: news bots and
//     breaking-news bursts among the organic users, more camouflage, and
//     besides the seven default networks a reply brigade, a sleeper
//     repost ring, a slow push spread over half-hours, and a small,
//     low-intensity link push.
//   - organic-week: a week of organic activity only (cascades, news bots,
//     breaking news), no planted network: every alert on it is false.
var Presets = []string{"default", "compact", "hard", "organic-week"}

// Preset returns the named preset's configuration.
func Preset(name string) (Config, error) {
	switch name {
	case "default":
		return Default(), nil
	case "compact":
		return Compact(), nil
	case "hard":
		return Hard(), nil
	case "organic-week":
		return OrganicWeek(), nil
	}
	return Config{}, fmt.Errorf("scenario: unknown preset %q (want one of %s)", name, strings.Join(Presets, ", "))
}

// Hard is the "hard" preset: see Presets.
func Hard() Config {
	c := Compact()
	c.Seed = 1010
	c.NewsBots = 12
	c.BreakingNews = 6
	c.BreakingSize = 150
	d := func(day, hour, minute int) time.Time { return time.Date(2017, 5, day, hour, minute, 0, 0, time.UTC) }
	nets := DefaultNetworks()
	for i := range nets {
		nets[i].Camouflage = 0.5
	}
	c.Networks = append(nets,
		NetworkSpec{Name: "stopmacron-brigade", Tactic: ReplyBrigade, Size: 24, Target: "macron", Stance: StanceSmear,
			Start: d(3, 7, 0), Duration: 62 * time.Hour, Bursts: 22, Hashtag: "StopMacron"},
		NetworkSpec{Name: "sleeper-ring", Tactic: RepostRing, Size: 30, Target: "lepen", Stance: StanceFavour,
			Start: d(5, 6, 0), Bursts: 24, Leaders: 2, Sleeper: true, Camouflage: 0.1},
		NetworkSpec{Name: "slow-push", Tactic: SlowPush, Size: 16, Target: "melenchon", Stance: StanceFavour,
			Start: d(3, 6, 0), Bursts: 60, Participation: 0.85, MaxLag: 30 * time.Minute, Leaders: 2},
		NetworkSpec{Name: "hamon-quiet-links", Tactic: LinkPush, Size: 8, Target: "hamon", Stance: StanceSmear,
			Start: d(3, 12, 0), Bursts: 10, Participation: 0.6},
	)
	return c
}

// OrganicWeek is the "organic-week" preset: see Presets.
func OrganicWeek() Config {
	c := Compact()
	c.Seed = 707
	c.Start = time.Date(2017, 5, 1, 0, 0, 0, 0, time.UTC)
	c.Duration = 7 * 24 * time.Hour
	c.NewsBots = 12
	c.BreakingNews = 7
	c.BreakingSize = 150
	c.Networks = []NetworkSpec{}
	return c
}
