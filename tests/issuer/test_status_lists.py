"""Revocation and suspension as a verifier sees them: status entries, status list tokens, HTTP caching, the audit log."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from issuer.tables import IssuerAuditEvent
from tsunagu import jose
from tsunagu.jwk import PublicJwk, parse_jwks, select_key
from tsunagu.sd_jwt.holder import decode_sd_jwt
from tsunagu.status_list import (
    INVALID,
    SUSPENDED,
    VALID,
    StatusListToken,
    StatusReference,
    parse_status_claim,
    verify_status_list_token,
)

from .conftest import ADMIN, BASE, EMPLOYER, Clock, Issuer, assert_error, issue, make_settings, running

pytestmark = pytest.mark.anyio

MAX_BYTES = 1 << 20


def reference(credential: str) -> StatusReference:
    return parse_status_claim(decode_sd_jwt(credential).payload["status"])


async def metadata_keys(issuer: Issuer, tenant: str = "employer") -> tuple[PublicJwk, ...]:
    return parse_jwks((await issuer.client.get(f"/.well-known/jwt-vc-issuer/{tenant}")).json()["jwks"])


async def fetch(issuer: Issuer, uri: str, **headers: str) -> httpx.Response:
    assert uri.startswith(BASE)
    return await issuer.client.get(uri.removeprefix(BASE), headers=headers)


async def read_status_list(issuer: Issuer, uri: str) -> StatusListToken:
    """What a verifier does: fetch the token at ``uri`` and verify it with the issuer's published key."""
    response = await fetch(issuer, uri)
    assert response.status_code == 200, response.text
    keys = await metadata_keys(issuer)

    def resolver(header: Mapping[str, Any], _payload: Mapping[str, Any]) -> PublicJwk:
        key = select_key(keys, kid=header.get("kid"), alg=header.get("alg"))
        assert key is not None
        return key

    return verify_status_list_token(response.text, key=resolver, expected_sub=uri, now=issuer.clock.now, max_bytes=MAX_BYTES)


async def credential_id(issuer: Issuer, credential: str) -> str:
    """The admin's id of a credential, found as an admin would: by subject, then by its status entry."""
    ref = reference(credential)
    listed = (await issuer.client.get("/admin/employer/credentials", headers=ADMIN)).json()["credentials"]
    (match,) = [c for c in listed if c["status_list"] == {"idx": ref.idx, "uri": ref.uri}]
    return str(match["id"])


async def change(issuer: Issuer, action: str, cred_id: str, reason: str = "a reason", tenant: str = "employer",
                 **headers: str) -> httpx.Response:
    return await issuer.client.post(f"/admin/{tenant}/credentials/{cred_id}/{action}", json={"reason": reason},
                                    headers={**ADMIN, **headers})


async def test_every_credential_has_an_entry_that_reads_valid(issuer_any_db: Issuer) -> None:
    issuer = issuer_any_db
    credentials = await issue(issuer, 3)
    refs = [reference(c) for c in credentials]
    assert {r.uri for r in refs} == {f"{EMPLOYER}/status-lists/1"}
    assert len({r.idx for r in refs}) == 3
    assert all(0 <= r.idx < 131_072 for r in refs)

    response = await fetch(issuer, refs[0].uri)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/statuslist+jwt"
    assert response.headers["cache-control"] == "max-age=300"
    etag = response.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    header = jose.parse_compact(response.text, typ="statuslist+jwt").header
    keys = await metadata_keys(issuer)
    assert header["kid"] in {k.kid for k in keys}

    token = await read_status_list(issuer, refs[0].uri)
    assert token.sub == refs[0].uri
    assert token.iat == issuer.clock.now
    assert token.exp == issuer.clock.now + timedelta(hours=24)
    assert token.ttl == 300
    assert token.status_list.bits == 2
    assert token.status_list.size == 131_072
    assert [token.status_list.get(r.idx) for r in refs] == [VALID, VALID, VALID]
    assert token.status_list.non_valid() == {}


