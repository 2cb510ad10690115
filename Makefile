# The two commands of the README's quickstart are `make demo` and `make test`.
# Both create the virtualenv and install the project on first use.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
NODE_MODULES := tests/interop/node_modules

.PHONY: demo test typecheck bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# The Node packages the interop tests judge us against are pinned in tests/interop/package.json
# and package-lock.json; `npm ci` installs exactly those versions.
$(NODE_MODULES)/.installed: tests/interop/package.json tests/interop/package-lock.json
	cd tests/interop && npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/tsunagu demo

test: $(VENV)/.installed $(NODE_MODULES)/.installed
	$(PY) -m mypy
	$(PY) -m pytest

bench: $(VENV)/.installed
	$(PY) bench/bench_sd_jwt.py

clean:
	rm -rf $(VENV) $(NODE_MODULES) .pytest_cache .mypy_cache .hypothesis
