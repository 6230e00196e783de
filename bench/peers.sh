#!/usr/bin/env bash
# Peer benchmark: Vigie against the QUT Coordination Network Toolkit on
# co-repost detection, side by side, on the same synthetic stream.
#
#   bash bench/peers.sh                          # 1M rows
#   BENCH_ROWS="1000000 10000000" bash bench/peers.sh
#
# For each size it generates the stream (bench/cmd/corepostgen: the
# toolkit's CSV and Vigie's JSONL of the same rows, cached by size, seed
# and generator source), then runs one after the other, each under
# /usr/bin/time -v and a time limit:
#
#   toolkit        python -m coordination_network_toolkit DB preprocess --format csv cnt.csv
#                  python -m coordination_network_toolkit DB compute co_retweet --time_window 60
#   vigie cnt      vigie detect --compat cnt on cnt.csv: the toolkit's own computation,
#                  same file, same parameters (min_edge_weight 2)
#   vigie engine   vigie detect --compat none on posts.jsonl, key cap 2^30: Vigie's engine
#                  uncapped with whole-file retention, then community detection
#   vigie stream   bench/cmd/vigiecorepost -mode default: the graph stage's defaults
#                  (key cap 50, weak edges forgotten after 6 h), bounded memory
#
# and compares each Vigie edge list with the toolkit's table
# (bench/cnt_compare.py: the toolkit stores each edge once per direction,
# plus self-loops; self-loops are dropped, both directions checked equal
# and merged). It prints a markdown table per size and writes it into
# docs/benchmarks.md with the machine, versions, date and load average,
# replacing the section of the same size and keeping the others. It also
# runs the community-detection benchmark (BenchmarkCommunities at 1M nodes
# and 5M edges, or BenchmarkDetect where that does not exist).
#
# Knobs (environment):
#   BENCH_ROWS            sizes to run, default "1000000"
#   BENCH_SEED            generator seed, default 1
#   BENCH_CNT_TIMEOUT     seconds the toolkit may take per size (both steps), default 1200
#   BENCH_VIGIE_TIMEOUT   seconds each Vigie run may take, default 3600
#   BENCH_MAX_RSS_MB      memory guard: a run whose processes hold more is stopped, default 16000
#   BENCH_EXACT_MAX_ROWS  largest size for the uncapped engine run, default 2000000: it
#                         keeps every pair ever seen (about 6 GB at 1M rows)
#   BENCH_COMMUNITIES     0 skips the community-detection benchmark
#   VIGIE_CACHE           cache directory (venv, data, binaries), default .ci/cache
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

ROWS=${BENCH_ROWS:-1000000}
SEED=${BENCH_SEED:-1}
CNT_TIMEOUT=${BENCH_CNT_TIMEOUT:-1200}
VIGIE_TIMEOUT=${BENCH_VIGIE_TIMEOUT:-3600}
MAX_RSS_MB=${BENCH_MAX_RSS_MB:-16000}
EXACT_MAX=${BENCH_EXACT_MAX_ROWS:-2000000}
CACHE=${VIGIE_CACHE:-.ci/cache}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
VENV=$CACHE/bench-venv
BIN=$CACHE/bench-bin
DATA=$CACHE/bench-data
DOC=$ROOT/docs/benchmarks.md
CNT_VERSION=1.5.2
GO=${GO:-go}

log() { printf '== %s\n' "$*" >&2; }

# GNU time's -v gives the wall time and the peak resident set size.
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

log "building vigie, the generator and the graph-stage runner"
mkdir -p "$BIN"
$GO build -o "$BIN/corepostgen" ./bench/cmd/corepostgen
$GO build -o "$BIN/vigiecorepost" ./bench/cmd/vigiecorepost
$GO build -o "$BIN/vigie" ./cmd/vigie
VIGIE=$BIN/vigie
GEN_HASH=$(sha256sum <bench/cmd/corepostgen/main.go | cut -c1-16)

