"""Shared fixtures: keys and a fixed clock. Tests pass time in; nothing reads the wall clock."""

from __future__ import annotations

from datetime import datetime, timezone

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
