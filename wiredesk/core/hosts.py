"""One host key for every stage: which site a URL belongs to.

Politeness, per-host extraction profiles, dedup's host furniture and the outlet shown for a
cluster all ask "which site is this?". Two sites served from one address on different
ports are different sites (a test web on 127.0.0.2, or a real host with a staging copy on
:8080): dropping the port made them learn each other's text as furniture. So the key keeps
the port unless it is the scheme's default, and drops only what never names another site:
case, a trailing dot, a leading ``www.``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def host_key(url: str | None) -> str | None:
    """``example.com``, ``127.0.0.2:8001``, ``[::1]:8080``; None when the URL has no host.

    A bare host (``example.com:8001``, no scheme) is read as an http URL.
    """
    if not url:
        return None
    try:
        parts = urlsplit(url.strip() if "//" in url else "//" + url.strip())
        host = parts.hostname
        port = parts.port
    except ValueError:  # an invalid port or IPv6 literal
        return None
    if not host:
        return None
    host = host.rstrip(".").lower().removeprefix("www.")
    if not host or any(c.isspace() for c in host):  # "not a url" is no host
        return None
    if ":" in host:
        host = f"[{host}]"
    scheme = parts.scheme.lower() or "http"
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        return f"{host}:{port}"
    return host
