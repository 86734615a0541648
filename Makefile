# Two commands on a fresh machine: `make run` (set up and serve) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
BABEL_KEYWORDS := -k _l -k lazy_pgettext:1c,2 -k N_ -k DomainError -k Forbidden -k NotFound -k DecodeError -k RowError:3 -k TimeUp -k AttemptClosed
# Debian packages: HarfBuzz's subsetter keeps Chinese PDFs fast (0.2 s instead of 13 s per page),
# a CJK font renders them; Chromium drives the browser tests; wrk measures the machine's floor.
SYSTEM_PACKAGES := libharfbuzz-subset0 fonts-wqy-microhei libpango-1.0-0 libpangoft2-1.0-0
TEST_SYSTEM_PACKAGES := chromium nginx-light
BENCH_SYSTEM_PACKAGES := wrk nginx-light

.PHONY: run setup install system-deps test-deps bench-deps translations i18n-extract test \
        bench-import bench-exam bench-checkin bench-certificates bench-records check-migrations \
        clean

run: setup
	$(BIN)/trainer run --host $(HOST) --port $(PORT)

setup: install system-deps translations
	$(BIN)/trainer setup --demo

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

# Installs missing Debian packages when run as root; otherwise says what to install.
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing system packages:$$missing"; \
	    (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "Please install as root: apt-get install$$missing"; exit 1; fi; \
	fi
endef

system-deps:
	$(call apt_install,$(SYSTEM_PACKAGES))

test-deps: install system-deps
	$(call apt_install,$(TEST_SYSTEM_PACKAGES))

bench-deps: install system-deps
	$(call apt_install,$(BENCH_SYSTEM_PACKAGES))

translations: install
	$(BIN)/pybabel compile --use-fuzzy -d trainer/translations -D messages >/dev/null

i18n-extract: install
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --no-location --sort-output \
	  -o trainer/translations/messages.pot . >/dev/null
	$(BIN)/pybabel update -i trainer/translations/messages.pot -d trainer/translations \
	  --no-fuzzy-matching --ignore-obsolete >/dev/null

test: test-deps translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check-migrations: install
	$(BIN)/trainer db upgrade && $(BIN)/trainer db check

bench-import: install
	$(BIN)/python bench/import_bench.py

bench-exam: bench-deps translations
	$(BIN)/python bench/exam_day.py $(BENCH_ARGS)

bench-certificates: bench-deps translations
	$(BIN)/python bench/certificates.py $(BENCH_ARGS)

# nginx and both pools, Locust beside them; no floor, so no wrk.
bench-checkin: install system-deps translations
	$(call apt_install,nginx-light)
	$(BIN)/python bench/checkin_day.py $(BENCH_ARGS)

# A centre of 50,000 staff built by bulk SQL, HR's pages measured in-process (BENCH_ARGS:
# --quick for one tenth, --database sqlite|postgresql).
bench-records: install system-deps translations
	$(BIN)/python bench/records_bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance/*.db*
