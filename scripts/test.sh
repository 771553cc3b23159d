#!/usr/bin/env bash
# Install with the test extras, then run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
bash scripts/services.sh
bash scripts/lint.sh
export PREFECT_SERVER_ANALYTICS_ENABLED=false
# pytest exits 5 when it collected no test: a non-zero exit, so it fails here and in CI.
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
