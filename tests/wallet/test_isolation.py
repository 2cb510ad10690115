"""One resident never sees or touches another's data; what is stored holds no readable claim or key."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session

from tsunagu.sealing import SealedValueInvalid
from wallet.services.holdings import open_copy
from wallet.tables import WalletCredentialCopy

from .conftest import EMPLOYMENT_CLAIMS, World, assert_error

pytestmark = pytest.mark.anyio


async def test_resident_b_gets_404_for_everything_of_resident_a(world: World) -> None:
    mai, ken = await world.resident("mai"), await world.resident("ken")
    credential = await world.receive(mai)
    shown = await world.show(mai, await world.ask())
    pending = await world.show(mai, await world.ask())
    presented = (await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=mai, json={})).json()
    (consent,) = (await world.wallet.get("/consents", headers=mai)).json()

    for path in (f"/credentials/{credential['id']}", f"/presentation-requests/{pending['id']}",
                 f"/consents/{consent['id']}", f"/presentations/{presented['id']}"):
        assert_error(await world.wallet.get(path, headers=ken), 404, "not_found")
    for action, body in (("approve", {"credentials": {"employment": credential["id"]}}),
                         ("decline", {"reason": "outside_registered_purpose"})):
        response = await world.wallet.post(f"/presentation-requests/{pending['id']}/{action}", headers=ken,
                                           json=body)
        assert_error(response, 404, "not_found")
    for path in ("/credentials", "/presentation-requests", "/consents", "/presentations"):
        assert (await world.wallet.get(path, headers=ken)).json() == []

    # Ken cannot present Mai's credential in answer to his own request either.
    kens = await world.show(ken, await world.ask())
    assert kens["credential_queries"][0]["candidates"] == [] and kens["satisfiable"] is False
    response = await world.wallet.post(f"/presentation-requests/{kens['id']}/approve", headers=ken,
                                       json={"credentials": {"employment": credential["id"]}})
    assert_error(response, 400, "invalid_request")

    # Mai's pending request is untouched by Ken's attempts.
    assert (await world.wallet.get(f"/presentation-requests/{pending['id']}", headers=mai)).json()["status"] == "pending"
    assert (await world.wallet.get(f"/credentials/{credential['id']}", headers=mai)).json()["copies_left"] == 2


async def test_stored_rows_hold_no_plaintext_claim_or_key(world: World) -> None:
    mai = await world.resident("mai")
    await world.receive(mai)
    shown = await world.show(mai, await world.ask())
    assert (await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=mai, json={})).json()[
        "status"] == "sent"

    dumped = json.dumps([world.rows(f"SELECT * FROM {table}") for table in (
        "wallet_credential", "wallet_credential_copy", "wallet_presentation_request", "wallet_consent",
        "wallet_presentation")], default=str, ensure_ascii=False)
    copies = world.rows("SELECT * FROM wallet_credential_copy")
    assert len(copies) == 3
    for value in EMPLOYMENT_CLAIMS.values():
        assert str(value) not in dumped
    assert '"d"' not in dumped and "~" not in dumped  # no private JWK member, no SD-JWT serialization
    assert all(c["sealed_credential"].startswith("v1.") and c["sealed_holder_key"].startswith("v1.") for c in copies)

    # A sealed value is bound to its row and resident: moved to another copy, it does not open.
    with Session(world.wallet_app.state.engine) as session:
        first, second = (session.get(WalletCredentialCopy, c["id"]) for c in copies[:2])
        assert first is not None and second is not None
        credential, key = open_copy(world.wallet_app.state.settings, first)
        assert credential.count("~") >= 2 and key.public.thumbprint()
        second.sealed_credential = first.sealed_credential
        with pytest.raises(SealedValueInvalid):
            open_copy(world.wallet_app.state.settings, second)
        second.resident_id = "someone-else"
        second.sealed_credential, second.sealed_holder_key = first.sealed_credential, first.sealed_holder_key
        second.id = first.id
        with pytest.raises(SealedValueInvalid):
            open_copy(world.wallet_app.state.settings, second)
        session.rollback()
