//go:build race

package pipeline

// raceDetector tells tests whether the race detector is compiled in.
const raceDetector = true
