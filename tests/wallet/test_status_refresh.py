"""``services.status.refresh_statuses`` against status lists the test controls (a fake kit source).

What the issuer's list says is applied only forward: an older list (a cache elsewhere) never undoes a
newer one, a value the wallet does not know is shown as such, and an index outside the list is a
failed check, not a status.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete
from sqlmodel import Session

from tsunagu.errors import StatusListSignatureInvalid
from tsunagu.status_list import StatusList, StatusListToken
from wallet.services.status import refresh_statuses, status_states
from wallet.tables import WalletCredential, WalletCredentialStatus

from .conftest import World

pytestmark = pytest.mark.anyio


class Lists:
    """Answers every status list URI with the list the test set (or raises what it set)."""

    def __init__(self, iat: datetime) -> None:
        #: Every entry of every list has this value (2 bits).
        self.value = 0
        self.iat = iat
        self.error: Exception | None = None
        self.asked: list[str] = []

    async def status_list(self, iss: str, uri: str) -> StatusListToken:
        self.asked.append(uri)
        if self.error is not None:
            raise self.error
        entries = bytes([self.value * 0b01010101]) * (SIZE // 4)
        return StatusListToken(sub=uri, iat=self.iat, exp=None, ttl=300, status_list=StatusList(entries, 2))


#: The issuer's list size in this world (its default): every index it hands out is below it.
SIZE = 131_072


async def _setup(world: World) -> tuple[dict[str, str], dict[str, Any]]:
    mai = await world.resident()
    return mai, await world.receive(mai)


def _refresh(world: World, lists: Lists, credential_id: str) -> Any:
    async def run() -> Any:
        with Session(world.wallet_app.state.engine) as session:
            row = session.get(WalletCredential, credential_id)
            assert row is not None
            report = await refresh_statuses(session, world.wallet_app.state.settings, lists, [row],
                                            now=world.clock.now)
            return report, status_states(session, [row], now=world.clock.now)[credential_id]
    return run()


async def test_an_older_list_never_undoes_a_newer_one(world: World) -> None:
    mai, credential = await _setup(world)
    lists = Lists(world.clock.now)
    lists.value = 1
    report, state = await _refresh(world, lists, credential["id"])
    assert state.status == "revoked" and report.changed == (credential["id"],)

    lists.value, lists.iat = 0, world.clock.now - timedelta(hours=1)  # a stale cached copy says valid
    report, state = await _refresh(world, lists, credential["id"])
    assert state.status == "revoked" and report.changed == ()
    events = (await world.wallet.get("/events", headers=mai)).json()
    assert [e["kind"] for e in events] == ["credential_revoked"]


@pytest.mark.parametrize(("value", "status", "event"), [
    (0, "valid", []),
    (1, "revoked", ["credential_revoked"]),
    (2, "suspended", ["credential_suspended"]),
    (3, "unknown", ["credential_status_unknown"]),  # Token Status List §7.1: application-specific
])
async def test_each_status_value(world: World, value: int, status: str, event: list[str]) -> None:
    mai, credential = await _setup(world)
    lists = Lists(world.clock.now)
    lists.value = value
    _, state = await _refresh(world, lists, credential["id"])
    assert (state.status, state.presentable) == (status, status in ("valid", "unknown"))
    events = (await world.wallet.get("/events", headers=mai)).json()
    assert [e["kind"] for e in events] == event
    shown = (await world.wallet.get("/credentials", headers=mai)).json()[0]
    assert shown["status"] == status
    if value == 3:
        assert "0x03" in shown["status_text"]["en"]


@pytest.mark.parametrize(("problem", "reason"), [
    ("index", "outside the status list"),  # an entry the list does not have: no statement (§8.3 step 6)
    ("signature", "signature does not verify"),
])
async def test_a_list_that_cannot_answer_is_a_failed_check(world: World, problem: str, reason: str) -> None:
    mai, credential = await _setup(world)
    lists = Lists(world.clock.now)
    _, state = await _refresh(world, lists, credential["id"])
    assert state.status == "valid"
    lists.value = 1
    if problem == "signature":
        lists.error = StatusListSignatureInvalid("the status list token's signature does not verify")
    else:
        with Session(world.wallet_app.state.engine) as session:
            row = session.get(WalletCredentialStatus, credential["id"])
            assert row is not None
            row.references = json.dumps([{**r, "idx": SIZE + r["idx"]} for r in json.loads(row.references)])
            session.add(row)
            session.commit()
    report, state = await _refresh(world, lists, credential["id"])
    assert (report.checked, report.failed) == (0, 1)
    assert state.status == "valid" and state.check_error is not None and reason in state.check_error
    assert (await world.wallet.get("/events", headers=mai)).json() == []
    shown = (await world.wallet.get("/credentials", headers=mai)).json()[0]
    assert shown["status"] == "valid" and shown["status_check"]["failed"] is True


async def test_copies_share_one_fetch_and_a_credential_from_before_status_checks_gains_one(world: World) -> None:
    mai, credential = await _setup(world)
    with Session(world.wallet_app.state.engine) as session:  # as a database from before issue #4 would be
        session.execute(delete(WalletCredentialStatus))
        session.commit()
    lists = Lists(world.clock.now)
    _, state = await _refresh(world, lists, credential["id"])
    assert state.status == "valid" and state.checkable
    assert len(lists.asked) == 1  # three copies, three entries, one list
    with Session(world.wallet_app.state.engine) as session:
        row = session.get(WalletCredentialStatus, credential["id"])
        assert row is not None and row.references.count('"idx"') == 3
