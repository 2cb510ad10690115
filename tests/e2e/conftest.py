"""The three services in one test process, configured exactly as ``tsunagu demo`` configures them.

Each app's outbound client routes to the others' ASGI apps (httpx mounts), so every call between
services is a real HTTP exchange over the standards, without sockets. Databases come from the
``database_urls`` fixture: SQLite always, PostgreSQL when it runs (always in CI). The world itself
(movable clocks, recorded wires between the services) is built by :func:`worlds.open_world`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from .worlds import World, open_world

__all__ = ["World"]


@pytest.fixture
async def world(tmp_path: Path, database_urls: dict[str, str]) -> AsyncIterator[World]:
    async with open_world(tmp_path, database_urls) as opened:
        yield opened
