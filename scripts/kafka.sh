#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft) for integration tests, run from the jars
# on Maven Central: there is no Docker engine on the dev/CI machines.
#
#   scripts/kafka.sh install   fetch the broker jars into the cache (once)
#   scripts/kafka.sh start     fresh data dir, format, start, wait until ready;
#                              prints VIGIE_TEST_KAFKA=127.0.0.1:PORT
#   scripts/kafka.sh stop      stop the broker started by `start`
#   scripts/kafka.sh resume    start again on the data dir of the last start,
#                              topics and offsets kept (a broker restart, for
#                              fault tests)
#   scripts/kafka.sh status    running or not, and where
#
# Environment (all optional):
#   VIGIE_CACHE                   cache root (default: $REPO/.ci/cache, git-ignored)
#   VIGIE_KAFKA_VERSION           org.apache.kafka:kafka_2.13 version (default 4.4.0)
#   VIGIE_KAFKA_PORT              client listener port (default 19092)
#   VIGIE_KAFKA_CONTROLLER_PORT   KRaft controller port (default 19093)
#   VIGIE_KAFKA_HEAP              broker -Xmx (default 512m)
#   VIGIE_KAFKA_START_TIMEOUT     seconds to wait for readiness (default 90)
#   VIGIE_KAFKA_OPTS              extra broker JVM flags, space-separated
#   VIGIE_KAFKA_RUN_DIR           data, logs and pid file of this broker (default
#                                 $VIGIE_CACHE/kafka-run): a second, private broker
#                                 needs its own, with its own ports
#   VIGIE_KAFKA_SECURE            1: the client listener is SASL_SSL instead of
#                                 PLAINTEXT (a throwaway CA and a server certificate
#                                 for 127.0.0.1/localhost, SASL PLAIN, SCRAM-SHA-256
#                                 and SCRAM-SHA-512 for user "vigie" with a random
#                                 password); `start` then prints VIGIE_TEST_KAFKA_SECURE*
#                                 lines (address, CA file, user, password file).
#                                 Use it with a private VIGIE_KAFKA_RUN_DIR and ports.
#   VIGIE_KAFKA_SASL_PLAINTEXT_PORT  with VIGIE_KAFKA_SECURE=1, also a SASL_PLAINTEXT
#                                 listener (SASL without TLS) on this port
#   VIGIE_KAFKA_MTLS_PORT         with VIGIE_KAFKA_SECURE=1, also an SSL listener that
#                                 requires a client certificate (mTLS, no SASL); a
#                                 client certificate and key are made for it
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${VIGIE_CACHE:-$REPO/.ci/cache}"
VERSION="${VIGIE_KAFKA_VERSION:-4.4.0}"
PORT="${VIGIE_KAFKA_PORT:-19092}"
CPORT="${VIGIE_KAFKA_CONTROLLER_PORT:-19093}"
HEAP="${VIGIE_KAFKA_HEAP:-512m}"
START_TIMEOUT="${VIGIE_KAFKA_START_TIMEOUT:-90}"

HOME_DIR="$CACHE/kafka-$VERSION"
LIBS="$HOME_DIR/libs"
RUN="${VIGIE_KAFKA_RUN_DIR:-$CACHE/kafka-run}"
PIDFILE="$CACHE/kafka.pid"
[[ -z "${VIGIE_KAFKA_RUN_DIR:-}" ]] || PIDFILE="$RUN.pid"
LOG="$RUN/kafka.log"
# The JVM's own stdout/stderr (crashes before log4j is up, OOM messages).
CONSOLE="$RUN/console.out"

die() {
	echo "kafka.sh: $*" >&2
	exit 1
}

# Java class path: a wildcard entry, expanded by the JVM, not by the shell.
cp_arg() { printf '%s/*' "$LIBS"; }

# Run a Kafka CLI main class in a small JVM of its own, logging to stderr at
# WARN only, so that its stdout carries just the command's answer.
kafka_tool() {
	local main="$1"
	shift
	java -Xmx128m -Xss1m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
		-Dlog4j2.configurationFile="$RUN/tools-log4j2.properties" \
		-cp "$(cp_arg)" "$main" "$@"
}

# What the libs folder was made from: the POM's content and the version. A
# cache left by an older POM (other jars, another SLF4J) is fetched anew.
install_stamp() {
	printf '%s %s\n' "$VERSION" "$(sha256sum <"$REPO/scripts/kafka/pom.xml" | cut -d' ' -f1)"
}

