"""wiredesk's store (SQLite or PostgreSQL, one SQLAlchemy Core code path) and corpus export.

    open_store(target) -> Store        write_batch / known / get_articles / iter_since / ...
    export_corpus(store, out) -> ExportResult

Imports only wiredesk.records, wiredesk.errors, third-party libraries and its own modules.
"""

from storage.export import ExportResult, export_corpus
from storage.open import open_store
from storage.settings import StoreSettings
from storage.store import ClusterSummary, Store

__all__ = ["ClusterSummary", "ExportResult", "Store", "StoreSettings", "export_corpus", "open_store"]
