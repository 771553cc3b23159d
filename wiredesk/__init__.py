"""wiredesk: scheduled news ingestion and syndication-grade deduplication.

Import direction (kept by every module): ``wiredesk.core.records`` and
``wiredesk.core.errors`` <- stage packages (``extractors``, ``fetching``, ``dedup``,
``storage``) <- ``flows`` and ``wiredesk.cli``. Only ``flows`` imports prefect.
"""

__version__ = "0.1.0"