async def test_revoke_suspend_reinstate_reach_the_next_token(issuer_any_db: Issuer) -> None:
    issuer = issuer_any_db
    # Three residents' credentials (three issuances), each changed on its own.
    (first,), (second,), (third,) = [await issue(issuer, 1, subject=f"employee {n}") for n in (1, 2, 3)]
    uri = reference(first).uri
    before = await fetch(issuer, uri)
    ids = [await credential_id(issuer, c) for c in (first, second, third)]

    revoked = await change(issuer, "revoke", ids[0], "employment ended on 2026-11-30")
    assert revoked.status_code == 200, revoked.text
    assert (revoked.json()["id"], revoked.json()["status"]) == (ids[0], "revoked")
    suspended = await change(issuer, "suspend", ids[1], "salary figure under review")
    assert suspended.json()["status"] == "suspended"

    after = await fetch(issuer, uri)
    assert after.headers["etag"] != before.headers["etag"]
    token = await read_status_list(issuer, uri)
    assert token.status_list.non_valid() == {reference(first).idx: INVALID, reference(second).idx: SUSPENDED}

    reinstated = await change(issuer, "reinstate", ids[1], "review done: figure correct")
    assert reinstated.json()["status"] == "valid"
    token = await read_status_list(issuer, uri)
    assert token.status_list.non_valid() == {reference(first).idx: INVALID}
    assert token.status_list.get(reference(third).idx) == VALID

    listed = {c["id"]: c["status"] for c in (await issuer.client.get("/admin/employer/credentials", headers=ADMIN)).json()["credentials"]}
    assert listed == {ids[0]: "revoked", ids[1]: "valid", ids[2]: "valid"}


async def test_a_change_reaches_every_copy_of_a_batch(issuer_any_db: Issuer) -> None:
    """Batch copies (one per holder key, so verifiers cannot link them) are one credential to the employer."""
    issuer = issuer_any_db
    copies = await issue(issuer, 3)
    (other,) = await issue(issuer, 1, subject="employee 4712")
    revoked = await change(issuer, "revoke", await credential_id(issuer, copies[1]), "employment ended on 2026-11-30")
    assert revoked.status_code == 200, revoked.text
    token = await read_status_list(issuer, reference(copies[0]).uri)
    assert {reference(c).idx for c in copies} == set(token.status_list.non_valid())
    assert token.status_list.get(reference(other).idx) == VALID


@pytest.mark.parametrize(
    ("history", "action", "error_code"),
    [
        pytest.param(["revoke"], "reinstate", "revoked", id="revoked cannot be reinstated"),
        pytest.param(["revoke"], "suspend", "revoked", id="revoked cannot be suspended"),
        pytest.param(["revoke"], "revoke", "revoked", id="revoked twice"),
        pytest.param(["suspend", "revoke"], "reinstate", "revoked", id="suspended then revoked stays revoked"),
        pytest.param(["suspend"], "suspend", "already suspended", id="suspended twice"),
        pytest.param([], "reinstate", "already valid", id="reinstating a valid credential"),
    ],
)
async def test_changes_that_cannot_be_made_are_conflicts(issuer: Issuer, history: list[str], action: str, error_code: str) -> None:
    (credential,) = await issue(issuer)
    cred_id = await credential_id(issuer, credential)
    for step in history:
        assert (await change(issuer, step, cred_id)).status_code == 200
    uri = reference(credential).uri
    etag = (await fetch(issuer, uri)).headers["etag"]

    response = await change(issuer, action, cred_id)
    description = assert_error(response, 409, "conflict")
    assert error_code in description
    # Nothing changed: the same token is served, and the entry says what it said.
    assert (await fetch(issuer, uri)).headers["etag"] == etag
    expected = INVALID if "revoke" in history else (SUSPENDED if history == ["suspend"] else VALID)
    assert (await read_status_list(issuer, uri)).status_list.get(reference(credential).idx) == expected


async def test_revocation_is_final_and_says_since_when(issuer: Issuer) -> None:
    (credential,) = await issue(issuer)
    cred_id = await credential_id(issuer, credential)
    await change(issuer, "revoke", cred_id)
    description = assert_error(await change(issuer, "reinstate", cred_id), 409, "conflict")
    assert description == "this credential was revoked on 2026-11-23; revocation is final and cannot be undone"


