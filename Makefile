# hocba_digital: developer and CI tasks on a local Odoo 18.0 (no Docker needed).
#
# Odoo itself is NOT installed by this repository: an Odoo 18.0 launcher must
# be on PATH as `odoo`, or be given as ODOO=/path/to/odoo(-bin) (or ODOO_BIN).
# PostgreSQL: tools/pg-ensure reuses a running server at DB_HOST:DB_PORT or
# starts a private throwaway cluster in $(HOCBA_PG_DIR).
#
#   make deps        install requirements.txt into the Python that runs Odoo
#   make run         create database hocba_demo (hocba_digital + hocba_digital_demo, Vietnamese)
#                    once, then serve it on http://127.0.0.1:8069
#   make test        three runs on fresh databases + Odoo's own base/mail/portal tests,
#                    summarised as "odoo: N passed, M failed" (exit status 0 = green)
#   make test-addon  only the addons' tests with demo data (fast loop)
#   make test-core   only Odoo's own base/mail/portal tests with our library pins
#   make lint        pylint-odoo (OCA's mandatory checks), OCA's XML/.po checks, ruff check and
#                    ruff format --check, from requirements-dev.txt in .venv-lint/ (exit 0 = clean)
#   make clean-db    drop the demo and test databases
#   make docker-up   the Docker path: docker compose up (see docker-compose.yml)
#
# Every variable of this Makefile can be overridden, e.g. make test DB_PORT=5432 DB_HOST=/var/run/postgresql

SHELL := /bin/bash
.DEFAULT_GOAL := help
.SUFFIXES:
comma := ,

ADDON        ?= hocba_digital
# the hidden addon holding the demo school and its fake services (make run, test with demo)
DEMO_ADDON   ?= hocba_digital_demo
DEMO_DB      ?= hocba_demo
TEST_DB_DEMO ?= hocba_test_demo
TEST_DB_NODEMO ?= hocba_test_nodemo
TEST_DB_CORE ?= hocba_test_core
CORE_MODULES ?= base,mail,portal
CORE_TAGS    ?= /base,/mail,/portal
CORE_EXCLUSIONS_FILE ?= tools/core-test-exclusions.txt
HTTP_PORT    ?= 8069
LANG_DEMO    ?= vi_VN
LOG_DIR      ?= $(CURDIR)/.test-logs
TAIL_LINES   ?= 80
# Odoo's data dir (filestore, sessions) of our databases, separate from the
# user's own ~/.local/share/Odoo so that clean-db can drop filestores too.
# Never inside the repo: the repo is an addons path, and Odoo's own tests check
# that the data dir is NOT reachable through an addons path.
DATA_DIR     ?= $(HOME)/.local/share/hocba-odoo
PIP_FLAGS    ?=

# make lint: its own venv (git-ignored), made with LINT_PYTHON, and the addons
# it checks: every folder of the repository with a __manifest__.py.
LINT_PYTHON  ?= python3
LINT_VENV    ?= $(CURDIR)/.venv-lint
LINT_BIN      = $(LINT_VENV)/bin
LINT_STAMP    = $(LINT_VENV)/.requirements-dev.stamp
LINT_ADDONS  ?= $(patsubst %/__manifest__.py,%,$(wildcard */__manifest__.py))
LINT_PO_FILES = $(wildcard $(addsuffix /i18n/*.po,$(LINT_ADDONS)) $(addsuffix /i18n/*.pot,$(LINT_ADDONS)))

# PostgreSQL: the defaults of tools/pg-ensure.
HOCBA_PG_DIR ?= /tmp/hocba-pg
DB_HOST      ?= $(if $(PGHOST),$(PGHOST),$(HOCBA_PG_DIR))
DB_PORT      ?= $(if $(PGPORT),$(PGPORT),5434)
DB_USER      ?= $(if $(HOCBA_DB_USER),$(HOCBA_DB_USER),odoo)
DB_PASSWORD  ?=

# The Odoo launcher, its Python and its own addons dirs; each looked up once,
# and only when a target needs it ($(eval) memoises the first expansion).
ifdef ODOO_BIN
ODOO ?= $(ODOO_BIN)
endif
# (check-odoo, a prerequisite of every Odoo target, runs the real version check.)
ODOO ?= $(eval ODOO := $$(shell tools/find-odoo --no-check 2>/dev/null))$(ODOO)
ODOO_PYTHON ?= $(eval ODOO_PYTHON := $$(shell ODOO_BIN='$$(ODOO)' tools/find-odoo --python --no-check 2>/dev/null))$(ODOO_PYTHON)
ODOO_ADDONS ?= $(eval ODOO_ADDONS := $$(shell ODOO_BIN='$$(ODOO)' tools/find-odoo --addons --no-check 2>/dev/null))$(ODOO_ADDONS)
ADDONS_PATH ?= $(ODOO_ADDONS),$(CURDIR)

PSQL ?= $(firstword $(shell command -v psql 2>/dev/null) $(sort $(wildcard /usr/lib/postgresql/*/bin/psql)))
PSQL_BASE = PGPASSWORD='$(DB_PASSWORD)' $(PSQL) -X -q -t -A -h '$(DB_HOST)' -p '$(DB_PORT)' -U '$(DB_USER)'
PSQL_CMD = $(PSQL_BASE) -d postgres
PG_ENSURE = PGHOST='$(DB_HOST)' PGPORT='$(DB_PORT)' HOCBA_DB_USER='$(DB_USER)' HOCBA_PG_DIR='$(HOCBA_PG_DIR)' tools/pg-ensure

