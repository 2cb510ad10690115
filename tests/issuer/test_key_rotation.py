"""Key rotation: a new key signs from now on, and no credential signed before stops verifying.

The JWT VC Issuer Metadata keeps each older key until the last credential (or status list token)
it signed has expired, then drops it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tsunagu import jose
from tsunagu.jwk import parse_jwks
from tsunagu.sd_jwt.holder import decode_sd_jwt
from tsunagu.sd_jwt_vc import issuer_key_resolver, verify_sd_jwt_vc
from tsunagu.status_list import parse_status_claim

from .conftest import ADMIN, EMPLOYER, Clock, Issuer, assert_error, issue, make_settings, running

pytestmark = pytest.mark.anyio


async def published_kids(issuer: Issuer, tenant: str = "employer") -> list[str]:
    metadata = (await issuer.client.get(f"/.well-known/jwt-vc-issuer/{tenant}")).json()
    return [k["kid"] for k in metadata["jwks"]["keys"]]


async def verify_all(issuer: Issuer, *credentials: str) -> None:
    """As a verifier does: the keys from the metadata, nothing else."""
    metadata = (await issuer.client.get("/.well-known/jwt-vc-issuer/employer")).json()
    resolver = issuer_key_resolver(EMPLOYER, parse_jwks(metadata["jwks"]))
    for credential in credentials:
        assert verify_sd_jwt_vc(credential, issuer_key=resolver, kb=None, now=issuer.clock.now).iss == EMPLOYER


def kid_of(credential: str) -> str:
    kid = decode_sd_jwt(credential).header["kid"]
    assert isinstance(kid, str)
    return kid


async def rotate(issuer: Issuer, tenant: str = "employer", body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await issuer.client.post(f"/admin/{tenant}/keys/rotate", json=body if body is not None else {}, headers=ADMIN)
    assert response.status_code == 200, response.text
    rotated: dict[str, Any] = response.json()
    return rotated


async def test_old_and_new_credentials_verify_until_the_old_ones_expire(issuer_any_db: Issuer) -> None:
    issuer = issuer_any_db
    (old,) = await issue(issuer)
    (old_kid,) = await published_kids(issuer)
    assert kid_of(old) == old_kid

    issuer.clock.now += timedelta(days=30)
    rotated = await rotate(issuer)
    new_kid = rotated["kid"]
    assert new_kid != old_kid
    assert [(k["kid"], k["generation"], k["active"], k["published"]) for k in rotated["keys"]] == [
        (new_kid, 2, True, True), (old_kid, 1, False, True),
    ]
    assert rotated["keys"][1]["signed_until"].startswith("2027-11-23T09:00:00")  # the old credential's exp

    (new,) = await issue(issuer)
    assert kid_of(new) == new_kid
    assert await published_kids(issuer) == [new_kid, old_kid]
    await verify_all(issuer, old, new)

    # Just before the old credential expires its key is still there; once it has expired, it is gone.
    old_exp = decode_sd_jwt(old).payload["exp"]
    issuer.clock.now = datetime.fromtimestamp(old_exp - 1, tz=timezone.utc)
    assert await published_kids(issuer) == [new_kid, old_kid]
    await verify_all(issuer, old, new)
    issuer.clock.now += timedelta(seconds=1 + issuer.settings.clock_skew_seconds)
    assert await published_kids(issuer) == [new_kid]
    await verify_all(issuer, new)


async def test_status_list_tokens_are_signed_by_the_new_key_and_keep_the_old_one_published(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, credential_validity_days={"EmploymentCertificate": 1},
                             status_list_token_lifetime_seconds=3 * 24 * 3600)
    async for issuer in running(settings, Clock()):
        (credential,) = await issue(issuer)
        path = parse_status_claim(decode_sd_jwt(credential).payload["status"]).uri.removeprefix("https://issuer.test")
        (old_kid,) = await published_kids(issuer)
        first = (await issuer.client.get(path)).text
        assert jose.parse_compact(first, typ="statuslist+jwt").header["kid"] == old_kid

        issuer.clock.now += timedelta(hours=12)
        new_kid = (await rotate(issuer))["kid"]
        second = (await issuer.client.get(path)).text
        assert jose.parse_compact(second, typ="statuslist+jwt").header["kid"] == new_kid

        # The credential (1 day) has expired, but a verifier may still hold the status list token the
        # old key signed before the rotation (valid 3 days): the key stays published until that expires.
        issuer.clock.now += timedelta(hours=13)
        assert await published_kids(issuer) == [new_kid, old_kid]
        issuer.clock.now += timedelta(hours=47, seconds=issuer.settings.clock_skew_seconds)
        assert await published_kids(issuer) == [new_kid]


async def test_a_key_that_signed_nothing_is_dropped_at_once(issuer: Issuer) -> None:
    (credential,) = await issue(issuer)
    first = kid_of(credential)
    second = (await rotate(issuer))["kid"]
    third = (await rotate(issuer, body={"reason": "second key exposed in a backup"}))["kid"]
    assert await published_kids(issuer) == [third, first]
    assert second not in await published_kids(issuer)
    # Each tenant has its own keys: the others did not rotate.
    assert len(await published_kids(issuer, "tax-office")) == 1


async def test_rotation_is_audited_and_needs_the_admin_key(issuer: Issuer) -> None:
    assert_error(await issuer.client.post("/admin/employer/keys/rotate"), 401, "invalid_token")
    assert_error(await issuer.client.post("/admin/bank/keys/rotate", headers=ADMIN), 404, "not_found")
    for body in ({"reason": ""}, {"kid": "mine"}, None):  # a body is required: no stray empty POST rotates a key
        assert_error(await issuer.client.post("/admin/employer/keys/rotate", json=body, headers=ADMIN), 400, "invalid_request")
    before = await published_kids(issuer)
    rotated = await rotate(issuer)
    assert await published_kids(issuer) == [rotated["kid"]]  # the first key signed nothing yet
    assert before != [rotated["kid"]]

    from sqlmodel import Session, select

    from issuer.tables import IssuerAuditEvent

    with Session(issuer.engine) as session:
        (event,) = session.exec(select(IssuerAuditEvent)).all()
    assert (event.action, event.kid, event.reason, event.actor) == ("rotate_key", rotated["kid"], "scheduled key rotation", "admin API")


async def test_credential_validity_per_configuration(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, credential_validity_days={"EmploymentCertificate": 30})
    async for issuer in running(settings, Clock()):
        (credential,) = await issue(issuer)
        payload = decode_sd_jwt(credential).payload
        assert payload["exp"] - payload["iat"] == 30 * 24 * 3600


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"credential_validity_days": {"Passport": 30}}, id="validity of an unknown configuration"),
        pytest.param({"credential_validity_days": {"EmploymentCertificate": 0}}, id="validity of zero days"),
        pytest.param({"status_list_ttl_seconds": 50_000}, id="ttl over half the token lifetime"),
        pytest.param({"status_list_size": 0}, id="empty status lists"),
    ],
)
def test_settings_that_make_no_sense_are_refused(sqlite_url: str, overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        make_settings(sqlite_url, **overrides)
