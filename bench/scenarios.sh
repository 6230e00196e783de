#!/usr/bin/env bash
# Detection quality on the synthetic scenarios, Vigie and the QUT
# Coordination Network Toolkit side by side, and agreement of both with the
# reference edges of the real CooRTweet data sets.
#
#   bash bench/scenarios.sh            # results in $BENCH_OUT (default var/bench)
#
# For each scenario preset (vigie gen --preset; fixed seeds, so every run
# rates the same stream):
#
#   compact        the bundled scenario (testdata/scenario)
#   hard           every planted tactic and every hard organic case
#   organic-week   a week without any planted network: every alert is false
#
# it runs, each under /usr/bin/time -v:
#
#   vigie eval --scenario DIR --json                         shipped defaults
#   vigie eval --scenario DIR --config bench/eval-fast.yaml  detection every 5 min,
#                                                            reply signal, alerts from risk 40
#   the toolkit: preprocess (bench/cmd/scen2cnt writes the same posts as its
#                CSV), compute co_retweet, co_link and co_reply, --time_window 60
#   bench/cmd/peerscore: the toolkit's edges summed over the three networks,
#                weight >= 3, connected components of 3+ accounts as clusters,
#                rated with Vigie's own metrics (package eval)
#
# and on ../shared/datasets/coortweet the toolkit and `vigie detect --compat
# cnt` (Russian co_retweet 60 s, weight >= 2; German co_link 30 s), each
# compared with ../shared/datasets/peer-edges by bench/edge_agree.py.
#
# Outputs (JSON and time -v files) go to $BENCH_OUT; bench/table.py turns
# them, with the Go benchmarks' and bench/peers.sh's, into the one table of
# docs/benchmarks.md.
#
# Knobs: BENCH_OUT, BENCH_PRESETS (default "compact hard organic-week"),
# BENCH_EVAL_TIMEOUT (s per eval, default 1800), VIGIE_CACHE (venv,
# binaries; default .ci/cache), VIGIE_DATASETS (default ../shared/datasets).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${BENCH_OUT:-var/bench}
PRESETS=${BENCH_PRESETS:-compact hard organic-week}
EVAL_TIMEOUT=${BENCH_EVAL_TIMEOUT:-1800}
CACHE=${VIGIE_CACHE:-.ci/cache}
DATASETS=${VIGIE_DATASETS:-../shared/datasets}
CNT_VERSION=1.5.2
GO=${GO:-go}
mkdir -p "$OUT" "$CACHE"
OUT=$(cd "$OUT" && pwd)
CACHE=$(cd "$CACHE" && pwd)
VENV=$CACHE/bench-venv
BIN=$CACHE/bench-bin

log() { printf '== %s\n' "$*" >&2; }

if ! /usr/bin/time -v true >/dev/null 2>&1; then
	log "installing Debian's time package"
	apt-get update -qq && apt-get install -y -qq time >/dev/null
fi
if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('coordination-network-toolkit') != '$CNT_VERSION')" 2>/dev/null; then
	log "creating $VENV with coordination-network-toolkit==$CNT_VERSION"
	python3 -m venv "$VENV"
	"$VENV/bin/pip" install -q --disable-pip-version-check "coordination-network-toolkit==$CNT_VERSION"
fi
PY=$VENV/bin/python

log "building vigie, scen2cnt and peerscore"
mkdir -p "$BIN"
$GO build -o "$BIN/vigie" ./cmd/vigie
$GO build -o "$BIN/scen2cnt" ./bench/cmd/scen2cnt
$GO build -o "$BIN/peerscore" ./bench/cmd/peerscore
VIGIE=$BIN/vigie

# timed NAME CMD...: runs CMD with stdout to $OUT/NAME.out and stderr to
# $OUT/NAME.err, under /usr/bin/time -v (to $OUT/NAME.time). A failure is
# logged and recorded in $OUT/NAME.failed, and the benchmark goes on.
timed() {
	local name=$1
	shift
	log "$name: $*"
	rm -f "$OUT/$name.failed"
	if ! /usr/bin/time -v -o "$OUT/$name.time" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"; then
		log "$name failed; see $OUT/$name.err"
		echo failed >"$OUT/$name.failed"
		return 1
	fi
}

# export_edges DB KIND FILE: the toolkit's KIND network table as CSV.
export_edges() {
	"$PY" - "$1" "$2" "$3" <<'EOF'
import csv, sqlite3, sys
db, kind, out = sys.argv[1:4]
con = sqlite3.connect(db)
with open(out, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["user_1", "user_2", "weight"])
    for row in con.execute(f"select user_1, user_2, weight from {kind}_network"):
        w.writerow(row)
EOF
}

TK=("$PY" -m coordination_network_toolkit)

