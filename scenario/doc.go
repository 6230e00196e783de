// Package scenario generates Vigie's synthetic test bed: a deterministic
// stream of Twitter posts modelled on the last four days of the 2017
// French presidential race (the Macron-Le Pen debate of 3 May, the
// #MacronLeaks dump of 5 May, the electoral silence before the 7 May
// vote), with coordinated networks planted in it and an answer key.
//
// Vigie cannot ship real platform data, and a detector cannot be judged
// without knowing which accounts coordinate, so the scenario has to be
// made, and made hard enough to mean something. Organic users therefore
// behave the way that fools naive detectors: heavy-tailed activity with a
// daily rhythm, partisan retweeting of popular accounts, and viral
// cascades in which hundreds of genuine fans retweet the same post within
// minutes. Planted networks use four tactics (repost rings, copy-paste,
// link pushes, hashtag pushes); every one of them makes members repost
// the same post or share the same link within seconds of each other,
// many times over, which organic users almost never do.
//
// Harder cases are opt-in, so the bundled scenario stays as it is: reply
// brigades (co-replying to the target's posts), slow pushes (reposts
// spread over half an hour rather than seconds), sleeper accounts (made
// in batches years before, dormant until the operation), and among the
// organic users news bots (feed readers that co-share every article
// within seconds) and breaking-news bursts (hundreds of users sharing one
// story within minutes). The "hard" and "organic-week" presets
// (presets.go) combine them for benchmarks. TestSeparable
// holds the generator to that: a plain co-repost and co-link detector
// must recover the networks with precision and recall of 0.95 or more.
//
// The same Config always yields byte-identical output: randomness comes
// from PCG streams seeded from Config.Seed, and nothing is read from map
// iteration, the clock or the machine. testdata/scenario at the root of
// the repository holds Compact() as generated; TestBundledUpToDate keeps
// it in step with the code (go test ./scenario -update rewrites it).
package scenario
