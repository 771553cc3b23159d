#!/usr/bin/env bash
# Lint, format check and import contracts (run by scripts/test.sh before the tests).
# lint-imports reads packages from disk; wiredesk's stage folders are mapped into the
# namespace by setuptools, so the contracts are checked on a real (non-editable) install
# of the package in a scratch folder. That install also proves the wheel holds one
# top-level package, wiredesk.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
"$py" -m ruff check --quiet .
"$py" -m ruff format --check --quiet .
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$py" -m pip install -q --no-deps --target "$scratch/site" . 2>/dev/null
top=$(cd "$scratch/site" && ls -d */ | grep -v '\.dist-info/$' | grep -v '^bin/$' | tr -d '/' | tr '\n' ' ')
if [ "$top" != "wiredesk " ]; then
  echo "lint: the wheel installs top-level packages other than wiredesk: $top" >&2
  exit 1
fi
(cd "$scratch" && PYTHONPATH="$scratch/site" "$OLDPWD/.venv/bin/lint-imports" --no-cache "$OLDPWD/pyproject.toml")
