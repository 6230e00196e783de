package scenario

import "time"

// Truth is the answer key of a scenario: the planted networks and what
// was generated around them.
type Truth struct {
	Seed     uint64         `json:"seed"`
	Start    time.Time      `json:"start"`
	End      time.Time      `json:"end"`
	Accounts int            `json:"accounts"` // distinct authors in the stream
	Posts    int            `json:"posts"`
	Networks []TruthNetwork `json:"networks"`
	// Cascades are the keys of the viral posts: organic mass retweeting
	// that a detector should not mistake for coordination.
	Cascades []string `json:"cascades"`
	// NewsBots are the automated news aggregators (account keys): organic
	// accounts that share the same links within seconds because they read
	// the same feeds. A detector should not flag them.
	NewsBots []string `json:"news_bots,omitempty"`
	// Breaking are the breaking-news bursts: organic mass sharing of one
	// story within minutes.
	Breaking []TruthBreaking `json:"breaking,omitempty"`
}

// TruthBreaking is one breaking-news burst.
type TruthBreaking struct {
	URL     string    `json:"url"`     // the article everyone shares
	Hashtag string    `json:"hashtag"` // the tag they share it with
	Time    time.Time `json:"time"`    // when the story broke
	Posts   int       `json:"posts"`   // organic posts of the burst, the outlet's included
}

// TruthNetwork is one planted network.
type TruthNetwork struct {
	Name   string `json:"name"`
	Tactic string `json:"tactic"`
	Target string `json:"target"`
	Stance string `json:"stance"`
	Lang   string `json:"lang"`
	// Members are the account keys ("twitter:<author id>") of the
	// accounts that coordinate: the ones a detector should find.
	Members []string `json:"members"`
	// Leaders are the accounts whose posts the network amplifies. They
	// only post, so a co-action detector cannot see them; Score counts
	// them neither for nor against a detector.
	Leaders []string `json:"leaders,omitempty"`
	// Posts counts the network's coordinated posts (its leaders' seed
	// posts included, its members' camouflage excluded); Start and End
	// are the times of the first and last.
	Posts int       `json:"posts"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Sleeper: the network's bot-like members are sleeper accounts
	// (created in batches long before, dormant until Start).
	Sleeper bool `json:"sleeper,omitempty"`
}