async def test_unknown_credentials_are_not_found(issuer: Issuer) -> None:
    (credential,) = await issue(issuer)
    cred_id = await credential_id(issuer, credential)
    for tenant, target in (("employer", "0" * 32), ("employer", "x" * 300), ("tax-office", cred_id)):
        assert_error(await change(issuer, "revoke", target, tenant=tenant), 404, "not_found")
        assert_error(await issuer.client.get(f"/admin/{tenant}/credentials/{target}", headers=ADMIN), 404, "not_found")
    assert_error(await change(issuer, "revoke", cred_id, tenant="bank"), 404, "not_found")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="no reason"),
        pytest.param({"reason": ""}, id="empty reason"),
        pytest.param({"reason": "x" * 1001}, id="reason too long"),
        pytest.param({"reason": 7}, id="reason not a string"),
        pytest.param({"reason": "r", "status": 1}, id="unknown field"),
    ],
)
async def test_a_change_needs_a_reason(issuer: Issuer, body: dict[str, Any]) -> None:
    (credential,) = await issue(issuer)
    cred_id = await credential_id(issuer, credential)
    response = await issuer.client.post(f"/admin/employer/credentials/{cred_id}/revoke", json=body, headers=ADMIN)
    assert_error(response, 400, "invalid_request")
    assert (await issuer.client.get(f"/admin/employer/credentials/{cred_id}", headers=ADMIN)).json()["status"] == "valid"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/employer/credentials"),
        ("GET", "/admin/employer/credentials/abc"),
        ("POST", "/admin/employer/credentials/abc/revoke"),
        ("POST", "/admin/employer/credentials/abc/suspend"),
        ("POST", "/admin/employer/credentials/abc/reinstate"),
        ("POST", "/admin/employer/keys/rotate"),
    ],
)
async def test_admin_key_required(issuer: Issuer, method: str, path: str) -> None:
    response = await issuer.client.request(method, path, json={"reason": "r"}, headers={"Authorization": "Bearer wrong"})
    assert_error(response, 401, "invalid_token")


async def test_audit_log_keeps_who_and_why_and_the_token_does_not(issuer_any_db: Issuer) -> None:
    issuer = issuer_any_db
    (credential,) = await issue(issuer)
    cred_id = await credential_id(issuer, credential)
    reason = "employment ended 2026-11-30; resignation letter #4711"
    await change(issuer, "suspend", cred_id, "payroll check", **{"X-Tsunagu-Actor": "hr-tanaka"})
    issuer.clock.now += timedelta(hours=2)
    await change(issuer, "revoke", cred_id, reason)

    detail = (await issuer.client.get(f"/admin/employer/credentials/{cred_id}", headers=ADMIN)).json()
    assert detail["status"] == "revoked"
    assert detail["status_changed_at"].startswith("2026-11-23T11:00:00")
    assert [(e["action"], e["from_status"], e["to_status"], e["reason"], e["actor"], e["at"][:19]) for e in detail["history"]] == [
        ("suspend", "valid", "suspended", "payroll check", "admin API (hr-tanaka)", "2026-11-23T09:00:00"),
        ("revoke", "suspended", "revoked", reason, "admin API", "2026-11-23T11:00:00"),
    ]
    with Session(issuer.engine) as session:
        stored = session.exec(select(IssuerAuditEvent.reason).where(IssuerAuditEvent.credential_id == cred_id)).all()
    assert sorted(stored) == sorted(["payroll check", reason])

    response = await fetch(issuer, reference(credential).uri)
    payload = json.dumps(jose.parse_compact(response.text, typ="statuslist+jwt").payload)
    published = response.text + payload + (await issuer.client.get("/.well-known/jwt-vc-issuer/employer")).text
    assert "resignation" not in published and "payroll" not in published and "tanaka" not in published
    assert set(jose.parse_compact(response.text, typ="statuslist+jwt").payload) == {"sub", "iat", "exp", "ttl", "status_list"}


async def test_etag_if_none_match_and_cache_control(issuer: Issuer) -> None:
    (credential,) = await issue(issuer)
    uri = reference(credential).uri
    first = await fetch(issuer, uri)
    etag = first.headers["etag"]

    for header in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        not_modified = await fetch(issuer, uri, **{"If-None-Match": header})
        assert not_modified.status_code == 304, header
        assert not_modified.content == b""
        assert (not_modified.headers["etag"], not_modified.headers["cache-control"]) == (etag, "max-age=300")
    assert (await fetch(issuer, uri, **{"If-None-Match": '"other"'})).status_code == 200

    # Repeated requests get the very same token: it is signed once per version, not per request.
    issuer.clock.now += timedelta(hours=1)
    again = await fetch(issuer, uri)
    assert (again.text, again.headers["etag"]) == (first.text, etag)

    await change(issuer, "revoke", await credential_id(issuer, credential))
    changed = await fetch(issuer, uri, **{"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert (await fetch(issuer, uri, **{"If-None-Match": changed.headers["etag"]})).status_code == 304


async def test_token_is_re_signed_at_half_its_lifetime(issuer: Issuer) -> None:
    (credential,) = await issue(issuer)
    uri = reference(credential).uri
    first = await read_status_list(issuer, uri)
    issuer.clock.now += timedelta(hours=11, minutes=59)
    assert (await read_status_list(issuer, uri)).iat == first.iat
    issuer.clock.now += timedelta(minutes=1)
    renewed = await read_status_list(issuer, uri)
    assert renewed.iat == issuer.clock.now
    assert renewed.exp == issuer.clock.now + timedelta(hours=24)


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        ("/employer/status-lists/2", 404, "not_found"),
        ("/tax-office/status-lists/1", 404, "not_found"),
        ("/bank/status-lists/1", 404, "not_found"),
        ("/employer/status-lists/0", 400, "invalid_request"),
        ("/employer/status-lists/-1", 400, "invalid_request"),
        ("/employer/status-lists/one", 400, "invalid_request"),
        ("/employer/status-lists/99999999999999999999", 400, "invalid_request"),
    ],
)
async def test_status_lists_that_do_not_exist(issuer: Issuer, path: str, status: int, error: str) -> None:
    await issue(issuer)
    assert_error(await issuer.client.get(path), status, error)


