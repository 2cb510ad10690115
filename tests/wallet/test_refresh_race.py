"""Revocation really stops refreshes: verifier workers refreshing an ongoing consent race one revoke,
through the real refresh service (SQLite and PostgreSQL, each worker a thread with its own engine).

The property, as in test_consent_race.py: once ``revoke()`` has returned, no refresh succeeds; the
number of recorded refreshes right after the revoke is the final number; and every refresh a worker
was answered is a recorded use (nothing was presented that is not on record).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tsunagu.service.database import create_db_engine
from wallet.errors import ConsentRevoked
from wallet.services.consents import revoke
from wallet.services.refreshing import refresh
from wallet.tables import WalletConsent, WalletConsentUse, WalletOutbox

from .conftest import World
from .consent_messages import mai_with_ongoing_consent, refresh_token
from .revoke_race import race_revoke

pytestmark = pytest.mark.anyio

WORKERS = 4
#: Refreshes that must have succeeded before the revoke is sent, so the race is a real one.
BEFORE = 8
#: Attempts each worker makes after the revoke returned.
AFTER = 3


def _refreshes(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(WalletConsentUse)
                                .where(col(WalletConsentUse.kind) == "refresh")).one())


async def test_no_refresh_succeeds_after_the_revoke_returned(world: World) -> None:
    mai, consent = await mai_with_ongoing_consent(world)
    settings, registry = world.wallet_app.state.settings, world.wallet_app.state.registry
    url = settings.database_url
    now = world.clock.now + timedelta(minutes=1)
    (row,) = world.rows(f"SELECT resident_id FROM wallet_consent WHERE id='{consent['id']}'")

    def attempt(session: Session) -> bool:
        token = refresh_token(world, consent["id"], issued_at=now)  # a fresh nonce each time
        try:
            refresh(session, settings, registry, token, now=now)
        except ConsentRevoked:
            return False
        return True

    def revoke_it(session: Session) -> None:
        assert revoke(session, settings, registry, row["resident_id"], consent["id"], now=now).status == "revoked"

    outcome = race_revoke(url, attempt=attempt, revoke=revoke_it, count=_refreshes, workers=WORKERS, before=BEFORE,
                          after=AFTER, acquire_timeout=120, join_timeout=300)

    engine = create_db_engine(url)
    try:
        final = _refreshes(engine)
        outcome.assert_revoke_held(final)
        with Session(engine) as session:
            stored = session.get(WalletConsent, consent["id"])
            assert stored is not None and stored.status == "revoked" and stored.use_count == final + 1
            # The verifier is owed exactly one revocation event, written with the revoke.
            (message,) = session.exec(select(WalletOutbox).where(col(WalletOutbox.consent_id) == consent["id"]))
            assert message.event == "revoked"
    finally:
        engine.dispose()
