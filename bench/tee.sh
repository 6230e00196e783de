#!/usr/bin/env bash
# tee.sh NAME CMD...: runs CMD, shows its output and keeps a copy in
# $BENCH_OUT/NAME.txt (default var/bench) for bench/table.py; exits with
# CMD's status, which a plain `| tee` under make's /bin/sh would lose.
set -o pipefail
out=${BENCH_OUT:-var/bench}
mkdir -p "$out"
name=$1
shift
"$@" 2>&1 | tee "$out/$name.txt"
