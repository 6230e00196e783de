# Vigie — common tasks. `make run` and `make test` are all a newcomer needs.
GO        ?= go
BIN       := bin/vigie
PKGS      := ./...
STATICCHECK_VERSION := v0.8.2
FUZZTIME  ?= 20s
BENCH_ROWS ?= 1000000
LOAD_DURATION ?= 10m

.PHONY: all build run test test-integration test-kafka test-kafka-secure test-faults lint fuzz bench gen clean help ui test-ui vuln

all: lint test build

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/'

build: ## build bin/vigie
	$(GO) build -o $(BIN) ./cmd/vigie

run: build ## replay the bundled election scenario on the embedded default and serve http://127.0.0.1:8080
	./$(BIN) run

test: ## unit and end-to-end tests on the embedded broker and store: every package with the race detector, then the full-scenario replays without it
	$(GO) test -race -timeout 40m $(PKGS)
	$(GO) test -timeout 20m -run 'TestEndToEnd|TestEvalReplaysBundledScenario|TestScaleOutEqualsSingleWorker' ./app/ ./pipeline/

test-integration: ## the same tests plus the real-Kafka and real-Elasticsearch suites (store/elastic conformance): bus conformance, pipeline end to end, kill -9 of a graph worker, the scaled-out graph with pair workers (starts a broker unless one runs)
	scripts/kafka.sh install
	scripts/elasticsearch.sh install
	@if scripts/kafka.sh status >/dev/null; then started=; else scripts/kafka.sh start >/dev/null || exit 1; started=1; fi; \
		if scripts/elasticsearch.sh status >/dev/null; then es=; else scripts/elasticsearch.sh start >/dev/null || { [ -n "$$started" ] && scripts/kafka.sh stop; exit 1; }; es=1; fi; \
		trap '[ -n "$$es" ] && scripts/elasticsearch.sh stop; [ -n "$$started" ] && scripts/kafka.sh stop' EXIT; \
		VIGIE_TEST_KAFKA=127.0.0.1:$${VIGIE_KAFKA_PORT:-19092} VIGIE_TEST_ELASTICSEARCH=http://127.0.0.1:$${VIGIE_ES_PORT:-19200} $(GO) test -race -timeout 40m $(PKGS) && \
		$(GO) test -timeout 20m -run 'TestEndToEnd|TestEvalReplaysBundledScenario' ./app/ && \
		VIGIE_TEST_KAFKA=127.0.0.1:$${VIGIE_KAFKA_PORT:-19092} $(MAKE) --no-print-directory test-kafka

test-kafka: ## the real-Kafka pipeline tests (app/kafka_test.go) without the race detector; needs VIGIE_TEST_KAFKA (test-integration and .ci/run start a broker)
	$(GO) test -count=1 -timeout 25m -run '^TestKafka$$' ./app/

test-kafka-secure: ## TLS and SASL (PLAIN, SCRAM-SHA-256/512) on a real broker (app/kafka_secure_test.go): starts a private broker with SASL_SSL, SASL_PLAINTEXT and mTLS listeners (VIGIE_KAFKA_SECURE=1, ports 19094-19097), never the shared one, and stops it
	scripts/kafka.sh install
	@run="$${VIGIE_CACHE:-$(CURDIR)/.ci/cache}/kafka-secure-run"; \
		export VIGIE_KAFKA_SECURE=1 VIGIE_KAFKA_RUN_DIR="$$run" VIGIE_KAFKA_PORT=$${VIGIE_KAFKA_SECURE_PORT:-19094} \
			VIGIE_KAFKA_CONTROLLER_PORT=$${VIGIE_KAFKA_SECURE_CONTROLLER_PORT:-19095} \
			VIGIE_KAFKA_SASL_PLAINTEXT_PORT=$${VIGIE_KAFKA_SASL_PLAINTEXT_PORT:-19096} VIGIE_KAFKA_MTLS_PORT=$${VIGIE_KAFKA_MTLS_PORT:-19097}; \
		scripts/kafka.sh stop >/dev/null; \
		trap 'scripts/kafka.sh stop' EXIT; trap 'exit 130' INT TERM; \
		env=$$(scripts/kafka.sh start) || exit 1; \
		log="$$run.test.log"; echo "$(GO) test -count=1 -timeout 5m -v -run '^TestKafkaSecure$$' ./app/ (full log: $$log)"; \
		env $$env $(GO) test -count=1 -timeout 5m -v -run '^TestKafkaSecure$$' ./app/ >"$$log" 2>&1; rc=$$?; \
		grep -E '^(=== RUN|\s*--- |\s+kafka_secure_test.go:[0-9]+: [^t]|PASS|FAIL|ok)' "$$log"; \
		if [ $$rc -ne 0 ]; then tail -n 200 "$$log"; fi; exit $$rc