async def test_indices_are_random_not_in_issuance_order(issuer: Issuer) -> None:
    indices = []
    for _ in range(4):
        indices += [reference(c).idx for c in await issue(issuer, 3)]
    assert len(set(indices)) == 12
    # In issuance order they would climb one by one; twelve random picks from 131,072 do not
    # (the chance that they happen to be increasing is 1 in 12!, that they sit within 12 of each other far less).
    assert indices != sorted(indices)
    assert max(indices) - min(indices) > 12


async def test_a_full_list_rolls_over_to_the_next(sqlite_url: str) -> None:
    async for issuer in running(make_settings(sqlite_url, status_list_size=8), Clock()):
        first = [reference(c) for c in await issue(issuer, 5) + await issue(issuer, 3)]
        assert {r.uri for r in first} == {f"{EMPLOYER}/status-lists/1"}
        assert sorted(r.idx for r in first) == list(range(8))  # every entry used once, none twice
        second = [reference(c) for c in await issue(issuer, 2)]
        assert {r.uri for r in second} == {f"{EMPLOYER}/status-lists/2"}
        assert len({r.idx for r in second}) == 2

        token = await read_status_list(issuer, second[0].uri)
        assert token.status_list.size == 8
        listed = (await issuer.client.get("/admin/employer/credentials", headers=ADMIN)).json()["credentials"]
        revoke_id = next(c["id"] for c in listed if c["status_list"] == {"idx": second[0].idx, "uri": second[0].uri})
        await change(issuer, "revoke", revoke_id)
        # Only list 2 changed (both copies of that batch are revoked together).
        assert (await read_status_list(issuer, second[0].uri)).status_list.non_valid() == {
            r.idx: INVALID for r in second
        }
        assert (await read_status_list(issuer, first[0].uri)).status_list.non_valid() == {}


async def test_credentials_are_looked_up_by_subject_and_type(issuer: Issuer) -> None:
    await issue(issuer, 2, subject="employee 4711")
    issuer.clock.now += timedelta(minutes=1)
    await issue(issuer, 1, subject="employee 4712")

    async def listed(**params: str) -> list[dict[str, Any]]:
        response = await issuer.client.get("/admin/employer/credentials", params=params, headers=ADMIN)
        assert response.status_code == 200, response.text
        credentials: list[dict[str, Any]] = response.json()["credentials"]
        return credentials

    everything = await listed()
    assert [c["subject"] for c in everything] == ["employee 4712", "employee 4711", "employee 4711"]  # newest first
    assert len(await listed(subject="employee 4711")) == 2
    assert await listed(subject="employee 9999") == []
    assert len(await listed(vct="urn:tsunagu:vct:employment-certificate:1", subject="employee 4712")) == 1
    assert await listed(vct="urn:tsunagu:vct:residence-card:1") == []
    assert len(await listed(limit="1")) == 1
    one = everything[0]
    assert set(one) == {"id", "subject", "credential_configuration_id", "vct", "status", "expired", "iat", "exp",
                        "status_list", "signing_kid", "status_changed_at"}
    assert (one["status"], one["expired"], one["status_changed_at"]) == ("valid", False, None)
    assert one["exp"].startswith("2027-11-23T09:01:00")
    # Another tenant sees none of them.
    assert (await issuer.client.get("/admin/tax-office/credentials", headers=ADMIN)).json() == {"credentials": []}
    assert_error(await issuer.client.get("/admin/employer/credentials", params={"limit": "0"}, headers=ADMIN), 400, "invalid_request")

    issuer.clock.now += timedelta(days=366)
    assert [c["expired"] for c in await listed()] == [True, True, True]