installed() {
	[[ -f "$LIBS/.complete" ]] && [[ "$(cat "$LIBS/.complete")" == "$(install_stamp)" ]]
}

cmd_install() {
	if installed; then
		echo "kafka.sh: Kafka $VERSION already installed in $LIBS"
		return 0
	fi
	command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
	command -v java >/dev/null || die "java not found (Kafka 4.x needs Java 17+)"
	# Copy into a temporary folder then rename, so that an interrupted
	# download never looks like a complete install.
	local tmp="$HOME_DIR/libs.tmp.$$"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	echo "kafka.sh: fetching org.apache.kafka:kafka_2.13:$VERSION and its dependencies"
	local mvnlog="$HOME_DIR/mvn.log"
	if ! mvn -q -B -f "$REPO/scripts/kafka/pom.xml" \
		-Dkafka.version="$VERSION" \
		-DincludeScope=runtime \
		-DoutputDirectory="$tmp" \
		dependency:copy-dependencies >"$mvnlog" 2>&1; then
		tail -n 40 "$mvnlog" >&2
		rm -rf "$tmp"
		die "maven could not fetch Kafka $VERSION (full log: $mvnlog)"
	fi
	[[ -f "$tmp/kafka_2.13-$VERSION.jar" ]] || {
		rm -rf "$tmp"
		die "kafka_2.13-$VERSION.jar missing after copy-dependencies"
	}
	install_stamp >"$tmp/.complete"
	rm -rf "$LIBS"
	mv "$tmp" "$LIBS"
	echo "kafka.sh: installed $(find "$LIBS" -name '*.jar' | wc -l) jars ($(du -sh "$LIBS" | cut -f1)) in $LIBS"
}

# PID of the running broker, or nothing. A stale PID file (the process is
# gone, or the number was reused by something that is not our broker) is
# treated as not running.
running_pid() {
	[[ -f "$PIDFILE" ]] || return 0
	local pid
	pid="$(cat "$PIDFILE" 2>/dev/null || true)"
	[[ "$pid" =~ ^[0-9]+$ ]] || return 0
	if kill -0 "$pid" 2>/dev/null &&
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka'; then
		echo "$pid"
	fi
}

write_config() {
	mkdir -p "$RUN/data"
	cat >"$RUN/server.properties" <<EOF
# Written by scripts/kafka.sh: one KRaft node that is broker and controller,
# on loopback only, tuned for fast tests rather than durability.
process.roles=broker,controller
node.id=1
# Static quorum of one voter: format needs neither --standalone nor
# --initial-controllers with this.
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$RUN/data

# A single broker cannot hold more than one replica of anything: every
# internal topic (consumer offsets, transactions, share groups) must say so,
# or the coordinators never come up and group joins fail.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1

# Tests join consumer groups many times: the default 3 s delay before the
# first rebalance would be paid on every join.
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
num.partitions=1
delete.topic.enable=true

# Small footprint on a 2-core machine shared with other test servers.
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
background.threads=2
log.cleaner.enable=false
log.segment.bytes=16777216
EOF

	# log4j2 in .properties form: Kafka's own config is YAML, which would
	# need jackson-dataformat-yaml wired into log4j. INFO to a file so that
	# failures can be diagnosed; WARN for the chattiest loggers.
	cat >"$RUN/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $LOG
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.network.name = kafka.network
logger.network.level = WARN
logger.logcleaner.name = kafka.log.LogCleaner
logger.logcleaner.level = WARN
logger.coordinator.name = org.apache.kafka.coordinator
logger.coordinator.level = WARN
EOF

	cat >"$RUN/tools-log4j2.properties" <<'EOF'
status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
# The admin client logs every refused connection while the broker boots.
logger.netclient.name = org.apache.kafka.clients.NetworkClient
logger.netclient.level = ERROR
logger.admin.name = org.apache.kafka.clients.admin
logger.admin.level = ERROR
EOF

	# Short timeouts so that one readiness probe fails fast instead of
	# retrying for the admin client's default 60 s.
	cat >"$RUN/probe.properties" <<'EOF'
request.timeout.ms=5000
default.api.timeout.ms=8000
socket.connection.setup.timeout.ms=2000
socket.connection.setup.timeout.max.ms=2000
EOF
}

