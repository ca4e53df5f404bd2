# payrisk — the two commands: `make demo` and `make test`.
# Both create .venv when it is missing and install the package with what it needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.payrisk-installed

.PHONY: demo test lint format bench benchmark-gate docs docs-tables clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "payrisk needs Python 3.11 or newer; set PYTHON=python3.11 (or newer)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/payrisk demo --out payrisk_demo --overwrite

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy
	OMP_WAIT_POLICY=PASSIVE $(BIN)/python -m pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_generate.py
	$(BIN)/python benchmarks/bench_features.py

docs: $(STAMP)
	$(BIN)/python -m mkdocs build --strict --site-dir site
	@echo "docs built: site/index.html"

docs-tables: $(STAMP)
	$(BIN)/python -c "import payrisk as pr, pathlib; p = pathlib.Path('docs/features.md'); t = p.read_text().split('<!-- registry -->')[0]; p.write_text(t + '<!-- registry -->\n\n' + pr.features.registry_markdown())"

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache .hypothesis

benchmark-gate: $(STAMP)
	$(BIN)/payrisk benchmark --compare benchmarks/baseline.json --out benchmark-results.json