# tree_rss_peak PID: peak of the summed RSS (KB) of PID and its
# descendants, sampled twice a second. /usr/bin/time reports the largest
# single process; the toolkit runs a pool of worker processes, whose sum
# is what the machine must hold. Over MAX_RSS_MB the run is stopped (its
# timeout wrapper, a child of PID, is sent TERM and passes it on to the
# whole run), so a size too big for the machine fails alone instead of
# starving everything else on it; the flag file $2 records it.
tree_rss_peak() {
	local root=$1 flag=$2 peak=0 cur
	while kill -0 "$root" 2>/dev/null; do
		cur=$(ps -e -o pid=,ppid=,rss= | awk -v r="$root" '
			{ pp[$1] = $2; rss[$1] = $3 }
			END { s = 0; for (p in pp) { q = p; n = 0; while (q != r && (q in pp) && n++ < 64) q = pp[q]; if (q == r) s += rss[p] } print s }')
		if ((cur > peak)); then peak=$cur; fi
		if ((cur > MAX_RSS_MB * 1024)) && [ ! -e "$flag" ]; then
			echo "$cur" >"$flag"
			for child in $(ps -o pid= --ppid "$root"); do kill -TERM "$child" 2>/dev/null || true; done
		fi
		sleep 0.5
	done
	echo "$peak"
}

# measure NAME LOG LIMIT_S CMD...: runs CMD under /usr/bin/time -v and a
# timeout of LIMIT_S seconds (timeout signals its whole process group, so
# worker pools stop too), its output to LOG. Sets M_STATUS, M_WALL (s),
# M_RSS (MB, largest process), M_TREE (MB, all processes) and M_NOTE (why
# it did not finish, or empty).
measure() {
	local name=$1 out=$2 limit=$3
	shift 3
	local tf=$out.time flag=$out.oom
	rm -f "$flag"
	log "$name: $*"
	/usr/bin/time -v -o "$tf" timeout --kill-after=30 "$limit" "$@" >"$out" 2>&1 &
	local pid=$!
	local tree
	tree=$(tree_rss_peak "$pid" "$flag")
	M_STATUS=0
	wait "$pid" || M_STATUS=$?
	M_WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; printf "%.1f", s }' "$tf")
	M_RSS=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$tf")
	M_TREE=$(awk -v k="$tree" 'BEGIN { printf "%.0f", k / 1024 }')
	M_NOTE=""
	if [ -e "$flag" ]; then
		M_NOTE="stopped after ${M_WALL} s: over the ${MAX_RSS_MB} MB memory guard"
	elif [ "$M_STATUS" = 124 ] || [ "$M_STATUS" = 137 ]; then
		M_NOTE="did not finish within ${limit} s"
	elif [ "$M_STATUS" != 0 ]; then
		M_NOTE="failed with exit status $M_STATUS (see $out)"
	fi
	log "$name: exit $M_STATUS, ${M_WALL} s, ${M_RSS} MB (all processes ${M_TREE} MB) ${M_NOTE}"
}