# A Kafka cluster id: 16 random bytes in URL-safe base64 without padding,
# which is what `StorageTool random-uuid` prints. Made here because a JVM
# just for that costs 2-3 s of the start. Like Kafka's Uuid.randomUuid, an
# id starting with '-' is drawn again (it would read as a CLI option).
new_cluster_id() {
	local id
	while :; do
		id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
		[[ "$id" == -* || ${#id} -ne 22 ]] || break
	done
	echo "$id"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

secure_on() { [[ "${VIGIE_KAFKA_SECURE:-}" == 1 ]]; }
SPORT="${VIGIE_KAFKA_SASL_PLAINTEXT_PORT:-}"
MPORT="${VIGIE_KAFKA_MTLS_PORT:-}"
SECURE_DIR="$RUN/secure"
SECURE_USER=vigie

# A random password of URL-safe characters: nothing that the JAAS config,
# the --add-scram syntax ("[name=...,password=...]") or a shell would parse.
new_password() { head -c 18 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'; }

# PEM file as one .properties value: Properties.load turns "\n" back into
# line breaks.
pem_value() { awk 'BEGIN { ORS = "\\n" } { print }' "$1"; }

# VIGIE_KAFKA_SECURE=1: a throwaway CA and server certificate, the users'
# passwords, and listener settings appended to server.properties. A key
# given twice in a .properties file takes its last value, so the PLAINTEXT
# listener lines above are overridden, not edited. The controller listener
# stays PLAINTEXT on loopback; broker-to-broker traffic goes over SASL_SSL
# with PLAIN (user "admin"), which also proves the listener works before any
# client connects.
write_secure_config() {
	command -v openssl >/dev/null || die "openssl not found (VIGIE_KAFKA_SECURE=1 makes a test CA with it)"
	local d="$SECURE_DIR" admin pass
	mkdir -p "$d"
	chmod 700 "$d"
	(
		cd "$d"
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out ca-key.pem 2>/dev/null
		openssl req -x509 -new -key ca-key.pem -subj "/CN=vigie throwaway test CA" -days 2 \
			-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
			-out ca.pem
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out server-key.pem 2>/dev/null
		openssl req -new -key server-key.pem -subj "/CN=localhost" -out server.csr
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' >server.ext
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
			-extfile server.ext -out server.pem 2>/dev/null
		# A client certificate for the mTLS listener.
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out client-key.pem 2>/dev/null
		openssl req -new -key client-key.pem -subj "/CN=vigie-client" -out client.csr
		printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' >client.ext
		openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
			-extfile client.ext -out client.pem 2>/dev/null
		rm -f server.csr server.ext client.csr client.ext ca.srl
	) || die "could not make the test CA and server certificate in $d"
	admin="$(new_password)"
	pass="$(new_password)"
	printf '%s\n' "$pass" >"$d/$SECURE_USER.password"
	printf '%s\n' "$admin" >"$d/admin.password"
	chmod 600 "$d"/*.pem "$d"/*.password

	local listeners="SASL_SSL://127.0.0.1:$PORT" advertised="SASL_SSL://127.0.0.1:$PORT"
	local map="SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT"
	if [[ -n "$SPORT" ]]; then
		listeners+=",SASL_PLAINTEXT://127.0.0.1:$SPORT"
		advertised+=",SASL_PLAINTEXT://127.0.0.1:$SPORT"
		map+=",SASL_PLAINTEXT:SASL_PLAINTEXT"
	fi
	if [[ -n "$MPORT" ]]; then
		listeners+=",SSL://127.0.0.1:$MPORT"
		advertised+=",SSL://127.0.0.1:$MPORT"
		map+=",SSL:SSL"
	fi
	local plain_jaas="org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"$admin\" user_admin=\"$admin\" user_$SECURE_USER=\"$pass\";"
	local scram_jaas="org.apache.kafka.common.security.scram.ScramLoginModule required;"
	{
		echo
		echo "# VIGIE_KAFKA_SECURE=1 (written by scripts/kafka.sh): overrides the listeners above."
		echo "listeners=$listeners,CONTROLLER://127.0.0.1:$CPORT"
		echo "advertised.listeners=$advertised"
		echo "listener.security.protocol.map=$map"
		echo "inter.broker.listener.name=SASL_SSL"
		echo "sasl.mechanism.inter.broker.protocol=PLAIN"
		echo "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"
		local l
		for l in sasl_ssl ${SPORT:+sasl_plaintext}; do
			echo "listener.name.$l.plain.sasl.jaas.config=$plain_jaas"
			echo "listener.name.$l.scram-sha-256.sasl.jaas.config=$scram_jaas"
			echo "listener.name.$l.scram-sha-512.sasl.jaas.config=$scram_jaas"
		done
		# Inline PEM: a file-based PEM keystore would need an encrypted key.
		echo "ssl.keystore.type=PEM"
		echo "ssl.keystore.certificate.chain=$(pem_value "$d/server.pem")"
		echo "ssl.keystore.key=$(pem_value "$d/server-key.pem")"
		echo "ssl.truststore.type=PEM"
		echo "ssl.truststore.location=$d/ca.pem"
		[[ -z "$MPORT" ]] || echo "listener.name.ssl.ssl.client.auth=required"
	} >>"$RUN/server.properties"
	chmod 600 "$RUN/server.properties"

	# The readiness probe goes through the secure listener too.
	cat >>"$RUN/probe.properties" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$admin";
ssl.truststore.type=PEM
ssl.truststore.location=$d/ca.pem
EOF
	chmod 600 "$RUN/probe.properties"
}

# SCRAM credentials live in the cluster metadata: KRaft takes the first ones
# at format time.
format_scram_args() {
	local pass
	pass="$(cat "$SECURE_DIR/$SECURE_USER.password")"
	printf '%s\n' --add-scram "SCRAM-SHA-256=[name=$SECURE_USER,password=$pass]" \
		--add-scram "SCRAM-SHA-512=[name=$SECURE_USER,password=$pass]"
}

# What tests need to reach the secure broker, as environment lines.
print_secure_env() {
	echo "VIGIE_TEST_KAFKA_SECURE=127.0.0.1:$PORT"
	echo "VIGIE_TEST_KAFKA_SECURE_CA=$SECURE_DIR/ca.pem"
	echo "VIGIE_TEST_KAFKA_SECURE_USER=$SECURE_USER"
	echo "VIGIE_TEST_KAFKA_SECURE_PASSWORD_FILE=$SECURE_DIR/$SECURE_USER.password"
	if grep -q '^listeners=.*SASL_PLAINTEXT://' "$RUN/server.properties" 2>/dev/null; then
		sed -n 's|^listeners=.*SASL_PLAINTEXT://\([0-9.]*:[0-9]*\).*|VIGIE_TEST_KAFKA_SASL_PLAINTEXT=\1|p' "$RUN/server.properties"
	fi
	if grep -q '^listeners=.*,SSL://' "$RUN/server.properties" 2>/dev/null; then
		sed -n 's|^listeners=.*,SSL://\([0-9.]*:[0-9]*\).*|VIGIE_TEST_KAFKA_MTLS=\1|p' "$RUN/server.properties"
		echo "VIGIE_TEST_KAFKA_MTLS_CERT=$SECURE_DIR/client.pem"
		echo "VIGIE_TEST_KAFKA_MTLS_KEY=$SECURE_DIR/client-key.pem"
	fi
}

fail_start() {
	echo "kafka.sh: $*" >&2
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
	local keep="${1:-}" pid
	pid="$(running_pid)"
	[[ -z "$pid" ]] || die "already running (pid $pid); run '$0 stop' first"
	[[ "$PORT" != "$CPORT" ]] || die "VIGIE_KAFKA_PORT and VIGIE_KAFKA_CONTROLLER_PORT must differ"
	installed || cmd_install
	# Another server (a previous run not stopped, another checkout) on our
	# ports would make the readiness probe talk to the wrong broker.
	port_open "$PORT" && die "port $PORT is already in use (set VIGIE_KAFKA_PORT)"
	port_open "$CPORT" && die "port $CPORT is already in use (set VIGIE_KAFKA_CONTROLLER_PORT)"
	if secure_on && [[ -n "$SPORT" ]]; then
		[[ "$SPORT" != "$PORT" && "$SPORT" != "$CPORT" ]] || die "VIGIE_KAFKA_SASL_PLAINTEXT_PORT must differ from the other ports"
		port_open "$SPORT" && die "port $SPORT is already in use (set VIGIE_KAFKA_SASL_PLAINTEXT_PORT)"
	fi
	if secure_on && [[ -n "$MPORT" ]]; then
		[[ "$MPORT" != "$PORT" && "$MPORT" != "$CPORT" && "$MPORT" != "$SPORT" ]] || die "VIGIE_KAFKA_MTLS_PORT must differ from the other ports"
		port_open "$MPORT" && die "port $MPORT is already in use (set VIGIE_KAFKA_MTLS_PORT)"
	fi

	local t0=$SECONDS cluster_id
	if [[ -n "$keep" ]]; then
		# resume: same data dir and config, no format. The readiness
		# check below looks for the start line in a fresh log.
		[[ -f "$RUN/server.properties" ]] || die "nothing to resume in $RUN: run '$0 start' first"
		[[ ! -f "$LOG" ]] || mv -f "$LOG" "$LOG.1"
	else
		# Fresh data dir every start: tests must not see topics, offsets or
		# groups of an earlier run.
		rm -rf "$RUN"
		mkdir -p "$RUN"
		write_config
		local -a scram=()
		if secure_on; then
			write_secure_config
			mapfile -t scram < <(format_scram_args)
		fi

		cluster_id="$(new_cluster_id)"
		kafka_tool kafka.tools.StorageTool format -t "$cluster_id" \
			-c "$RUN/server.properties" "${scram[@]}" >"$RUN/format.out" 2>&1 ||
			fail_start "storage format failed: $(cat "$RUN/format.out")"
	fi

	# TieredStopAtLevel=1 (C1 only): measured ~5.5 instead of ~9.8 CPU
	# seconds to reach "started" on this 2-core machine, and test traffic
	# is far too light to miss C2. Extra JVM flags come after, so they win
	# (VIGIE_KAFKA_OPTS=-XX:TieredStopAtLevel=4 restores C2); split on spaces.
	local -a extra=()
	read -r -a extra <<<"${VIGIE_KAFKA_OPTS:-}"

	# setsid: the broker gets its own session, so it outlives this script
	# (and the shell of a CI step) until `stop`, and a Ctrl-C in the
	# caller's terminal is not delivered to it.
	setsid java -Xmx"$HEAP" -Xss1m \
		-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
		-XX:TieredStopAtLevel=1 \
		-Djava.awt.headless=true "${extra[@]}" \
		-Dlog4j2.configurationFile="$RUN/log4j2.properties" \
		-Dkafka.logs.dir="$RUN" \
		-cp "$(cp_arg)" kafka.Kafka "$RUN/server.properties" \
		</dev/null >"$CONSOLE" 2>&1 &
	pid=$!
	echo "$pid" >"$PIDFILE"

	# Ready means: the broker logged that it started, its listener accepts
	# TCP, AND it answers a metadata request through the admin API (an open
	# port alone can come before the broker has caught up with the
	# controller and registered). The admin probe is a JVM of its own, so it
	# is only tried once the cheap checks pass: on 2 cores, probing early
	# slows the broker's own start.
	local deadline=$((SECONDS + START_TIMEOUT))
	while :; do
		kill -0 "$pid" 2>/dev/null || fail_start "broker exited during startup"
		((SECONDS < deadline)) || fail_start "broker not ready after ${START_TIMEOUT}s"
		if grep -q 'Kafka Server started' "$LOG" 2>/dev/null &&
			port_open "$PORT" &&
			kafka_tool org.apache.kafka.tools.TopicCommand \
				--bootstrap-server "127.0.0.1:$PORT" \
				--command-config "$RUN/probe.properties" \
				--list >/dev/null 2>>"$RUN/probe.err"; then
			break
		fi
		sleep 0.5
	done
	echo "kafka.sh: Kafka $VERSION ready in $((SECONDS - t0))s (pid $pid, log $LOG)" >&2
	if [[ -d "$SECURE_DIR" ]]; then
		print_secure_env
	else
		echo "VIGIE_TEST_KAFKA=127.0.0.1:$PORT"
	fi
}

cmd_stop() {
	local pid
	pid="$(running_pid)"
	if [[ -z "$pid" ]]; then
		rm -f "$PIDFILE"
		echo "kafka.sh: not running"
		return 0
	fi
	# TERM lets the broker close its log segments and leave the quorum;
	# a controlled shutdown of one node takes a few seconds.
	kill -TERM "$pid" 2>/dev/null || true
	local i
	for ((i = 0; i < 40; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "kafka.sh: pid $pid still alive after 20s, sending KILL" >&2
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 20; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.25
		done
	fi
	rm -f "$PIDFILE"
	echo "kafka.sh: stopped (pid $pid)"
}

cmd_status() {
	local pid
	pid="$(running_pid)"
	if [[ -n "$pid" ]]; then
		echo "kafka.sh: running, pid $pid, VIGIE_TEST_KAFKA=127.0.0.1:$PORT, log $LOG"
	else
		echo "kafka.sh: not running"
		# Non-zero so that scripts can test it: `kafka.sh status >/dev/null`.
		return 3
	fi
}

case "${1:-}" in
install) cmd_install ;;
start) cmd_start ;;
resume) cmd_start keep ;;
stop) cmd_stop ;;
status) cmd_status ;;
*)
	echo "usage: $0 {install|start|resume|stop|status}" >&2
	exit 2
	;;
esac