ODOO_DB_ARGS = --db_host='$(DB_HOST)' --db_port=$(DB_PORT) --db_user='$(DB_USER)' $(if $(DB_PASSWORD),--db_password='$(DB_PASSWORD)')
ODOO_ARGS = --addons-path='$(ADDONS_PATH)' --data-dir='$(DATA_DIR)' $(ODOO_DB_ARGS)
# Test runs: no multiprocessing, test log level, and the read-only ("replica")
# pool pointed at the same server: in test mode Odoo 18 always opens it, and
# without db_replica_host/port it would try libpq's default socket and port.
ODOO_TEST_ARGS = --stop-after-init --log-level=test --workers 0 --max-cron-threads 0 \
	--http-interface 127.0.0.1 --db_replica_host='$(DB_HOST)' --db_replica_port=$(DB_PORT)

# Test-tag exclusions for Odoo's own tests: non-comment lines of the file.
CORE_EXCLUDES = $(shell sed -e 's/\#.*//' -e 's/[[:space:]]//g' '$(CORE_EXCLUSIONS_FILE)' | grep -v '^$$' | paste -sd, -)
CORE_TEST_TAGS = $(CORE_TAGS)$(if $(CORE_EXCLUDES),$(comma)$(CORE_EXCLUDES))

# The logs `make test` summarises: named, not .test-logs/*.log, because other
# tools (tools/i18n-sync) keep their logs in the same directory.
TEST_LOGS = '$(LOG_DIR)/$(TEST_DB_DEMO).log' '$(LOG_DIR)/$(TEST_DB_NODEMO).log' '$(LOG_DIR)/$(TEST_DB_CORE).log'

# stdlib-only helper scripts run with Odoo's Python (a python3 on PATH is not assumed)
SUMMARY = '$(ODOO_PYTHON)' tools/odoo-test-summary --no-skips odoo.addons.$(ADDON) --no-skips odoo.addons.$(DEMO_ADDON)

# $(call drop_db,NAME): drop a database (if it exists) and its filestore
define drop_db
{ $(PSQL_CMD) -c "DROP DATABASE IF EXISTS \"$(1)\" WITH (FORCE)" >/dev/null 2>&1 || $(PSQL_CMD) -c "DROP DATABASE IF EXISTS \"$(1)\"" >/dev/null; } && rm -rf "$(DATA_DIR)/filestore/$(1)"
endef

# $(call free_port,BASE): first port >= BASE that nothing listens on
free_port = $$('$(ODOO_PYTHON)' tools/free-port $(1))

