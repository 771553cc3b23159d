#!/usr/bin/env bash
# Install, then run the main job on the bundled sample pages with the embedded defaults:
# store ./data/wiredesk.db, corpus ./data/corpus.jsonl; with no Prefect server running the pipeline runs
# in this process (no flow run; --embedded-server for one), else as a flow run on that server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/wiredesk run --input samples/ --manifest samples/html/meta.jsonl "$@"