test-faults: ## fault tests without -race (issue 11): Kafka broker restart (a private broker, never the shared one), Elasticsearch cut (needs VIGIE_TEST_ELASTICSEARCH), disk full, SIGKILL at random points, failing webhook receiver
	scripts/kafka.sh install
	$(GO) test -count=1 -timeout 5m -run 'TestReceiverFailingThenRecovering' ./alert/
	$(GO) test -count=1 -timeout 5m -run 'TestIndexRetriesWhileStoreDown' ./pipeline/
	@log=$$(mktemp); echo "VIGIE_TEST_FAULTS=1 $(GO) test -count=1 -timeout 20m -v -run '^TestFaults$$' ./app/ (full log: $$log)"; \
		VIGIE_TEST_FAULTS=1 $(GO) test -count=1 -timeout 20m -v -run '^TestFaults$$' ./app/ >$$log 2>&1; rc=$$?; \
		grep -E '^(=== RUN|\s*--- |\s+fault_test.go|PASS|FAIL|ok)' $$log; \
		if [ $$rc -ne 0 ]; then tail -n 300 $$log; fi; exit $$rc

lint: ## gofmt, go vet and staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)

vuln: ## known vulnerabilities reachable from Vigie's code (govulncheck, pinned; offline OSV snapshot when vuln.go.dev is unreachable): scripts/govulncheck.sh
	GO="$(GO)" scripts/govulncheck.sh

fuzz: ## run every fuzz target for FUZZTIME each (scripts/fuzz.sh: a failure is one that writes an input)
	GO="$(GO)" FUZZTIME="$(FUZZTIME)" bash scripts/fuzz.sh

bench: ## Go benchmarks, an end-to-end replay, detection quality (vigie eval) and the peer comparison (BENCH_ROWS="1000000 10000000" for 10M too), with figures
	rm -rf var/bench # outputs of this run only, for bench/table.py
	bash bench/tee.sh go-1 $(GO) test -run XXX -bench . -benchmem -benchtime 1x -count 1 ./graph/ ./store/... ./ingest/ ./pipeline/ ./scoring/
	bash bench/tee.sh go-2 $(GO) test -run XXX -bench IngestOntoBroker -benchtime 1x -count 1 ./ingest/sources/
	scripts/elasticsearch.sh install
	@if scripts/elasticsearch.sh status >/dev/null; then es=; else scripts/elasticsearch.sh start >/dev/null || exit 1; es=1; fi; \
		trap '[ -n "$$es" ] && scripts/elasticsearch.sh stop' EXIT; \
		VIGIE_TEST_ELASTICSEARCH=http://127.0.0.1:$${VIGIE_ES_PORT:-19200} bash bench/tee.sh go-3 $(GO) test -run XXX -bench . -benchmem -benchtime 1x -count 1 ./store/elastic/
	bash bench/tee.sh e2e $(GO) test -run TestEndToEnd -v -count 1 ./app/ | grep -E 'e2e|PASS|FAIL'
	GO="$(GO)" bash bench/scenarios.sh # detection quality, Vigie and the toolkit on the scenarios and data sets: docs/evaluation.md
	BENCH_ROWS="$(BENCH_ROWS)" GO="$(GO)" BENCH_OUT=var/bench bash bench/peers.sh
	LOAD_DURATION="$(LOAD_DURATION)" GO="$(GO)" bash bench/load.sh # load test: twice the end-to-end throughput for LOAD_DURATION, memory and lag
	GO="$(GO)" python3 bench/table.py var/bench docs/benchmarks.md # the one table of all figures

gen: build ## regenerate the bundled scenario (the tests check it matches the generator)
	$(GO) test ./scenario/ -run TestBundledUpToDate -update

ui: ## rebuild the web UI bundle (web/static/dist, committed) from web/ui: npm ci + esbuild; needs Node.js
	cd web/ui && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund && npm run build

test-ui: build ## browser tests of the web UI (Playwright + Debian's chromium) against vigie run on the scenario
	cd web/ui && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund && npm run check && \
		VIGIE_BIN=$(abspath $(BIN)) node --test e2e/

clean: ## remove build output and the embedded default's data
	rm -rf bin var
