// Package graph turns a stream of posts into a co-action graph and finds
// the coordinated clusters in it.
//
// Each post yields actions (see Actions): an account reposting a post,
// sharing a URL, and so on. Two accounts that act on the same object
// within Config.Window co-act; an edge between them counts the distinct
// objects they co-acted on, as CooRTweet does, so one object shared many
// times weighs once. Pairing is streaming and bounded: each object keeps
// only its latest Config.KeyCap actions, because naive pairing of a viral
// object is quadratic (facts.md: one key gave 67% of 1.15 billion pairs).
//
// Detect runs Louvain, written here over plain arrays because gonum's is
// orders of magnitude too slow at our sizes, on the edges of weight at
// least Config.MinWeight, and reports communities as post.Cluster records
// with stable IDs.
//
// Everything is a deterministic function of the sequence of posts added:
// no wall clock, no map order, no random seed reaches a result. That is
// what lets Snapshot and Restore resume after a crash with exactly the
// output of an engine that never stopped, and lets a replay of already
// seen posts change nothing.
package graph
