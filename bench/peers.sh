#!/usr/bin/env bash
# Peer benchmark: Vigie against the QUT Coordination Network Toolkit on
# co-repost detection, side by side, on the same synthetic stream.
#
#   bash bench/peers.sh                          # 1M rows
#   BENCH_ROWS="1000000 10000000" bash bench/peers.sh
#
# For each size it generates the stream (bench/cmd/corepostgen: the
# toolkit's CSV and Vigie's JSONL, cached by size, seed and generator
# source), then runs one after the other, each under /usr/bin/time -v:
#
#   toolkit         python -m coordination_network_toolkit DB preprocess --format csv cnt.csv
#                   python -m coordination_network_toolkit DB compute co_retweet --time_window 60
#   vigie exact     bench/cmd/vigiecorepost -mode exact   (uncapped, nothing forgotten: equals a batch tool)
#   vigie default   bench/cmd/vigiecorepost -mode default (Vigie's streaming defaults, bounded memory)
#
# and compares the toolkit's edges with Vigie's (bench/cnt_compare.py: the
# toolkit stores each edge per direction, and self-loops; both directions
# are merged and weights >= 2 compared). It prints a markdown table and
# writes it into docs/benchmarks.md with the machine, versions, date and
# load average, replacing the section of the same size. It also runs the
# community-detection benchmark (BenchmarkCommunities at 1M nodes and 5M
# edges, or BenchmarkDetect where that does not exist yet).
#
# Knobs (environment):
#   BENCH_ROWS            sizes to run, default "1000000"
#   BENCH_SEED            generator seed, default 1
#   BENCH_CNT_TIMEOUT     seconds the toolkit may take per size, default 1200
#   BENCH_EXACT_MAX_ROWS  largest size for Vigie's exact mode, default 2000000:
#                         it keeps every pair ever seen (about 4 GB at 1M rows)
#   BENCH_COMMUNITIES     0 skips the community-detection benchmark
#   VIGIE_CACHE           cache directory (venv, data, binaries), default .ci/cache
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

ROWS=${BENCH_ROWS:-1000000}
SEED=${BENCH_SEED:-1}
CNT_TIMEOUT=${BENCH_CNT_TIMEOUT:-1200}
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

log "building the generator and the Vigie runner"
mkdir -p "$BIN"
$GO build -o "$BIN/corepostgen" ./bench/cmd/corepostgen
$GO build -o "$BIN/vigiecorepost" ./bench/cmd/vigiecorepost
GEN_HASH=$(sha256sum <bench/cmd/corepostgen/main.go | cut -c1-16)

# tree_rss_peak PID: peak of the summed RSS (KB) of PID and its
# descendants, sampled twice a second. /usr/bin/time reports the largest
# single process; the toolkit runs a pool of worker processes, whose sum
# is what the machine must hold.
tree_rss_peak() {
	local root=$1 peak=0 cur
	while kill -0 "$root" 2>/dev/null; do
		cur=$(ps -e -o pid=,ppid=,rss= | awk -v r="$root" '
			{ pp[$1] = $2; rss[$1] = $3 }
			END { s = 0; for (p in pp) { q = p; n = 0; while (q != r && (q in pp) && n++ < 64) q = pp[q]; if (q == r) s += rss[p] } print s }')
		if ((cur > peak)); then peak=$cur; fi
		sleep 0.5
	done
	echo "$peak"
}

# measure NAME LOG CMD...: runs CMD under /usr/bin/time -v, its output to
# LOG; sets M_STATUS, M_WALL (s), M_RSS (MB, largest process), M_TREE (MB,
# all processes).
measure() {
	local name=$1 out=$2
	shift 2
	local tf=$out.time
	log "$name: $*"
	/usr/bin/time -v -o "$tf" "$@" >"$out" 2>&1 &
	local pid=$!
	local tree
	tree=$(tree_rss_peak "$pid")
	M_STATUS=0
	wait "$pid" || M_STATUS=$?
	M_WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; printf "%.1f", s }' "$tf")
	M_RSS=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$tf")
	M_TREE=$(awk -v k="$tree" 'BEGIN { printf "%.0f", k / 1024 }')
	log "$name: exit $M_STATUS, ${M_WALL} s, ${M_RSS} MB (all processes ${M_TREE} MB)"
}

load() { cut -d' ' -f1 /proc/loadavg; }
json() { "$PY" -c "import json, sys; d = json.loads(sys.stdin.read() or '{}'); print(d.get('$1', ''))"; }
fmt_int() { "$PY" -c "import sys; v = sys.argv[1]; print(f'{int(v):,}' if v.lstrip('-').isdigit() else v)" "${1:-}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.1f×", a / b; else print "—" }'; }

