# Ariane: the two commands a newcomer needs are `make demo` and `make test`; both set everything up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test test-unit test-postgres chaos setup kafka-jars prometheus lint contracts-check clean

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

lint: $(STAMP)
	$(BIN)/lint-imports

contracts-check: $(STAMP)
	$(BIN)/ariane contracts export --check

## The demo: a territory year through all four services on a real local Kafka (SQLite stores).
demo: setup
	$(BIN)/ariane demo

## Every suite: unit, integration (real Kafka, real database) and end-to-end. PostgreSQL when
## ARIANE_DATABASE_URL is a postgresql+asyncpg URL, SQLite files otherwise.
test: setup prometheus lint contracts-check
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

## Faults on purpose: a territory year through the services as processes (two instances of referral and of
## followup) while each service is killed -9 three times, the broker is killed and paused, and reporting's SQLite
## disk fills up (or PostgreSQL restarts); then every figure against the ground truth, lags, duplicates, dead
## letters, and the table of faults. CHAOS_ARGS="--database both" adds PostgreSQL (a private cluster).
CHAOS_ARGS ?= --people 1000 --days 365 --database sqlite
chaos: setup
	$(BIN)/python -m tests.chaos.chaos_year $(CHAOS_ARGS)

## The same suites on a private local PostgreSQL (installed and started when absent).
test-postgres:
	ARIANE_DATABASE_URL="$$(bash deploy/postgres/ensure-postgres.sh)" $(MAKE) test

clean:
	rm -rf .var .pytest_cache .hypothesis
