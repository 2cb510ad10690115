"""Many workers issuing at once over one database never hand out one status list entry twice.

Each thread is a separate worker: its own app, event loop, database engine and connection pool,
and HTTP client; they share only the database, as several ``tsunagu serve issuer`` processes
behind a load balancer do. Lists are small here so that they fill up, and new ones open, while
the workers race.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from issuer.app import create_app
from issuer.services.status_allocation import allocate_status_entries
from issuer.settings import IssuerSettings
from issuer.tables import IssuerCredential, IssuerStatusList
from tsunagu import oid4vci
from tsunagu.jwk import generate_key
from tsunagu.sd_jwt.holder import decode_sd_jwt
from tsunagu.service.database import create_db_engine
from tsunagu.status_list import parse_status_claim

from .conftest import ADMIN, BASE, EMPLOYER, EMPLOYMENT_CLAIMS, NOW, Clock, make_settings

WORKERS = 6
ROUNDS = 3
BATCH = 3
LIST_SIZE = 16


@pytest.fixture
def workers(database_url: str) -> Iterator[list[FastAPI]]:
    settings = make_settings(database_url, status_list_size=LIST_SIZE)
    apps = [create_app(settings, clock=Clock()) for _ in range(WORKERS)]
    for app in apps:
        # FastAPI builds each route's parameters lazily, when a request is first matched against it;
        # do that for every route, one worker at a time (the route signatures' annotations are shared
        # objects, and pydantic warns when two threads build them at once), so the race is the database's.
        asyncio.run(warm_up(app))
    try:
        yield apps
    finally:
        for app in apps:
            app.state.engine.dispose()


async def warm_up(app: FastAPI) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE) as client:
        assert (await client.get("/admin/employer/credentials", headers=ADMIN)).status_code == 200
        # A path no route matches is tried against every route, which builds them all.
        assert (await client.get("/no/route/matches/this")).status_code == 404


async def issue_batches(app: FastAPI) -> list[str]:
    """What one wallet after another does at this worker: offer, token, nonce, a batch of credentials."""
    issued: list[str] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE) as client:
        for _ in range(ROUNDS):
            body = {"credential_configuration_id": "EmploymentCertificate", "subject": "employee", "claims": EMPLOYMENT_CLAIMS}
            offer = (await client.post("/admin/employer/offers", json=body, headers=ADMIN)).json()
            code = offer["credential_offer"]["grants"][oid4vci.PRE_AUTHORIZED_CODE_GRANT]["pre-authorized_code"]
            token = (await client.post("/employer/token", data=oid4vci.build_token_request(code))).json()["access_token"]
            nonce = (await client.post("/employer/nonce")).json()["c_nonce"]
            proofs = [oid4vci.build_proof_jwt(generate_key("ES256"), audience=EMPLOYER, nonce=nonce, iat=NOW) for _ in range(BATCH)]
            request = oid4vci.build_credential_request(credential_configuration_id="EmploymentCertificate", proofs=proofs)
            response = await client.post("/employer/credential", json=request, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200, response.text
            issued += [c["credential"] for c in response.json()["credentials"]]
    return issued


def test_concurrent_issuance_never_shares_an_entry(workers: list[FastAPI]) -> None:
    start = threading.Barrier(WORKERS)
    failures: list[str] = []
    results: list[list[str]] = [[] for _ in workers]

    def run(i: int) -> None:
        try:
            start.wait()
            results[i] = asyncio.run(issue_batches(workers[i]))
        except Exception as exc:  # noqa: BLE001 - reported by the test, not lost in a thread
            failures.append(repr(exc))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []

    refs = [parse_status_claim(decode_sd_jwt(c).payload["status"]) for batch in results for c in batch]
    total = WORKERS * ROUNDS * BATCH
    assert len(refs) == total
    entries = [(r.uri, r.idx) for r in refs]
    assert len(set(entries)) == total, [e for e, n in Counter(entries).items() if n > 1]
    per_list = Counter(r.uri for r in refs)
    # A list is opened only when the one before is full: 54 credentials fill 3 lists of 16 and start a 4th.
    assert per_list == {f"{EMPLOYER}/status-lists/{n}": LIST_SIZE for n in (1, 2, 3)} | {f"{EMPLOYER}/status-lists/4": total - 3 * LIST_SIZE}
    for n in (1, 2, 3):
        assert sorted(r.idx for r in refs if r.uri.endswith(f"/{n}")) == list(range(LIST_SIZE))

    # What the credentials say is what the issuer recorded.
    with Session(workers[0].state.engine) as session:
        recorded = {(f"{EMPLOYER}/status-lists/{row.status_list}", row.status_idx) for row in session.exec(select(IssuerCredential))}
        allocated = {row.list_number: row.allocated for row in session.exec(select(IssuerStatusList))}
    assert recorded == set(entries)
    assert allocated == {1: 16, 2: 16, 3: 16, 4: total - 48}


def test_allocation_from_many_engines_at_once(database_url: str) -> None:
    """The allocator alone, hammered: every thread its own engine, committing entry after entry."""
    settings: IssuerSettings = make_settings(database_url, status_list_size=32)
    create_app(settings).state.engine.dispose()  # the tables
    start = threading.Barrier(8)
    taken: list[tuple[int, int]] = []
    lock = threading.Lock()
    failures: list[str] = []

    def run() -> None:
        engine = create_db_engine(settings.database_url)
        try:
            start.wait()
            with Session(engine) as session:
                for _ in range(12):
                    for _attempt in range(20):
                        try:
                            (entry,) = allocate_status_entries(session, settings, "employer", 1, now=NOW)
                            session.commit()
                            break
                        except IntegrityError:  # a lost race to open the next list: retry, as issuance does
                            session.rollback()
                    else:
                        failures.append("no entry after 20 attempts")
                        return
                    with lock:
                        taken.append((entry.list_number, entry.idx))
        except Exception as exc:  # noqa: BLE001
            failures.append(repr(exc))
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    assert len(taken) == 96 and len(set(taken)) == 96
    assert sorted(taken) == [(n, i) for n in (1, 2, 3) for i in range(32)]