# $(call odoo_test_run,DBNAME,MODULES,TEST_TAGS,EXTRA_ARGS,PORT_BASE)
# Fresh database, install MODULES, run TEST_TAGS, log to $(LOG_DIR)/DBNAME.log.
# Never fails itself: tools/odoo-test-summary judges the logs afterwards.
define odoo_test_run
	@mkdir -p '$(LOG_DIR)'
	@$(call drop_db,$(1))
	@port=$(call free_port,$(5)); \
	echo "== $(1): -i $(2) --test-tags '$(3)' $(strip $(4)) (http port $$port, log $(LOG_DIR)/$(1).log)"; \
	start=$$(date +%s); rc=0; \
	$(ODOO) -d $(1) -i $(2) --test-tags '$(3)' $(4) $(ODOO_ARGS) $(ODOO_TEST_ARGS) --http-port $$port \
		</dev/null >'$(LOG_DIR)/$(1).log' 2>&1 || rc=$$?; \
	if [ $$rc -ne 0 ]; then \
		echo "== $(1): odoo exited with status $$rc after $$(( $$(date +%s) - start ))s; last $(TAIL_LINES) lines of $(LOG_DIR)/$(1).log:"; \
		tail -n $(TAIL_LINES) '$(LOG_DIR)/$(1).log' | sed 's/^/    | /'; \
	else \
		echo "== $(1): odoo exited with status 0 after $$(( $$(date +%s) - start ))s"; \
	fi
endef

.PHONY: help check-odoo check-psql deps pg run test test-addon test-core lint docker-up docker-down clean-db \
	_run-demo _run-nodemo _run-core

help:
	@sed -n '1,21p' Makefile | sed 's/^# \{0,1\}//'

# Fails with one clear line when there is no Odoo 18.0 launcher.
check-odoo:
	@ODOO_BIN='$(ODOO)' tools/find-odoo >/dev/null
	@echo "odoo: $(ODOO) (python: $(ODOO_PYTHON))"

# requirements.txt into the launcher's Python; a no-op when every pin is there.
deps: check-odoo
	@if '$(ODOO_PYTHON)' tools/check-deps requirements.txt >/dev/null 2>&1; then \
		echo "deps: requirements.txt already satisfied in $(ODOO_PYTHON)"; \
	else \
		'$(ODOO_PYTHON)' tools/check-deps requirements.txt; \
		echo "deps: $(ODOO_PYTHON) -m pip install $(PIP_FLAGS) -r requirements.txt"; \
		'$(ODOO_PYTHON)' -m pip install --disable-pip-version-check $(PIP_FLAGS) -r requirements.txt \
		&& '$(ODOO_PYTHON)' tools/check-deps requirements.txt; \
	fi

pg:
	@$(PG_ENSURE)

check-psql:
	@[ -n '$(PSQL)' ] || { echo "hocba_digital: psql not found: install postgresql-client or set PSQL=" >&2; exit 2; }

run: deps pg check-psql
	@installed=$$($(PSQL_BASE) -d '$(DEMO_DB)' -c "SELECT 1 FROM ir_module_module WHERE name = '$(DEMO_ADDON)' AND state = 'installed'" 2>/dev/null); \
	if [ "$$installed" != 1 ]; then \
		echo "run: initialising database $(DEMO_DB) with $(ADDON) and $(DEMO_ADDON) (demo data)"; \
		$(ODOO) $(ODOO_ARGS) -d $(DEMO_DB) -i $(ADDON),$(DEMO_ADDON) --stop-after-init --load-language=$(LANG_DEMO) </dev/null || exit $$?; \
	fi
	$(ODOO) $(ODOO_ARGS) -d $(DEMO_DB) --http-interface 127.0.0.1 --http-port $(HTTP_PORT) --db-filter '^$(DEMO_DB)$$'

# Odoo 18.0 loads demo data on -i unless --without-demo is given.  With demo
# data: both addons, both tested; without: hocba_digital alone.
_run-demo:
	$(call odoo_test_run,$(TEST_DB_DEMO),$(ADDON)$(comma)$(DEMO_ADDON),/$(ADDON)$(comma)/$(DEMO_ADDON),,8269)
_run-nodemo:
	$(call odoo_test_run,$(TEST_DB_NODEMO),$(ADDON),/$(ADDON),--without-demo=all,8369)
_run-core:
	$(call odoo_test_run,$(TEST_DB_CORE),$(CORE_MODULES),$(CORE_TEST_TAGS),,8469)

