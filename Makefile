# The two commands: `make demo` and `make test`. Each installs what a fresh machine lacks first.
SWIFT      ?= swift
SHARED     ?= ../shared
SLUICE_BIN := .build/release/sluice
# The test steps reuse the debug build that `swift test` made: a release build of the whole
# server would add minutes to every CI run for no test benefit.
SLUICE_TEST_BIN := .build/debug/sluice

.PHONY: deps build build-debug demo test unit conformance network bench bench-peers bench-micro chaos clean fuzz fuzz-replay

deps:
	@command -v $(SWIFT) >/dev/null || { echo "make: the Swift toolchain (swift) is required"; exit 1; }
	@python3 -c 'import yaml' 2>/dev/null || pip install --quiet pyyaml || \
		{ apt-get update -qq && apt-get install -y -qq python3-yaml; }
	@pkg-config --exists liblz4 || (apt-get update -qq && apt-get install -y -qq liblz4-dev pkg-config)
	@pkg-config --exists libprotobuf-c || (apt-get update -qq && apt-get install -y -qq libprotobuf-c-dev)
	@pkg-config --exists sqlite3 || (apt-get update -qq && apt-get install -y -qq libsqlite3-dev)

build: deps
	$(SWIFT) build -c release --product sluice

# Runs the bundled API-analytics app (the seed's workload) over its bundled events, then the seed
# topology as a local cluster of 8 processes (tools/cluster_demo.py; it stops them on exit or Ctrl-C).
demo: build
	@echo "== sluice check examples/api-analytics/app.siddhi"
	@$(SLUICE_BIN) check examples/api-analytics/app.siddhi
	@echo "== sluice run (outputs of the app, one JSON line per event)"
	@$(SLUICE_BIN) run examples/api-analytics/app.siddhi --events examples/api-analytics/events.jsonl \
		| grep -v '"stream":"AcceptedRequest"'
	@echo "== the seed's own stream definition has a stray comma; sluice points at it:"
	@$(SLUICE_BIN) check examples/seed-request/app.siddhi || true
	@echo "== without them (examples/seed-request/app-fixed.siddhi) it checks clean:"
	@$(SLUICE_BIN) check examples/seed-request/app-fixed.siddhi
	@echo "== the seed topology: 2 stateless → 2 partitioners → groups g1, g2, for 30 s"
	@python3 tools/cluster_demo.py --engine $(SLUICE_BIN) --topology examples/seed-topology/topology.yaml

# `swift test` builds only what the tests need; `swift build --build-tests` would also build every
# executable of every dependency (swift-protobuf's protoc and abseil among them).
# The `@store` tests need a PostgreSQL server: tools/test_postgres.sh installs one if missing, runs
# a throwaway cluster on loopback for the length of the tests, and stops it whatever they give.
# The PostgreSQL suites run on their own, one test at a time, against a server started for
# them: some of their tests stop that server, which no other test may see.
unit: deps
	env -u SLUICE_TEST_POSTGRES_URL $(SWIFT) test
	@url=$$(tools/test_postgres.sh start) || exit 1; \
		SLUICE_TEST_POSTGRES_URL=$$url SLUICE_TEST_POSTGRES_CTL=$(CURDIR)/tools/test_postgres.sh \
		$(SWIFT) test --skip-build --no-parallel --filter 'PostgresStoreTests|PostgresAggregationStoreTests'; \
		status=$$?; tools/test_postgres.sh stop; exit $$status

build-debug: deps
	$(SWIFT) build --product sluice

conformance: build-debug
	python3 tools/conformance_gate.py --engine $(SLUICE_TEST_BIN) --shared $(SHARED)

# Across processes: SDK producer → node → subscriber equals `sluice run`; a node killed with
# SIGKILL mid-run loses no acknowledged event; `sluice cluster up/status/down` on a small topology;
# the three tiers against `sluice run`, and a partitioned destination killed and restarted.
network: build-debug
	python3 tools/e2e_test.py --engine $(SLUICE_TEST_BIN)
	python3 tools/failover_test.py --engine $(SLUICE_TEST_BIN) --rate 40000 --count 100000
	python3 tools/cluster_test.py --engine $(SLUICE_TEST_BIN)
	python3 tools/tiers_test.py --engine $(SLUICE_TEST_BIN)
	python3 tools/ha_test.py --engine $(SLUICE_TEST_BIN)
	python3 tools/c_producer_test.py --engine $(SLUICE_TEST_BIN)
	python3 tools/identity_test.py --engine $(SLUICE_TEST_BIN)