CPU=$(lscpu 2>/dev/null | awk -F': *' '/^Model name/ { print $2; exit }')
MEM_GB=$(awk '/MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)
NPROC=$(nproc)
GOVER=$($GO env GOVERSION)
PYVER=$("$PY" -c 'import platform; print(platform.python_version())')
SQLITEVER=$("$PY" -c 'import sqlite3; print(sqlite3.sqlite_version)')
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain -- graph post bench 2>/dev/null)" ]; then COMMIT="$COMMIT+changes"; fi
DATE=$(date -u +%Y-%m-%d)

SECTIONS=$(mktemp -d)
trap 'rm -rf "$SECTIONS"' EXIT

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

	# The toolkit: preprocess, then compute, within CNT_TIMEOUT together.
	# timeout signals its whole process group, so the worker pool stops too.
	measure "toolkit preprocess" "$run/cnt_pre.log" \
		timeout --kill-after=30 "$CNT_TIMEOUT" "$PY" -m coordination_network_toolkit "$run/cnt.db" preprocess --format csv "$dir/cnt.csv"
	pre_status=$M_STATUS pre_wall=$M_WALL pre_rss=$M_RSS pre_tree=$M_TREE
	cnt_note=""
	if [ "$pre_status" = 0 ]; then
		left=$(awk -v t="$CNT_TIMEOUT" -v w="$pre_wall" 'BEGIN { l = int(t - w); print (l > 1 ? l : 1) }')
		measure "toolkit compute" "$run/cnt_compute.log" \
			timeout --kill-after=30 "$left" "$PY" -m coordination_network_toolkit "$run/cnt.db" compute co_retweet --time_window 60
		comp_status=$M_STATUS comp_wall=$M_WALL comp_rss=$M_RSS comp_tree=$M_TREE
	else
		comp_status=skipped comp_wall=0 comp_rss=0 comp_tree=0
	fi
	cnt_wall=$(awk -v a="$pre_wall" -v b="$comp_wall" 'BEGIN { printf "%.1f", a + b }')
	cnt_rss=$((pre_rss > comp_rss ? pre_rss : comp_rss))
	cnt_tree=$((pre_tree > comp_tree ? pre_tree : comp_tree))
	cnt_ok=0
	if [ "$pre_status" = 124 ] || [ "$comp_status" = 124 ]; then
		cnt_note="did not finish within ${CNT_TIMEOUT} s (stopped during $([ "$pre_status" = 124 ] && echo preprocess || echo compute), after ${cnt_wall} s)"
	elif [ "$pre_status" != 0 ] || [ "$comp_status" != 0 ]; then
		cnt_note="failed (preprocess exit $pre_status, compute exit $comp_status; see $run)"
	else
		cnt_ok=1
	fi

	# Vigie, exact then default.
	declare -A V_JSON V_WALL V_RSS V_TREE V_CMP V_NOTE
	for mode in exact default; do
		if [ "$mode" = exact ] && [ "$n" -gt "$EXACT_MAX" ]; then
			V_NOTE[$mode]="not run: exact mode keeps every pair ever seen, about 300 B each (4 GB at 1M rows); above BENCH_EXACT_MAX_ROWS=$EXACT_MAX it would not fit in ${MEM_GB} GB"
			continue
		fi
		measure "vigie $mode" "$run/vigie_$mode.json" \
			"$BIN/vigiecorepost" -in "$dir/posts.jsonl" -mode "$mode" -edges "$run/vigie_${mode}_edges.csv" -truth "$dir/truth.json"
		V_WALL[$mode]=$M_WALL V_RSS[$mode]=$M_RSS V_TREE[$mode]=$M_TREE
		V_JSON[$mode]=$(head -1 "$run/vigie_$mode.json")
		if [ "$M_STATUS" != 0 ]; then
			V_NOTE[$mode]="failed (exit $M_STATUS; see $run/vigie_$mode.json)"
			continue
		fi
		if [ "$cnt_ok" = 1 ]; then
			V_CMP[$mode]=$("$PY" bench/cnt_compare.py "$run/cnt.db" "$run/vigie_${mode}_edges.csv" 2 || true)
		fi
	done
	load_after=$(load)

	cnt_edges="—"
	cmp_any=${V_CMP[exact]:-${V_CMP[default]:-}}
	if [ -n "$cmp_any" ]; then cnt_edges=$(fmt_int "$(echo "$cmp_any" | json toolkit_edges)"); fi

	{
		echo "### $(fmt_int "$n") rows"
		echo
		echo "Run $DATE on $NPROC cores ($CPU), $MEM_GB GB; Go $GOVER, Python $PYVER (SQLite $SQLITEVER), coordination-network-toolkit $CNT_VERSION, Vigie $COMMIT. Load average (1 min) $load_before before, $load_after after: other work shared the machine."
		echo
		echo "Stream: $(echo "$shape" | tr '\n' ' ' | sed 's/ *$//')."
		echo
		echo "| rows | tool | wall s | peak MB (time -v) | peak MB (all processes) | edges, weight ≥ 2 | same edges and weights as the toolkit | Vigie speed-up |"
		echo "|---:|---|---:|---:|---:|---:|---|---:|"
		if [ "$cnt_ok" = 1 ]; then
			echo "| $(fmt_int "$n") | toolkit (preprocess $pre_wall s + compute $comp_wall s) | $cnt_wall | $cnt_rss | $cnt_tree | $cnt_edges | — | — |"
		else
			echo "| $(fmt_int "$n") | toolkit | $cnt_note | $cnt_rss | $cnt_tree | — | — | — |"
		fi
		for mode in exact default; do
			if [ -n "${V_NOTE[$mode]:-}" ]; then
				echo "| $(fmt_int "$n") | Vigie $mode | ${V_NOTE[$mode]} | | | | | |"
				continue
			fi
			j=${V_JSON[$mode]}
			edges=$(fmt_int "$(echo "$j" | json edges_min_weight)")
			same="—"
			if [ -n "${V_CMP[$mode]:-}" ]; then
				c=${V_CMP[$mode]}
				if [ "$(echo "$c" | json equal)" = True ]; then
					same="yes, all $(fmt_int "$(echo "$c" | json common)")"
				else
					same="no: $(fmt_int "$(echo "$c" | json common)") common, $(fmt_int "$(echo "$c" | json only_toolkit)") toolkit only, $(fmt_int "$(echo "$c" | json only_vigie)") Vigie only, $(fmt_int "$(echo "$c" | json weight_differs)") weights differ"
				fi
			fi
			speed="—"
			if [ "$cnt_ok" = 1 ]; then speed=$(ratio "$cnt_wall" "${V_WALL[$mode]}"); fi
			echo "| $(fmt_int "$n") | Vigie $mode (ingest $(printf %.1f "$(echo "$j" | json ingest_s)") s, detect $(printf %.1f "$(echo "$j" | json detect_s)") s) | ${V_WALL[$mode]} | ${V_RSS[$mode]} | ${V_TREE[$mode]} | $edges | $same | $speed |"
		done
		echo
		for mode in exact default; do
			[ -n "${V_JSON[$mode]:-}" ] || continue
			j=${V_JSON[$mode]}
			echo "- Vigie $mode: $(fmt_int "$(echo "$j" | json pairs)") co-action pairs, $(fmt_int "$(echo "$j" | json edges)") edges held at the end, $(fmt_int "$(echo "$j" | json strong_edges)") of weight ≥ 3 given to community detection, $(fmt_int "$(echo "$j" | json clusters)") clusters of $(fmt_int "$(echo "$j" | json cluster_accounts)") accounts; against the planted groups, account precision $(printf %.3f "$(echo "$j" | json precision)"), recall $(printf %.3f "$(echo "$j" | json recall)")."
		done
		if [ "$cnt_ok" = 1 ] && [ -n "$cmp_any" ]; then
			echo "- Toolkit table: $(fmt_int "$(echo "$cmp_any" | json toolkit_self_loops)") self-loops dropped; $(fmt_int "$(echo "$cmp_any" | json toolkit_asymmetric_pairs)") pairs whose two directions differ in weight."
		fi
		echo
	} >"$SECTIONS/$n.md"
	cat "$SECTIONS/$n.md"
	unset V_JSON V_WALL V_RSS V_TREE V_CMP V_NOTE
