// Package deploy holds Vigie's deployment files — docker-compose.yml,
// the Kubernetes manifests in k8s/ and the Kibana saved objects in kibana/
// — and the tests that check them. It has no code of its own: the tests
// live here so that `go test ./...` catches a deployment file that drifts
// from the configuration keys, the commands or the stages of the binary
// (no Docker engine or Kubernetes API is needed to run them).
package deploy
