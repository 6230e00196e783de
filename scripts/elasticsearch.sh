#!/usr/bin/env bash
# Single-node Elasticsearch 7.17 for integration tests and benchmarks, run
# from the jars on Maven Central with a small launcher
# (scripts/elasticsearch/Launcher.java, Java single-file source mode): there
# is no Docker engine and no distribution archive on the dev/CI machines.
# docs/elasticsearch.md says why 7.17 and what it lacks.
#
#   scripts/elasticsearch.sh install   fetch the server jars into the cache (once)
#   scripts/elasticsearch.sh start     fresh data dir, start, wait for yellow/green;
#                                      prints VIGIE_TEST_ELASTICSEARCH=http://127.0.0.1:PORT
#   scripts/elasticsearch.sh stop      stop the node started by `start`
#   scripts/elasticsearch.sh status    running or not, and where
#
# Environment (all optional):
#   VIGIE_CACHE                 cache root (default: $REPO/.ci/cache, git-ignored)
#   VIGIE_ES_VERSION            org.elasticsearch:elasticsearch version (default 7.17.29)
#   VIGIE_ES_PORT               HTTP port on 127.0.0.1 (default 19200)
#   VIGIE_ES_TRANSPORT_PORT     node-to-node port on 127.0.0.1 (default 19300)
#   VIGIE_ES_HEAP               -Xms/-Xmx (default 512m)
#   VIGIE_ES_START_TIMEOUT      seconds to wait for health (default 90)
#   VIGIE_ES_OPTS               extra JVM flags, space-separated
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${VIGIE_CACHE:-$REPO/.ci/cache}"
VERSION="${VIGIE_ES_VERSION:-7.17.29}"
PORT="${VIGIE_ES_PORT:-19200}"
TPORT="${VIGIE_ES_TRANSPORT_PORT:-19300}"
HEAP="${VIGIE_ES_HEAP:-512m}"
START_TIMEOUT="${VIGIE_ES_START_TIMEOUT:-90}"

HOME_DIR="$CACHE/elasticsearch-$VERSION"
LIBS="$HOME_DIR/libs"
RUN="$CACHE/elasticsearch-run"
PIDFILE="$CACHE/elasticsearch.pid"
LOG="$RUN/elasticsearch.log"
# The JVM's own stdout/stderr (launcher compile errors, crashes before
# log4j is up, OOM messages).
CONSOLE="$RUN/console.out"
LAUNCHER="$REPO/scripts/elasticsearch/Launcher.java"

die() {
	echo "elasticsearch.sh: $*" >&2
	exit 1
}

# What the libs folder was made from: the POM's content and the version.
install_stamp() {
	printf '%s %s\n' "$VERSION" "$(sha256sum <"$REPO/scripts/elasticsearch/pom.xml" | cut -d' ' -f1)"
}

installed() {
	[[ -f "$LIBS/.complete" ]] && [[ "$(cat "$LIBS/.complete")" == "$(install_stamp)" ]]
}

cmd_install() {
	if installed; then
		echo "elasticsearch.sh: Elasticsearch $VERSION already installed in $LIBS"
		return 0
	fi
	command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
	command -v java >/dev/null || die "java not found (Elasticsearch 7.17 runs on Java 11-17+)"
	# Copy into a temporary folder then rename, so that an interrupted
	# download never looks like a complete install.
	local tmp="$HOME_DIR/libs.tmp.$$"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	echo "elasticsearch.sh: fetching org.elasticsearch:elasticsearch:$VERSION and its dependencies"
	local mvnlog="$HOME_DIR/mvn.log"
	if ! mvn -q -B -f "$REPO/scripts/elasticsearch/pom.xml" \
		-Des.version="$VERSION" \
		-DincludeScope=runtime \
		-DoutputDirectory="$tmp" \
		dependency:copy-dependencies >"$mvnlog" 2>&1; then
		tail -n 40 "$mvnlog" >&2
		rm -rf "$tmp"
		die "maven could not fetch Elasticsearch $VERSION (full log: $mvnlog)"
	fi
	[[ -f "$tmp/elasticsearch-$VERSION.jar" && -f "$tmp/transport-netty4-client-$VERSION.jar" ]] || {
		rm -rf "$tmp"
		die "elasticsearch-$VERSION.jar or transport-netty4-client-$VERSION.jar missing after copy-dependencies"
	}
	install_stamp >"$tmp/.complete"
	rm -rf "$LIBS"
	mv "$tmp" "$LIBS"
	echo "elasticsearch.sh: installed $(find "$LIBS" -name '*.jar' | wc -l) jars ($(du -sh "$LIBS" | cut -f1)) in $LIBS"
}

# PID of the running node, or nothing. A stale PID file (the process is
# gone, or the number was reused by something that is not our node) is
# treated as not running.
running_pid() {
	[[ -f "$PIDFILE" ]] || return 0
	local pid
	pid="$(cat "$PIDFILE" 2>/dev/null || true)"
	[[ "$pid" =~ ^[0-9]+$ ]] || return 0
	if kill -0 "$pid" 2>/dev/null &&
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'elasticsearch/Launcher\.java'; then
		echo "$pid"
	fi
}

