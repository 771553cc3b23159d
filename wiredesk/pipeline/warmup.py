"""Warm-up: the first-use costs of a run's pipeline, paid on the run's own first page beforehand.

The first page a process extracts, signs and stores costs 0.2-0.5 s more than the next one (lazy
parts of lxml and the extraction rules, the dedup signatures, SQLAlchemy's statements built and
compiled on first use). A one-shot run that waits for something else (its flow run, made by another
process: ``flows.oneshot``) can pay them while it waits: ``warm_up`` runs the pipeline on the run's
first page file into a scratch store in a temporary folder (its own dedup index, no export, no
progress or start-up marks), then deletes it. Nothing of the configured store, index or export is
touched; the run itself then does its first page as if it were its second.
"""

from __future__ import annotations

import contextvars
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pydantic import SecretStr

from wiredesk.config import WiredeskConfig
from wiredesk.fetching.files import expand_inputs
from wiredesk.fetching.warc import is_archive


def first_page_file(inputs: Sequence[str]) -> Path | None:
    """The run's first page file (not an archive), or None."""
    for file in expand_inputs(list(inputs)):
        if not is_archive(file.path):
            return file.path
    return None


def warm_up(config: WiredeskConfig, inputs: Sequence[str] | None) -> bool:
    """Run the pipeline once on the first page file of ``inputs`` into a scratch store; whether it did.
    A failure here is no failure of the run (the run does the same work again, and reports it)."""
    from wiredesk.pipeline.run import run_ingest

    try:
        page = first_page_file(inputs or [])
        if page is None:
            return False
        with tempfile.TemporaryDirectory(prefix="wiredesk-warmup-") as scratch:
            store = config.store.model_copy(
                update={"url": SecretStr(str(Path(scratch) / "warmup.db")), "dedup_index": None}
            )
            run = config.run.model_copy(update={"workers": 1})
            scratch_config = config.model_copy(update={"store": store, "run": run})
            # a fresh context: no start-up clock, no progress listener, nothing of the caller's run
            contextvars.Context().run(run_ingest, scratch_config, inputs=[str(page)], export=False, flow="warm-up")
        return True
    except Exception:  # noqa: BLE001 - only a warm-up
        return False