for preset in $PRESETS; do
	dir=$OUT/scenario-$preset
	if [ "$preset" = compact ]; then
		dir=$ROOT/testdata/scenario
	else
		"$VIGIE" gen --preset "$preset" --out "$dir" >&2
	fi
	timed "eval-$preset-default" timeout "$EVAL_TIMEOUT" "$VIGIE" eval --scenario "$dir" --json --timeout "${EVAL_TIMEOUT}s" || true
	timed "eval-$preset-fast" timeout "$EVAL_TIMEOUT" "$VIGIE" eval --scenario "$dir" --config bench/eval-fast.yaml --json --timeout "${EVAL_TIMEOUT}s" || true

	# Vigie's engine on the whole file at once, the batch job the toolkit
	# does: a speed figure comparable with the toolkit's.
	timed "detect-$preset" "$VIGIE" detect --input "$dir/posts.jsonl" --compat none --signal repost,link,reply --window 60s --out "$OUT/detect-$preset" || true

	run=$OUT/cnt-$preset
	rm -rf "$run" && mkdir -p "$run"
	"$BIN/scen2cnt" -in "$dir/posts.jsonl" -out "$run/cnt.csv"
	if timed "cnt-$preset-preprocess" "${TK[@]}" "$run/cnt.db" preprocess --format csv "$run/cnt.csv"; then
		for kind in co_retweet co_link co_reply; do
			if timed "cnt-$preset-$kind" "${TK[@]}" "$run/cnt.db" compute "$kind" --time_window 60 --min_edge_weight 1; then
				export_edges "$run/cnt.db" "$kind" "$run/$kind.csv"
			fi
		done
		if [ -e "$run/co_reply.csv" ]; then
			"$BIN/peerscore" -truth "$dir/truth.json" -min-weight 3 "$run/co_retweet.csv" "$run/co_link.csv" >"$OUT/cnt-$preset-score2.json"
			"$BIN/peerscore" -truth "$dir/truth.json" -min-weight 3 "$run/co_retweet.csv" "$run/co_link.csv" "$run/co_reply.csv" >"$OUT/cnt-$preset-score.json"
		fi
	fi
	rm -f "$run/cnt.db" "$run/cnt.db-wal" "$run/cnt.db-shm"
done

# The real data sets: both tools against the reference edges.
if [ -d "$DATASETS/coortweet" ]; then
	ds=$OUT/datasets
	mkdir -p "$ds"
	python3 bench/coortweet_to_cnt.py russian "$DATASETS/coortweet/russian_coord_tweets.csv" "$ds/russian_cnt.csv"
	python3 bench/coortweet_to_cnt.py german "$DATASETS/coortweet/german_elections.csv" "$ds/german_cnt.csv"
	rm -f "$ds"/*.db*
	if timed ds-cnt-russian-preprocess "${TK[@]}" "$ds/russian.db" preprocess --format csv "$ds/russian_cnt.csv" &&
		timed ds-cnt-russian "${TK[@]}" "$ds/russian.db" compute co_retweet --time_window 60 --min_edge_weight 2; then
		export_edges "$ds/russian.db" co_retweet "$ds/cnt_russian.csv"
		python3 bench/edge_agree.py "$DATASETS/peer-edges/cnt_russian_coretweet_tw60_edges.csv" "$ds/cnt_russian.csv" >"$OUT/agree-russian-cnt.json"
	fi
	if timed ds-vigie-russian "$VIGIE" detect --input "$DATASETS/coortweet/russian_coord_tweets.csv" --compat cnt --signal repost --window 60s --min-weight 2 --out "$ds/vigie_russian"; then
		python3 bench/edge_agree.py "$DATASETS/peer-edges/cnt_russian_coretweet_tw60_edges.csv" "$ds/vigie_russian/edges.csv" >"$OUT/agree-russian-vigie.json"
	fi
	if timed ds-cnt-german-preprocess "${TK[@]}" "$ds/german.db" preprocess --format csv "$ds/german_cnt.csv" &&
		timed ds-cnt-german "${TK[@]}" "$ds/german.db" compute co_link --time_window 30 --min_edge_weight 1; then
		export_edges "$ds/german.db" co_link "$ds/cnt_german.csv"
		python3 bench/edge_agree.py "$DATASETS/peer-edges/cnt_german_colink_tw30_edges.csv" "$ds/cnt_german.csv" >"$OUT/agree-german-cnt.json"
	fi
	if timed ds-vigie-german "$VIGIE" detect --input "$DATASETS/coortweet/german_elections.csv" --compat cnt --signal link --window 30s --out "$ds/vigie_german"; then
		python3 bench/edge_agree.py "$DATASETS/peer-edges/cnt_german_colink_tw30_edges.csv" "$ds/vigie_german/edges.csv" >"$OUT/agree-german-vigie.json"
	fi
	rm -f "$ds"/*.db*
else
	log "no $DATASETS/coortweet: data set agreement skipped"
fi

{
	echo "cnt_version=$CNT_VERSION"
	echo "python=$("$PY" -c 'import platform; print(platform.python_version())')"
	echo "sqlite=$("$PY" -c 'import sqlite3; print(sqlite3.sqlite_version)')"
} >"$OUT/scenarios.env"
log "scenario results in $OUT"