write_config() {
	mkdir -p "$RUN/home"
	cat >"$RUN/log4j2.properties" <<EOL
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $LOG
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
# "no-jdk distributions are deprecated" and friends: this is not a distribution.
logger.deprecation.name = org.elasticsearch.deprecation
logger.deprecation.level = ERROR
EOL
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The cluster health, as "green", "yellow", "red" or nothing. curl when
# present; bash's /dev/tcp otherwise (a fresh machine may lack curl).
health() {
	local url="http://127.0.0.1:$PORT/_cluster/health?timeout=1s"
	local body
	if command -v curl >/dev/null; then
		body="$(curl -s --max-time 3 "$url" 2>/dev/null || true)"
	else
		body="$( (exec 3<>"/dev/tcp/127.0.0.1/$PORT" &&
			printf 'GET /_cluster/health?timeout=1s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 &&
			timeout 3 cat <&3) 2>/dev/null || true)"
	fi
	sed -n 's/.*"status":"\([a-z]*\)".*/\1/p' <<<"$body"
}

fail_start() {
	echo "elasticsearch.sh: $*" >&2
	if [[ -s "$CONSOLE" ]]; then
		echo "---- $CONSOLE (last 30 lines) ----" >&2
		tail -n 30 "$CONSOLE" >&2
	fi
	if [[ -f "$LOG" ]]; then
		echo "---- $LOG (last 60 lines) ----" >&2
		tail -n 60 "$LOG" >&2
	fi
	cmd_stop >/dev/null 2>&1 || true
	exit 1
}

cmd_start() {
	local pid
	pid="$(running_pid)"
	[[ -z "$pid" ]] || die "already running (pid $pid); run '$0 stop' first"
	[[ "$PORT" != "$TPORT" ]] || die "VIGIE_ES_PORT and VIGIE_ES_TRANSPORT_PORT must differ"
	installed || cmd_install
	port_open "$PORT" && die "port $PORT is already in use (set VIGIE_ES_PORT)"
	port_open "$TPORT" && die "port $TPORT is already in use (set VIGIE_ES_TRANSPORT_PORT)"

	# Fresh data dir every start: tests must not see indices of an
	# earlier run.
	rm -rf "$RUN"
	mkdir -p "$RUN"
	write_config

	local -a extra=()
	read -r -a extra <<<"${VIGIE_ES_OPTS:-}"

	# The flags are those of the distribution's jvm.options that matter
	# here. TieredStopAtLevel=1 (C1 only) roughly halves the CPU spent
	# starting on 2 cores; VIGIE_ES_OPTS=-XX:TieredStopAtLevel=4 restores
	# C2 for long benchmarks. setsid: the node outlives this script and a
	# Ctrl-C in the caller's terminal is not delivered to it.
	local t0=$SECONDS
	setsid java -Xms"$HEAP" -Xmx"$HEAP" -Xss1m \
		-XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -XX:TieredStopAtLevel=1 \
		-Djava.awt.headless=true -Dfile.encoding=UTF-8 \
		-Djava.locale.providers=SPI,COMPAT \
		-Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true \
		-Dlog4j2.configurationFile="$RUN/log4j2.properties" \
		-Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true \
		-Dio.netty.recycler.maxCapacityPerThread=0 \
		-Djava.io.tmpdir="$RUN" "${extra[@]}" \
		-cp "$LIBS/*" "$LAUNCHER" "$RUN/home" "$PORT" "$TPORT" \
		</dev/null >"$CONSOLE" 2>&1 &
	pid=$!
	echo "$pid" >"$PIDFILE"

	local deadline=$((SECONDS + START_TIMEOUT)) status=""
	while :; do
		kill -0 "$pid" 2>/dev/null || fail_start "node exited during startup"
		((SECONDS < deadline)) || fail_start "node not healthy after ${START_TIMEOUT}s (status '${status}')"
		if port_open "$PORT"; then
			status="$(health)"
			[[ "$status" == green || "$status" == yellow ]] && break
		fi
		sleep 0.5
	done
	echo "elasticsearch.sh: Elasticsearch $VERSION $status in $((SECONDS - t0))s (pid $pid, log $LOG)" >&2
	echo "VIGIE_TEST_ELASTICSEARCH=http://127.0.0.1:$PORT"
}

cmd_stop() {
	local pid
	pid="$(running_pid)"
	if [[ -z "$pid" ]]; then
		rm -f "$PIDFILE"
		echo "elasticsearch.sh: not running"
		return 0
	fi
	# TERM runs the launcher's shutdown hook, which closes the node.
	kill -TERM "$pid" 2>/dev/null || true
	local i
	for ((i = 0; i < 40; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "elasticsearch.sh: pid $pid still alive after 20s, sending KILL" >&2
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 20; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.25
		done
	fi
	rm -f "$PIDFILE"
	echo "elasticsearch.sh: stopped (pid $pid)"
}

cmd_status() {
	local pid
	pid="$(running_pid)"
	if [[ -n "$pid" ]]; then
		echo "elasticsearch.sh: running, pid $pid, VIGIE_TEST_ELASTICSEARCH=http://127.0.0.1:$PORT, health $(health), log $LOG"
	else
		echo "elasticsearch.sh: not running"
		return 3
	fi
}

case "${1:-}" in
install) cmd_install ;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
*)
	echo "usage: $0 {install|start|stop|status}" >&2
	exit 2
	;;
esac
