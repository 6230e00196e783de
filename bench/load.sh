#!/usr/bin/env bash
# Load test (issue 11): sustained ingest at twice the end-to-end throughput
# (measured first, in the same run) on the embedded default, for
# LOAD_DURATION, sampling memory and consumer lag; then the load stops
# and the lag must drain. bench/cmd/vigieload has the details and checks.
#
#   bash bench/load.sh                     # 10 minutes, figures into docs/benchmarks.md
#   LOAD_DURATION=1m LOAD_DOC= bash bench/load.sh
#
# Knobs (environment): LOAD_DURATION (10m), LOAD_RATE (posts/s; default
# twice the measured throughput), LOAD_SAMPLE (5s), LOAD_DRAIN_MAX
# (default: the backlog at half the measured throughput, + 2m), LOAD_HEAP_TOLERANCE (0.25), LOAD_PROFILE (a directory:
# CPU and heap profiles of the last third), LOAD_DOC (docs/benchmarks.md;
# empty writes nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
GO="${GO:-go}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$GO" build -o "$tmp/vigie" ./cmd/vigie
"$GO" build -o "$tmp/vigieload" ./bench/cmd/vigieload
"$tmp/vigieload" -vigie "$tmp/vigie" -bundled testdata/scenario/posts.jsonl -doc "${LOAD_DOC-docs/benchmarks.md}"
