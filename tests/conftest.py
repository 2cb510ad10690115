"""Shared fixtures: keys and a fixed clock. Tests pass time in; nothing reads the wall clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest

from tsunagu.jwk import PrivateJwk, generate_key

NOW = datetime(2026, 11, 23, 9, 0, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="session")
def issuer_key() -> PrivateJwk:
    return generate_key("ES256", kid="employer-2026")


@pytest.fixture(scope="session")
def holder_key() -> PrivateJwk:
    return generate_key("ES256")


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def anyio_backend() -> str:
    """Async tests (``@pytest.mark.anyio``) run on asyncio, the loop uvicorn serves the apps on."""
    return "asyncio"


# --- databases ------------------------------------------------------------------------------
# Every service test that touches a database runs on SQLite (always) and on PostgreSQL: a fresh
# database per test, created on the local server and dropped afterwards. On a laptop without
# PostgreSQL those cases skip; in CI (CI=true) a missing server fails them, so they always run there.

POSTGRES_ADMIN_URL = os.environ.get("TSUNAGU_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_available() -> str | None:
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable ({exc.__class__.__name__})"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database for one service; call ``make_database_url(name)`` for more."""
    yield from _database(request.param, tmp_path, "service")


@pytest.fixture
def postgresql_url(tmp_path: Path) -> Iterator[str]:
    """An empty PostgreSQL database, for what only PostgreSQL has."""
    yield from _database("postgresql", tmp_path, "service")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Empty databases for the three services, all on the same backend."""
    backend = request.param
    generators = {name: _database(backend, tmp_path, name) for name in ("issuer", "wallet", "verifier")}
    urls = {name: next(gen) for name, gen in generators.items()}
    yield urls
    for gen in generators.values():
        next(gen, None)


def _database(backend: str, tmp_path: Path, name: str) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/{name}.db"
        return
    problem = _postgres_available()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{problem}; CI must run the PostgreSQL tests")
        pytest.skip(problem)
    db = f"tsunagu_{name}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{db}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
