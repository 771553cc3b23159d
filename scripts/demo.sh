#!/usr/bin/env bash
# Install, then run the main job on the bundled sample pages with the embedded defaults:
# store ./data/wiredesk.db, corpus ./data/corpus.jsonl, Prefect's ephemeral API (no server).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/wiredesk run --input samples/ --manifest samples/html/meta.jsonl "$@"