load() { cut -d' ' -f1 /proc/loadavg; }
# field JSON KEY prints one field of a JSON object.
field() { "$PY" -c "import json, sys; print(json.loads(sys.argv[1] or '{}').get(sys.argv[2], ''))" "$1" "$2"; }
num() { "$PY" -c "
import sys
v = sys.argv[1]
try:
    f = float(v)
    print(f'{int(f):,}' if f == int(f) else f'{f:,.{int(sys.argv[2])}f}')
except ValueError:
    print(v or '—')" "${1:-}" "${2:-1}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.1f×", a / b; else print "—" }'; }

CPU=$(lscpu 2>/dev/null | awk -F': *' '/^Model name/ && !done { print $2; done = 1 }')
MEM_GB=$(awk '/MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)
NPROC=$(nproc)
GOVER=$($GO env GOVERSION)
PYVER=$("$PY" -c 'import platform; print(platform.python_version())')
SQLITEVER=$("$PY" -c 'import sqlite3; print(sqlite3.sqlite_version)')
# VIGIE_COMMIT names the tree without asking git (make bench passes it).
if [ -n "${VIGIE_COMMIT:-}" ]; then
	COMMIT=$VIGIE_COMMIT
else
	COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
	if [ -n "$(git status --porcelain -- app graph ingest post bench 2>/dev/null)" ]; then COMMIT="$COMMIT with local changes"; fi
fi
DATE=$(date -u +%Y-%m-%d)

SECTIONS=$(mktemp -d)
trap 'rm -rf "$SECTIONS"' EXIT

# compare_cell JSON: the "same edges and weights" cell of a comparison.
compare_cell() {
	local c=$1
	if [ -z "$c" ]; then echo "—"; return; fi
	if [ "$(field "$c" equal)" = True ]; then
		echo "yes: all $(num "$(field "$c" common)") (weight ≥ $2)"
	elif [ "$(field "$c" vigie_subset)" = True ]; then
		echo "subset (weight ≥ $2): $(num "$(field "$c" common)") of $(num "$(field "$c" toolkit_edges)") toolkit edges, $(num "$(field "$c" vigie_weight_lower)") with lower weight, none extra"
	else
		echo "no (weight ≥ $2): $(num "$(field "$c" common)") common, $(num "$(field "$c" only_toolkit)") toolkit only, $(num "$(field "$c" only_vigie)") Vigie only, $(num "$(field "$c" weight_differs)") weights differ"
	fi
}

for n in $ROWS; do
	dir=$DATA/$n-s$SEED
	stamp="$GEN_HASH $n $SEED"
	if [ "$(cat "$dir/stamp" 2>/dev/null)" != "$stamp" ]; then
		log "generating $n rows into $dir"
		rm -rf "$dir" && mkdir -p "$dir"
		"$BIN/corepostgen" -rows "$n" -seed "$SEED" -out "$dir"
		echo "$stamp" >"$dir/stamp"
	fi
	shape=$("$BIN/corepostgen" -rows "$n" -seed "$SEED" -stats)
	run=$dir/run
	rm -rf "$run" && mkdir -p "$run"
	load_before=$(load)
	rows_md=()
	notes_md=()

	# The toolkit: preprocess, then compute, within CNT_TIMEOUT together.
	measure "toolkit preprocess" "$run/cnt_pre.log" "$CNT_TIMEOUT" \
		"$PY" -m coordination_network_toolkit "$run/cnt.db" preprocess --format csv "$dir/cnt.csv"
	pre_wall=$M_WALL pre_rss=$M_RSS pre_tree=$M_TREE cnt_note=$M_NOTE
	comp_wall=0 comp_rss=0 comp_tree=0
	if [ -z "$cnt_note" ]; then
		left=$(awk -v t="$CNT_TIMEOUT" -v w="$pre_wall" 'BEGIN { l = int(t - w); print (l > 1 ? l : 1) }')
		measure "toolkit compute" "$run/cnt_compute.log" "$left" \
			"$PY" -m coordination_network_toolkit "$run/cnt.db" compute co_retweet --time_window 60
		comp_wall=$M_WALL comp_rss=$M_RSS comp_tree=$M_TREE
		[ -z "$M_NOTE" ] || cnt_note="compute $M_NOTE (toolkit time limit ${CNT_TIMEOUT} s in all)"
	else
		cnt_note="preprocess $cnt_note"
	fi
	cnt_wall=$(awk -v a="$pre_wall" -v b="$comp_wall" 'BEGIN { printf "%.1f", a + b }')
	cnt_rss=$((pre_rss > comp_rss ? pre_rss : comp_rss))
	cnt_tree=$((pre_tree > comp_tree ? pre_tree : comp_tree))
	cnt_ok=0
	[ -n "$cnt_note" ] || cnt_ok=1
	cnt_edges="—"

	# Vigie. Each entry: label, minimum weight compared, edge file, command.
	vigie_run() {
		local key=$1 label=$2 minw=$3 edges=$4 limit=$5
		shift 5
		measure "vigie $key" "$run/vigie_$key.log" "$limit" "$@"
		local wall=$M_WALL rss=$M_RSS tree=$M_TREE note=$M_NOTE
		if [ -n "$note" ]; then
			# A process stopped by a signal has no time -v figure worth showing.
			rows_md+=("| $(num "$n") | $label | $note | — | $tree | — | — | — |")
			return
		fi
		local cmp="" nedges="—" speed="—"
		if [ "$cnt_ok" = 1 ]; then
			cmp=$("$PY" bench/cnt_compare.py "$run/cnt.db" "$edges" "$minw" || true)
			if [ "$minw" = 2 ] && [ "$cnt_edges" = "—" ]; then cnt_edges=$(num "$(field "$cmp" toolkit_edges)"); fi
			speed=$(ratio "$cnt_wall" "$wall")
		fi
		nedges=$(awk 'END { print NR - 1 }' "$edges")
		# vigie detect reports how long reading and computing took.
		local rd cp
		rd=$(sed -n 's/^read [0-9]* records ([0-9]* bad) in \([^;]*\);.*/\1/p' "$run/vigie_$key.log" | awk 'NR == 1')
		cp=$(sed -n 's/.* in \([0-9hmµnus.]*\); wrote .*/\1/p' "$run/vigie_$key.log" | awk 'NR == 1')
		if [ -n "$rd" ] && [ -n "$cp" ]; then label="$label (read $rd, compute $cp)"; fi
		rows_md+=("| $(num "$n") | $label | $wall | $rss | $tree | $(num "$nedges") (weight ≥ $minw) | $(compare_cell "$cmp" "$minw") | $speed |")
	}
	vigie_run cnt "Vigie \`detect --compat cnt\` on the toolkit's CSV" 2 "$run/vd_cnt/edges.csv" "$VIGIE_TIMEOUT" \
		"$VIGIE" detect --input "$dir/cnt.csv" --format cnt --compat cnt --signal repost --window 60s --min-weight 2 --out "$run/vd_cnt"
	if [ "$n" -le "$EXACT_MAX" ]; then
		vigie_run engine "Vigie \`detect\` (engine, uncapped, whole-file retention, clusters) on JSONL" 3 "$run/vd_engine/edges.csv" "$VIGIE_TIMEOUT" \
			"$VIGIE" detect --input "$dir/posts.jsonl" --compat none --signal repost --window 60s --key-cap 1073741824 --out "$run/vd_engine"
		if [ -e "$run/vd_engine/nodes.csv" ]; then
			sc=$("$PY" bench/planted_score.py "$run/vd_engine/nodes.csv" "$dir/truth.json")
			notes_md+=("- Vigie \`detect\` engine: $(num "$(field "$sc" clusters)") clusters of $(num "$(field "$sc" cluster_accounts)") accounts, account precision $(num "$(field "$sc" precision)" 3), recall $(num "$(field "$sc" recall)" 3) against the planted groups (every edge of weight ≥ 3 over the whole file takes part).")
		fi
	else
		rows_md+=("| $(num "$n") | Vigie \`detect\` engine, uncapped | not run: uncapped with whole-file retention it keeps every pair seen (about 6 GB at 1M rows); above BENCH_EXACT_MAX_ROWS=$EXACT_MAX it would not fit in $MEM_GB GB | | | | | |")
	fi
	vigie_run stream "Vigie graph-stage defaults (key cap 50, weak edges forgotten after 6 h) on JSONL" 2 "$run/vs_edges.csv" "$VIGIE_TIMEOUT" \
		"$BIN/vigiecorepost" -in "$dir/posts.jsonl" -mode default -edges "$run/vs_edges.csv" -truth "$dir/truth.json"
	if [ -s "$run/vigie_stream.log" ]; then
		j=$(grep -m1 '^{' "$run/vigie_stream.log" || true)
		[ -z "$j" ] || notes_md+=("- Graph-stage defaults: $(num "$(field "$j" pairs)") co-action pairs (the uncapped engine pairs every one), $(num "$(field "$j" edges)") edges live at the end, $(num "$(field "$j" clusters)") clusters of $(num "$(field "$j" cluster_accounts)") accounts, account precision $(num "$(field "$j" precision)" 3), recall $(num "$(field "$j" recall)" 3) against the planted groups; ingest $(num "$(field "$j" ingest_s)") s, detection $(num "$(field "$j" detect_s)" 2) s, live heap $(num "$(field "$j" heap_mb)") MB.")
	fi
	load_after=$(load)

	{
		echo "### $(num "$n") rows"
		echo
		echo "Run $DATE on $NPROC cores ($CPU), $MEM_GB GB; Go $GOVER, Python $PYVER (SQLite $SQLITEVER), coordination-network-toolkit $CNT_VERSION, Vigie $COMMIT. Load average (1 min) $load_before before, $load_after after."
		echo
		echo "Stream: $(echo "$shape" | paste -sd ';' | sed 's/; */; /g')."
		echo
		echo "| rows | tool | wall s | peak MB (time -v) | peak MB (all processes) | edges | same edges and weights as the toolkit | Vigie speed-up |"
		echo "|---:|---|---:|---:|---:|---:|---|---:|"
		if [ "$cnt_ok" = 1 ]; then
			echo "| $(num "$n") | toolkit: preprocess $pre_wall s + compute co_retweet $comp_wall s | $cnt_wall | $cnt_rss | $cnt_tree | $cnt_edges (weight ≥ 2) | — | — |"
		else
			echo "| $(num "$n") | toolkit | $cnt_note | — | $cnt_tree | — | — | — |"
		fi
		printf '%s\n' "${rows_md[@]}"
		echo
		[ "${#notes_md[@]}" = 0 ] || printf '%s\n' "${notes_md[@]}"
		echo
	} >"$SECTIONS/$n.md"
	cat "$SECTIONS/$n.md"
done

# Community detection at 1M nodes and 5M edges, from the Go benchmark.
if [ "${BENCH_COMMUNITIES:-1}" != 0 ]; then
	bench=BenchmarkDetect
	# Not piped into grep -q: under pipefail, grep closing the pipe early
	# would fail the listing.
	listed=$($GO test -list 'BenchmarkCommunities' ./graph/ 2>&1 || true)
	if grep -qx 'BenchmarkCommunities' <<<"$listed"; then bench=BenchmarkCommunities; fi
	log "community detection: $bench"
	out=$CACHE/bench-communities.txt
	load_before=$(load)
	# -v shows the benchmark's log line with the graph's size.
	if $GO test -v -run XXX -bench "^$bench\$" -benchmem -benchtime 1x -count 1 -timeout 30m ./graph/ >"$out" 2>&1; then
		{
			echo "### Community detection"
			echo
			echo "Run $DATE, Vigie $COMMIT, \`go test -run XXX -bench '^$bench\$' -benchtime 1x ./graph/\`; load average $load_before before, $(load) after."
			echo
			echo "| benchmark | s/op | MB allocated/op | communities | modularity Q |"
			echo "|---|---:|---:|---:|---:|"
			awk '/^Benchmark.*ns\/op/ {
				name = $1; sub(/-[0-9]+$/, "", name); s = ""; mb = ""; c = ""; q = ""
				for (i = 2; i <= NF; i++) {
					if ($(i) == "ns/op") s = sprintf("%.2f", $(i-1) / 1e9)
					if ($(i) == "B/op") mb = sprintf("%.0f", $(i-1) / 1048576)
					if ($(i) == "communities") c = $(i-1)
					if ($(i) == "Q") q = $(i-1)
				}
				printf "| %s | %s | %s | %s | %s |\n", name, s, mb, c, q
			}' "$out"
			g=$(grep -m1 -o 'graph: [0-9].*' "$out" || true)
			[ -z "$g" ] || printf '\nBenchmark %s.\n' "$g"
			echo
		} >"$SECTIONS/communities.md"
		cat "$SECTIONS/communities.md"
	else
		log "community benchmark failed; see $out"
	fi
fi

# Replace each size's section (and the community section) in the doc,
# keeping the sections of sizes not run this time.
"$PY" - "$DOC" "$SECTIONS" <<'EOF'
import os, re, sys
doc, sections = sys.argv[1], sys.argv[2]
text = open(doc, encoding="utf-8").read() if os.path.exists(doc) else "# Benchmarks\n\n<!-- generated below by bench/peers.sh -->\n"
for name in sorted(os.listdir(sections), key=lambda s: (not s[0].isdigit(), int(s[:-3]) if s[0].isdigit() else 0)):
    key = name[:-3]
    body = open(os.path.join(sections, name), encoding="utf-8").read().rstrip() + "\n"
    block = f"<!-- peers:{key}:begin -->\n{body}<!-- peers:{key}:end -->\n"
    pattern = re.compile(rf"<!-- peers:{re.escape(key)}:begin -->.*?<!-- peers:{re.escape(key)}:end -->\n", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda m: block, text)
    elif key != "communities" and "<!-- peers:communities:begin -->" in text:
        # Sizes go before the community section, in the order they were added.
        at = text.index("<!-- peers:communities:begin -->")
        text = text[:at] + block + "\n" + text[at:]
    else:
        text = text.rstrip() + "\n\n" + block
open(doc, "w", encoding="utf-8").write(text)
EOF
log "updated $DOC"
# bench/table.py gathers these into the one table of make bench.
if [ -n "${BENCH_OUT:-}" ]; then
	mkdir -p "$BENCH_OUT"
	for f in "$SECTIONS"/*.md; do
		[ -e "$f" ] && cp "$f" "$BENCH_OUT/peers-$(basename "$f")"
	done
fi
