"""Revocation really stops access: many workers using a consent race one revoke (SQLite and PostgreSQL).

Each worker is a thread with its own engine (its own connections, as another process would have).
The property: once the revoke has committed, no use of the consent commits. It is checked three
ways: the number of recorded uses counted right after the revoke is the final number; every
attempt that started after the revoke returned failed; and every success a worker saw is a
recorded use (nothing was presented that is not on record).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tsunagu.service.database import create_db_engine, create_tables
from wallet import WalletSettings
from wallet.errors import NotFound
from wallet.services.consents import revoke, use_consent
from wallet.tables import (
    TABLES,
    WalletConsent,
    WalletConsentEvent,
    WalletConsentUse,
    WalletPresentationRequest,
    WalletResident,
)

from .revoke_race import race_revoke

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
WORKERS = 6
#: Uses that must have succeeded before the revoke is sent, so the race is a real one.
BEFORE = 12
#: Attempts each worker makes after the revoke returned.
AFTER = 5


def _seed(database_url: str) -> None:
    engine = create_db_engine(database_url)
    create_tables(engine, TABLES)
    with Session(engine) as session:
        session.add(WalletResident(id="mai", username="mai", password_hash="x", display_name="Mai",
                                   preferred_language="en", created_at=NOW))
        session.add(WalletResident(id="ken", username="ken", password_hash="x", display_name="Ken",
                                   preferred_language="en", created_at=NOW))
        session.flush()
        session.add(WalletPresentationRequest(
            id="r1", resident_id="mai", client_id="x509_hash:abc", verifier_name_en="Bank", verifier_name_ja="銀行",
            response_uri="https://verifier.test/r", nonce="n", dcql_query="{}", registry_iss="https://registry.test",
            status="presented", created_at=NOW, expires_at=NOW + timedelta(minutes=5)))
        session.flush()
        session.add(WalletConsent(
            id="c1", resident_id="mai", request_id="r1", client_id="x509_hash:abc", verifier_name_en="Bank",
            verifier_name_ja="銀行", registry_iss="https://registry.test", claims='{"q": [["annual_income"]]}',
            credentials='{"q": "cred-1"}', granted_at=NOW, expires_at=NOW + timedelta(days=90), status="active",
            access_type="ongoing"))
        session.commit()
    engine.dispose()


def _settings(database_url: str) -> WalletSettings:
    from .conftest import wallet_settings

    return wallet_settings(database_url)


def _uses(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(WalletConsentUse)).one())


def test_no_use_commits_after_the_revoke_committed(database_url: str) -> None:
    _seed(database_url)
    settings = _settings(database_url)
    when = NOW + timedelta(minutes=1)

    def attempt(session: Session) -> bool:
        ok = use_consent(session, "c1", now=when)
        session.commit()
        return ok

    def revoke_it(session: Session) -> None:
        with pytest.raises(NotFound):
            revoke(session, settings, None, "ken", "c1", now=when)  # not ken's
        assert revoke(session, settings, None, "mai", "c1", now=when).status == "revoked"

    outcome = race_revoke(database_url, attempt=attempt, revoke=revoke_it, count=_uses, workers=WORKERS,
                          before=BEFORE, after=AFTER, acquire_timeout=60, join_timeout=120)

    engine = create_db_engine(database_url)
    try:
        final = _uses(engine)
        outcome.assert_revoke_held(final)
        with Session(engine) as session:
            consent = session.get(WalletConsent, "c1")
            assert consent is not None and consent.status == "revoked" and consent.use_count == final
            history = [(e.from_status, e.to_status, e.by) for e in session.exec(select(WalletConsentEvent))]
            assert history == [("active", "revoked", "resident")]
    finally:
        engine.dispose()
