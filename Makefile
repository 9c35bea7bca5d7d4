# Ariane: the two commands a newcomer needs are `make demo` and `make test`; both set everything up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test test-unit test-browser test-postgres chaos chaos-full setup kafka-jars prometheus chromium lint contracts-check clean bench

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP) kafka-jars

kafka-jars: $(STAMP)
	@$(BIN)/python -c 'from local.kafka import ensure_jars, KafkaRuntimeError; import sys;\
	exec("try:\n print(\"kafka jars:\", ensure_jars())\nexcept KafkaRuntimeError as e:\n sys.exit(str(e))")'

prometheus:
	@bash deploy/prometheus/install.sh

## Debian's chromium and chromedriver, driven by the browser tests (tests/browser); installed when absent.
chromium:
	@sh deploy/browser/ensure-chromium.sh

lint: $(STAMP)
	$(BIN)/lint-imports

contracts-check: $(STAMP)
	$(BIN)/ariane contracts export --check

## The demo: a territory year through all four services on a real local Kafka (SQLite stores).
demo: setup
	$(BIN)/ariane demo

## Every suite: unit, integration (real Kafka, real database) and end-to-end. PostgreSQL when
## ARIANE_DATABASE_URL is a postgresql+asyncpg URL, SQLite files otherwise.
test: setup prometheus chromium lint contracts-check
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

## The web page in a real headless Chromium, on the services as processes; screenshots in .var/screenshots/.
test-browser: setup chromium
	$(BIN)/python -m pytest tests/browser -q

## Faults on purpose (tests/chaos/README.md): a territory year of 1,000 people through the services as processes,
## two instances of each, while each service is killed -9 three times, the broker is killed and restarted on its
## ports and paused (SIGSTOP/SIGCONT), and reporting's SQLite disk fills up (on PostgreSQL: the cluster restarts);
## then every figure against the ground truth, lags, duplicates, dead letters, and the table of faults. On SQLite,
## then on a private PostgreSQL cluster the run starts itself. CHAOS_ARGS="--database sqlite" for one store only.
CHAOS_ARGS ?= --people 1000 --days 365 --database both
chaos: setup
	$(BIN)/python -m tests.chaos.chaos_year $(CHAOS_ARGS)

## The same at full size, 10,000 people on both stores: hours on a small machine (tests/chaos/README.md).
CHAOS_FULL_ARGS ?= --people 10000 --days 365 --database both
chaos-full: setup
	$(BIN)/python -m tests.chaos.chaos_year $(CHAOS_FULL_ARGS)

## The same suites on a private local PostgreSQL (installed and started when absent).
test-postgres:
	ARIANE_DATABASE_URL="$$(bash deploy/postgres/ensure-postgres.sh)" $(MAKE) test

## The benchmarks, each against its baseline in the same run, on a real broker (bench/README.md); not in `make test`.
## BENCH_PEOPLE sizes the replay's simulated year; ARIANE_DATABASE_URL replays into PostgreSQL instead of SQLite;
## BENCH_SIZES are the territory sizes of the refresh run; BENCH_TICK_SIZES those of the day ticks on grown stores
## (the same work due at every size); the day ticks on fed stores stay small (feeding 100k people takes days);
## the pipeline's paced loads run 60 s each, up to the issue's 500 events/s.
BENCH_PEOPLE ?= 5000
BENCH_SIZES ?= 10000 100000
BENCH_TICK_SIZES ?= 10000 100000 1000000
bench: setup
	$(BIN)/python bench/bench_replay.py --people $(BENCH_PEOPLE)
	$(BIN)/python bench/bench_refresh.py --people $(BENCH_SIZES)
	$(BIN)/python bench/bench_tick_scale.py --sizes $(BENCH_TICK_SIZES)
	$(BIN)/python bench/bench_tick.py --people 1000 3000 --days 120
	$(BIN)/python bench/bench_worklist_page.py --lines 10000
	$(BIN)/python bench/bench_pipeline.py --events 5000 --rates 20 200 500 --seconds 60

clean:
	rm -rf .var .pytest_cache .hypothesis
