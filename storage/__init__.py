"""wiredesk's store (SQLite or PostgreSQL, one SQLAlchemy Core code path) and corpus export.

    open_store(target) -> Store        write_batch / known / get_articles / iter_since / ...
    export_corpus(store, out) -> ExportResult

Imports only wiredesk.core.records, wiredesk.core.errors, third-party libraries and its own modules.
"""

from wiredesk.storage.export import ExportResult, export_corpus
from wiredesk.storage.open import open_store
from wiredesk.storage.settings import StoreSettings
from wiredesk.storage.store import ClusterSummary, Store

__all__ = ["ClusterSummary", "ExportResult", "Store", "StoreSettings", "export_corpus", "open_store"]
