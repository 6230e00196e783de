#!/usr/bin/env bash
# End-to-end throughput of `vigie run` on the bundled scenario, on the
# embedded broker and on a real Kafka broker (VIGIE_TEST_KAFKA, or the one
# scripts/kafka.sh runs on 127.0.0.1:19092). It times, from the start of
# the process, when the graph engine holds every post and when the store
# holds every post, read from /metrics and /api/stats, and prints a table
# row per mode with the machine's load average (the figures are only
# comparable at similar load).
#
#   bash bench/e2e_kafka.sh            # both modes
#   MODES=kafka bash bench/e2e_kafka.sh
#   MODES="kafka kafka-scaled" ...  # kafka-scaled: graph.scale_out on 4
#                                     partitions (one pair, one graph
#                                     worker in the process); "graphed" is
#                                     then when every co-action is folded in
set -euo pipefail
cd "$(dirname "$0")/.."
GO="${GO:-go}"
KAFKA="${VIGIE_TEST_KAFKA:-127.0.0.1:19092}"
MODES="${MODES:-embedded kafka kafka-scaled}"
SOURCE="testdata/scenario/posts.jsonl"
POSTS=$(wc -l <"$SOURCE")
BIN="$(mktemp -d)/vigie"
"$GO" build -o "$BIN" ./cmd/vigie

metric() { curl -fsS "http://$1/metrics" 2>/dev/null | awk -v m="$2" '$1==m {print $2}'; }
stored() { curl -fsS "http://$1/api/stats" 2>/dev/null | sed -n 's/.*"posts": *\([0-9]*\).*/\1/p' | head -1; }

echo "| mode | posts | graphed (s) | posts/s into the graph | stored (s) | posts/s into the store | load before → after |"
echo "|---|---:|---:|---:|---:|---:|---|"
for mode in $MODES; do
	dir="$(mktemp -d)"
	port=$((20000 + RANDOM % 20000))
	args=(run --data-dir "$dir" --http "127.0.0.1:$port" --source "$SOURCE" --quiet --log-level error)
	env=()
	if [[ "$mode" == kafka* ]]; then
		prefix="bench-$(date +%s)-$RANDOM."
		args+=(--kafka "$KAFKA")
		env=(VIGIE_BUS_TOPIC_PREFIX="$prefix" VIGIE_BUS_GROUP_PREFIX="$prefix")
	fi
	if [[ "$mode" == *-scaled ]]; then
		env+=(VIGIE_GRAPH_SCALE_OUT=true VIGIE_BUS_PARTITIONS=4)
	fi
	load0=$(cut -d' ' -f1 /proc/loadavg)
	t0=$(date +%s.%N)
	env "${env[@]}" "$BIN" "${args[@]}" >/dev/null 2>"$dir/err.log" &
	pid=$!
	graphed="" storedAt=""
	deadline=$(( $(date +%s) + 900 ))
	while [[ -z "$storedAt" ]]; do
		kill -0 "$pid" 2>/dev/null || { cat "$dir/err.log" >&2; echo "vigie exited" >&2; exit 1; }
		(( $(date +%s) < deadline )) || { kill "$pid"; echo "timed out" >&2; exit 1; }
		now=$(date +%s.%N)
		if [[ -z "$graphed" && "$(metric "127.0.0.1:$port" vigie_graph_engine_posts)" == "$POSTS" ]]; then
			if [[ "$mode" != *-scaled ]]; then
				graphed=$(echo "$now - $t0" | bc)
			else
				sent=$(metric "127.0.0.1:$port" vigie_pair_coactions_total)
				folded=$(metric "127.0.0.1:$port" vigie_graph_coactions_aggregated_total)
				dups=$(metric "127.0.0.1:$port" vigie_graph_coactions_duplicate_total)
				if [[ -n "$sent" && "$sent" != 0 && $(( ${folded%.*} + ${dups%.*} )) -ge ${sent%.*} ]]; then
					graphed=$(echo "$now - $t0" | bc)
				fi
			fi
		fi
		if [[ -n "$graphed" && "$(stored "127.0.0.1:$port")" == "$POSTS" ]]; then
			storedAt=$(echo "$now - $t0" | bc)
		fi
		sleep 0.2
	done
	kill -TERM "$pid"
	wait "$pid" || true
	load1=$(cut -d' ' -f1 /proc/loadavg)
	printf '| %s | %d | %.1f | %.0f | %.1f | %.0f | %s → %s |\n' "$mode" "$POSTS" "$graphed" "$(echo "$POSTS / $graphed" | bc -l)" \
		"$storedAt" "$(echo "$POSTS / $storedAt" | bc -l)" "$load0" "$load1"
	rm -rf "$dir"
done
