"""URL rules shared by the protocol modules and the services: which hosts count as loopback.

Plain ``http`` is allowed only towards a loopback host, and only where a caller asks for it (the
demo runs every party on one machine); everywhere else identifiers and endpoints are ``https``.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

__all__ = ["LOOPBACK_HOSTS", "is_loopback_host", "is_loopback_url"]

#: Host names as ``urlsplit(...).hostname`` gives them (lower case, IPv6 without brackets).
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})


def is_loopback_host(host: str | None) -> bool:
    return host is not None and host.lower() in LOOPBACK_HOSTS


def is_loopback_url(url: str) -> bool:
    """True for ``http(s)://127.0.0.1...``, ``localhost`` and ``[::1]``: the only hosts where plain http is allowed."""
    return is_loopback_host(urlsplit(url).hostname)
