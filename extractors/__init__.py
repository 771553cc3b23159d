"""wiredesk's extraction stage: RawPage -> Extracted.

HTML goes through trafilatura with readability-lxml as a second opinion; plain-text pages
(text as a browser shows it) go through our own line cleaner; both outputs pass the same
furniture rules and the per-host profile. See each module's docstring for the why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wiredesk.core.lazy import lazy_names

if TYPE_CHECKING:
    from .core import extract_page
    from .decoding import decode_page
    from .pool import ExtractPool, PoolBatch, cpu_count, extract_many, profile_host
    from .profile import HostProfile, learn_profile, merge_learned, pages_lines
    from .settings import ExtractSettings
    from .warm import warm_up

# Each name is imported from its module on first use (PEP 562), not with the package: a run
# whose pages go to the extraction pool needs the pool, the settings and the host profiles in
# its own process, never trafilatura, dateparser or the furniture rules (the pool's warm
# process and its workers import those), which were ~0.3-0.4 s of the command's CPU.
_WHERE = {
    "extract_page": ".core",
    "decode_page": ".decoding",
    "ExtractPool": ".pool",
    "PoolBatch": ".pool",
    "cpu_count": ".pool",
    "extract_many": ".pool",
    "profile_host": ".pool",
    "HostProfile": ".profile",
    "learn_profile": ".profile",
    "merge_learned": ".profile",
    "pages_lines": ".profile",
    "ExtractSettings": ".settings",
    "warm_up": ".warm",
}


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

__getattr__, __dir__ = lazy_names(__name__, _WHERE, __all__)
