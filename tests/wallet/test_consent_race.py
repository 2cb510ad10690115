"""Revocation really stops access: many workers using a consent race one revoke (SQLite and PostgreSQL).

Each worker is a thread with its own engine (its own connections, as another process would have).
The property: once the revoke has committed, no use of the consent commits. It is checked three
ways: the number of recorded uses counted right after the revoke is the final number; every
attempt that started after the revoke returned failed; and every success a worker saw is a
recorded use (nothing was presented that is not on record).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from tsunagu.service.database import create_db_engine, create_tables
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


def _uses(engine: object) -> int:
    with Session(engine) as session:  # type: ignore[arg-type]
        return int(session.exec(select(func.count()).select_from(WalletConsentUse)).one())


def test_no_use_commits_after_the_revoke_committed(database_url: str) -> None:
    _seed(database_url)
    successes = threading.Semaphore(0)
    revoked = threading.Event()
    lock = threading.Lock()
    seen: list[tuple[bool, bool]] = []  # (started after the revoke returned, succeeded)
    errors: list[BaseException] = []
    at_revoke: list[int] = []

    def worker() -> None:
        engine = create_db_engine(database_url)
        try:
            after = 0
            while after < AFTER:
                started_after = revoked.is_set()
                with Session(engine) as session:
                    ok = use_consent(session, "c1", now=NOW + timedelta(minutes=1))
                    session.commit()
                with lock:
                    seen.append((started_after, ok))
                if ok:
                    successes.release()
                after += started_after
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
            revoked.set()
        finally:
            engine.dispose()

    def revoker() -> None:
        engine = create_db_engine(database_url)
        try:
            for _ in range(BEFORE):
                assert successes.acquire(timeout=60)
            with Session(engine) as session:
                with pytest.raises(NotFound):
                    revoke(session, "ken", "c1", now=NOW + timedelta(minutes=1))  # not ken's
                row = revoke(session, "mai", "c1", now=NOW + timedelta(minutes=1))
                assert row.status == "revoked"
            at_revoke.append(_uses(engine))
            revoked.set()
        except BaseException as exc:
            errors.append(exc)
            revoked.set()
        finally:
            engine.dispose()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)] + [threading.Thread(target=revoker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []

    engine = create_db_engine(database_url)
    try:
        final = _uses(engine)
        assert at_revoke == [final]  # nothing committed after the revoke did
        assert final == sum(ok for _, ok in seen) >= BEFORE  # every success is on record
        after = [ok for started_after, ok in seen if started_after]
        assert len(after) == WORKERS * AFTER and not any(after)
        with Session(engine) as session:
            consent = session.get(WalletConsent, "c1")
            assert consent is not None and consent.status == "revoked" and consent.use_count == final
            history = [(e.from_status, e.to_status, e.by) for e in session.exec(select(WalletConsentEvent))]
            assert history == [("active", "revoked", "resident")]
    finally:
        engine.dispose()