test: deps pg check-psql
	@mkdir -p '$(LOG_DIR)' && rm -f $(TEST_LOGS)
	@$(MAKE) --no-print-directory _run-demo _run-nodemo _run-core \
		ODOO='$(ODOO)' ODOO_PYTHON='$(ODOO_PYTHON)' ADDONS_PATH='$(ADDONS_PATH)' PSQL='$(PSQL)' -j1
	@$(SUMMARY) $(TEST_LOGS)

test-addon: deps pg check-psql
	@$(MAKE) --no-print-directory _run-demo \
		ODOO='$(ODOO)' ODOO_PYTHON='$(ODOO_PYTHON)' ADDONS_PATH='$(ADDONS_PATH)' PSQL='$(PSQL)'
	@$(SUMMARY) '$(LOG_DIR)/$(TEST_DB_DEMO).log'

test-core: deps pg check-psql
	@$(MAKE) --no-print-directory _run-core \
		ODOO='$(ODOO)' ODOO_PYTHON='$(ODOO_PYTHON)' ADDONS_PATH='$(ADDONS_PATH)' PSQL='$(PSQL)'
	@$(SUMMARY) '$(LOG_DIR)/$(TEST_DB_CORE).log'

# Static checks, with tools of their own in $(LINT_VENV) (never Odoo's Python;
# they import nothing from Odoo). Every check runs, and the target fails if any
# of them reported something.
lint: $(LINT_STAMP)
	@rc=0; fmt=text; [ -t 1 ] && fmt=colorized; \
	echo "== pylint --rcfile=.pylintrc-mandatory $(LINT_ADDONS)"; \
	'$(LINT_BIN)/pylint' --rcfile=.pylintrc-mandatory --output-format=$$fmt $(LINT_ADDONS) || rc=1; \
	echo "== oca-checks-odoo-module $(LINT_ADDONS)"; \
	'$(LINT_BIN)/oca-checks-odoo-module' $(LINT_ADDONS) || rc=1; \
	$(if $(LINT_PO_FILES),echo "== oca-checks-po --disable=po-pretty-format $(LINT_PO_FILES)"; \
	'$(LINT_BIN)/oca-checks-po' --disable=po-pretty-format $(LINT_PO_FILES) || rc=1;) \
	echo "== ruff check"; \
	'$(LINT_BIN)/ruff' check --no-fix --output-format=concise . || rc=1; \
	echo "== ruff format --check"; \
	'$(LINT_BIN)/ruff' format --check --output-format=concise . || rc=1; \
	if [ $$rc -eq 0 ]; then echo "lint: clean"; else echo "lint: FAILED (see the messages above)"; fi; \
	exit $$rc

# The lint venv, (re)made when missing or older than requirements-dev.txt.
$(LINT_STAMP): requirements-dev.txt
	@[ -x '$(LINT_VENV)/bin/python' ] || { echo "lint: creating $(LINT_VENV) with $(LINT_PYTHON)"; \
		'$(LINT_PYTHON)' -m venv '$(LINT_VENV)'; }
	@echo "lint: $(LINT_VENV)/bin/pip install $(PIP_FLAGS) -r requirements-dev.txt"
	@'$(LINT_VENV)/bin/python' -m pip install --quiet --disable-pip-version-check $(PIP_FLAGS) -r requirements-dev.txt
	@touch '$@'

# The Docker path (needs a Docker engine with the compose plugin).
docker-up:
	docker compose up --build

docker-down:
	docker compose down

clean-db:
	@if $(PSQL_CMD) -c 'SELECT 1' >/dev/null 2>&1; then \
		for db in $(DEMO_DB) $(TEST_DB_DEMO) $(TEST_DB_NODEMO) $(TEST_DB_CORE); do \
			$(call drop_db,$$db) && echo "clean-db: dropped $$db (if it existed)"; \
		done; \
	else \
		echo "clean-db: no PostgreSQL at $(DB_HOST):$(DB_PORT); removing filestores only"; \
		for db in $(DEMO_DB) $(TEST_DB_DEMO) $(TEST_DB_NODEMO) $(TEST_DB_CORE); do rm -rf '$(DATA_DIR)/filestore/'$$db; done; \
	fi