test: unit conformance network

# The HA protocol's deterministic simulation over many more seeds than `make test` runs (1,000),
# then real processes: the partition and pause scenarios with the data nodes in network namespaces
# and iptables dropping their packets (where root and iptables allow; the test's relay otherwise),
# and CHAOS_EVENTS through one group at CHAOS_RATE (about half of what one group
# sustains here, see perf/RESULTS.md) with its leader killed CHAOS_KILLS times. The report goes to
# perf/results/chaos-<date>.md and is appended to perf/RESULTS.md.
CHAOS_SEEDS ?= 100000
CHAOS_EVENTS ?= 5000000
CHAOS_RATE ?= 40000
CHAOS_KILLS ?= 10
CHAOS_FAULT_EVENTS ?= 400000
chaos: deps build
	SLUICE_SIM_SEEDS=$(CHAOS_SEEDS) $(SWIFT) test --filter SluiceClusterTests
	mkdir -p perf/results
	@# Partitions with namespaces need ip and iptables (as root); without them ha_test falls back to its relay.
	@command -v iptables >/dev/null || [ "$$(id -u)" != 0 ] || (apt-get update -qq && apt-get install -y -qq iptables iproute2) || true
	python3 tools/ha_test.py --engine $(SLUICE_BIN) --net auto --scenario partition --scenario one-way-partition \
		--scenario pause-leader --scenario kill-leader --scenario kill-follower --count $(CHAOS_FAULT_EVENTS) --rate $(CHAOS_RATE) \
		--report perf/results/chaos-faults-$$(date -u +%Y-%m-%d).md --append-to perf/RESULTS.md
	python3 tools/ha_test.py --engine $(SLUICE_BIN) --scenario soak --count $(CHAOS_EVENTS) --rate $(CHAOS_RATE) \
		--kills $(CHAOS_KILLS) --report perf/results/chaos-$$(date -u +%Y-%m-%d).md --append-to perf/RESULTS.md

# The performance harness (perf/harness/bench.py): the engine, one node, the three tiers with and
# without replication, over JSON/HTTP, and failover under load, with the machine's limits measured
# in the same run. Writes perf/results/<date>/report.md (plots included) and, for a full run, the
# summary in perf/RESULTS.md. `make bench QUICK=1` runs every scenario small (a few minutes).
BENCH_FLAGS = $(if $(QUICK),--quick)
bench: build
	python3 perf/harness/bench.py $(BENCH_FLAGS)

# The peers' job (perf/peers/README.md) in Flink, Spark, bytewax and pathway (installed into
# perf/peers/.venv on first use) against Sluice embedded and through one node.
bench-peers: build
	python3 perf/harness/bench.py --only-peers $(BENCH_FLAGS)

# The engine and codec micro-benchmarks under ordo-one/benchmark (mallocs, percentiles).
bench-micro: deps
	cd perf && $(SWIFT) package --allow-writing-to-package-directory benchmark

clean:
	rm -rf .build perf/.build

# libFuzzer: fuzzes the event-line decoder and the SiddhiQL parser + deploy for FUZZ_SECONDS each
# (default 60). A separate package (tools/fuzz) builds them with -sanitize=fuzzer,address.
# Crashing inputs land in Tests/FuzzCorpus/crashes/<target>/. See tools/fuzz/README.md.
FUZZ_SECONDS ?= 60

fuzz:
	SWIFT=$(SWIFT) FUZZ_SECONDS=$(FUZZ_SECONDS) tools/fuzz/fuzz.sh run

# Runs the sanitizer builds once over every seed and saved crash. (`make test` replays the same
# files without sanitizers, through Tests/SluiceRuntimeTests/FuzzCorpusReplayTests.swift.)
fuzz-replay:
	SWIFT=$(SWIFT) tools/fuzz/fuzz.sh replay
