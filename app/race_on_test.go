//go:build race

package app

// raceDetector tells tests whether the race detector is compiled in.
const raceDetector = true
