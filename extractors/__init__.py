"""wiredesk's extraction stage: RawPage -> Extracted.

HTML goes through trafilatura with readability-lxml as a second opinion; plain-text pages
(text as a browser shows it) go through our own line cleaner; both outputs pass the same
furniture rules and the per-host profile. See each module's docstring for the why.
"""

from .core import extract_page
from .decoding import decode_page
from .pool import ExtractPool, PoolBatch, cpu_count, extract_many, profile_host
from .profile import HostProfile, learn_profile, merge_learned, pages_lines
from .settings import ExtractSettings
from .warm import warm_up

__all__ = [
    "ExtractPool",
    "ExtractSettings",
    "HostProfile",
    "PoolBatch",
    "cpu_count",
    "decode_page",
    "extract_many",
    "extract_page",
    "learn_profile",
    "merge_learned",
    "pages_lines",
    "profile_host",
    "warm_up",
]