done

# Community detection at 1M nodes and 5M edges, from the Go benchmark.
if [ "${BENCH_COMMUNITIES:-1}" != 0 ]; then
	bench=BenchmarkDetect
	if $GO test -list 'BenchmarkCommunities' ./graph/ 2>/dev/null | grep -q '^BenchmarkCommunities$'; then bench=BenchmarkCommunities; fi
	log "community detection: $bench"
	out=$CACHE/bench-communities.txt
	load_before=$(load)
	if $GO test -run XXX -bench "^$bench\$" -benchmem -benchtime 1x -count 1 -timeout 30m ./graph/ >"$out" 2>&1; then
		{
			echo "### Community detection"
			echo
			echo "Run $DATE, Vigie $COMMIT, \`go test -run XXX -bench '^$bench\$' -benchtime 1x ./graph/\`; load average $load_before before, $(load) after."
			echo
			echo "| benchmark | s/op | MB allocated/op | communities | modularity Q |"
			echo "|---|---:|---:|---:|---:|"
			awk '/^Benchmark/ {
				name = $1; sub(/-[0-9]+$/, "", name); s = ""; mb = ""; c = ""; q = ""
				for (i = 2; i <= NF; i++) {
					if ($(i) == "ns/op") s = sprintf("%.2f", $(i-1) / 1e9)
					if ($(i) == "B/op") mb = sprintf("%.0f", $(i-1) / 1048576)
					if ($(i) == "communities") c = $(i-1)
					if ($(i) == "Q") q = $(i-1)
				}
				printf "| %s | %s | %s | %s | %s |\n", name, s, mb, c, q
			}' "$out"
			grep -m1 'graph:' "$out" | sed 's/^ *[a-z_]*\.go:[0-9]*: /\nGraph: /' || true
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
