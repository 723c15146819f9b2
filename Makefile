# The two set-up commands of the README, and the pieces they are made of.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# The embedded default: SQLite, Celery eager, in-process transport.
EMBEDDED := env -u DATABASE_URL -u CELERY_BROKER_URL -u PULSAR_URL
# The real services that scripts/services.sh brings up on 127.0.0.1.
export REAL_SERVICES := DATABASE_URL=postgres://alpes:alpes@127.0.0.1:5432/alpespartners CACHE_URL=redis://127.0.0.1:6379/1 \
	CELERY_BROKER_URL=redis://127.0.0.1:6379/0 PULSAR_URL=pulsar://127.0.0.1:6650
COVERED := --cov --cov-config=.coveragerc

.PHONY: install demo test services services-down stack bench-relay bench-event-store bench-conversiones bench-payouts bench-pipeline bench-clicks bench-webhooks clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $$(scripts/find_python.sh) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# Plain log lines for a person at a terminal (JSON is for the stack's log collectors); the loaders
# say only what they made; the server prints the tokens and URLs last, once it listens.
# The demo's webhooks may go to a receiver on the newcomer's machine (never set in production).
DEMO := $(EMBEDDED) LOG_FORMAT=plain WEBHOOKS_PERMITIR_LOOPBACK=true

demo: install
	$(DEMO) LOG_LEVEL=WARNING $(PY) manage.py migrate --noinput --verbosity 0
	$(DEMO) $(PY) manage.py collectstatic --noinput --verbosity 0
	$(DEMO) LOG_LEVEL=WARNING $(PY) manage.py cargar_demo
	$(DEMO) LOG_LEVEL=WARNING $(PY) manage.py cargar_demo_campanias
	$(DEMO) LOG_LEVEL=WARNING $(PY) manage.py cargar_demo_pagos
	$(DEMO) $(PY) manage.py serve_demo 127.0.0.1:8000

services:
	scripts/services.sh up

services-down:
	scripts/services.sh down

test: install services
	env $(REAL_SERVICES) $(PY) -m pytest $(COVERED) --cov-report=term-missing

# The full stack on the real services: web, worker, beat, relay and consumers in one terminal.
stack: install services
	env $(REAL_SERVICES) $(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0  # the admin's styles and scripts, served by whitenoise
	env $(REAL_SERVICES) $(VENV)/bin/honcho start -f Procfile

bench-relay: install services
	env $(REAL_SERVICES) $(PY) manage.py migrate --noinput
	env $(REAL_SERVICES) $(PY) bench/relay.py

# Migrates and drops its own scratch database (alpespartners_bench); needs only PostgreSQL.
bench-event-store: install services
	env $(REAL_SERVICES) $(PY) bench/event_store.py

clean:
	rm -rf $(VENV) db.sqlite3 .coverage htmlcov staticfiles

bench-conversiones: install services
	env $(REAL_SERVICES) $(PY) bench/conversiones.py

bench-payouts: install services
	env $(REAL_SERVICES) $(PY) bench/payouts.py

# Web, worker, relay and consumers as children, against its own scratch database (alpespartners_bench_pipeline).
bench-pipeline: install services
	env $(REAL_SERVICES) $(PY) bench/pipeline.py

# Web (the project plus a bare redirect view), worker, beat, relay and consumers as children, against its own
# scratch database (alpespartners_bench_clicks), Redis database (12) and Pulsar namespace.
bench-clicks: install services
	env $(REAL_SERVICES) $(PY) bench/clicks.py

# Every process of the Procfile (web, worker, beat, relay, one consumer per context, the webhooks
# dispatcher) as children, three receivers of its own on 127.0.0.1 (ok, slow, dead), against its own
# scratch database (alpespartners_bench_webhooks), Redis database (broker and cache; this process's
# too, so nothing of the set-up lands in the shared ones) and Pulsar namespace.
BENCH_WEBHOOKS_REDIS := redis://127.0.0.1:6379/12
bench-webhooks: install services
	env $(REAL_SERVICES) CACHE_URL=$(BENCH_WEBHOOKS_REDIS) CELERY_BROKER_URL=$(BENCH_WEBHOOKS_REDIS) \
		$(PY) bench/webhooks.py --redis-db 12
