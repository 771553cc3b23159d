"""Passwords out of everything printed: ``postgresql://u:secret@db/x`` -> ``postgresql://u:***@db/x``."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# scheme://user:password@ — the password ends at the last "@" before the host part.
_CREDENTIALS = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)(?P<password>[^\s/@]*(?:@[^\s/@]*)*)(?=@)")


def redact_url(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``."""
    return _CREDENTIALS.sub(lambda m: m.group("head") + "***", text)


def has_password(url: str) -> bool:
    try:
        return bool(urlsplit(url).password)
    except ValueError:
        return False
