package bus

import "time"

// Observer is told what producers and consumers do, so that operators can
// watch throughput and errors (package ops exports it to Prometheus). It
// must be safe for concurrent use and cheap: it is called on every fetch.
type Observer interface {
	// Produced reports an acknowledged produce of msgs, and how long it
	// took from the call to the last ack.
	Produced(msgs []Message, took time.Duration)
	// ProduceError reports a produce that failed (not one cut short by its
	// context).
	ProduceError(topic string)
	// Fetched reports one record handed to group.
	Fetched(group string, m Message)
	// FetchError reports a failed fetch.
	FetchError(group, topic string)
	// Committed reports offsets committed by group.
	Committed(group string, msgs []Message)
	// CommitError reports a failed commit.
	CommitError(group, topic string)
}

// NopObserver observes nothing.
type NopObserver struct{}

func (NopObserver) Produced([]Message, time.Duration) {}
func (NopObserver) ProduceError(string)               {}
func (NopObserver) Fetched(string, Message)           {}
func (NopObserver) FetchError(string, string)         {}
func (NopObserver) Committed(string, []Message)       {}
func (NopObserver) CommitError(string, string)        {}

func observerOr(o Observer) Observer {
	if o == nil {
		return NopObserver{}
	}
	return o
}
