#!/usr/bin/env bash
# Create .venv (if needed) and install wiredesk with the pinned versions from constraints.txt.
# Usage: bash scripts/setup.sh [EXTRAS]   e.g. bash scripts/setup.sh test
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade "pip>=24"
spec="."
[ -n "$extras" ] && spec=".[$extras]"
.venv/bin/python -m pip install -q -c constraints.txt -e "$spec"
# An editable install compiles nothing: byte-compile wiredesk's own modules once, as a wheel's are
# (a stale .pyc is recompiled in memory; without them each process start compiles ~70 modules, 0.2 s).
.venv/bin/python -m compileall -q wiredesk config extractors fetching dedup storage flows >/dev/null
