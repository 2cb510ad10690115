"""No input makes a service answer 500 or 422 (DESIGN.md non-negotiables).

Every POST and PUT route of the three services, configured as the demo is, gets a table of
malformed bodies, with and without credentials; each answer must be a 4xx with the standard's
error JSON (the nonce endpoint, which reads no body, answers as usual).
"""

from __future__ import annotations

import re

import pytest

from .conftest import World

pytestmark = pytest.mark.anyio

HOSTILE_BODIES: list[tuple[str, bytes, str]] = [
    ("empty-json", b"", "application/json"),
    ("truncated-json", b'{"a": ', "application/json"),
    ("json-array", b"[]", "application/json"),
    ("json-null", b"null", "application/json"),
    ("wrong-types", b'{"credential_configuration_id": 7, "claims": [], "uri": {}, "username": null}', "application/json"),
    ("duplicate-members", b'{"a": 1, "a": 2}', "application/json"),
    ("deep-nesting", b"[" * 5000 + b"]" * 5000, "application/json"),
    ("huge-number", b'{"n": 1' + b"0" * 5000 + b"}", "application/json"),
    ("not-utf8", b"\xff\xfe\x00garbage", "application/json"),
    ("form-garbage", b"grant_type=%zz&&&=&proofs=%7B", "application/x-www-form-urlencoded"),
    ("form-vp-token", b"vp_token=%7B%22x%22%3A%5B1%5D%7D&state=nope", "application/x-www-form-urlencoded"),
    ("xml", b"<?xml version='1.0'?><a/>", "application/xml"),
]


def concrete(path: str) -> str:
    tenant = "landlord" if "requests" in path or "responses" in path or "tenants" in path else "employer"
    return re.sub(r"\{[a-z_]+\}", "doesnotexist", path.replace("{tenant}", tenant))


async def test_no_route_answers_500_or_422_to_hostile_bodies(world: World) -> None:
    story = world.story()
    await story.set_up()  # hosted verifiers and a resident exist, so routes get past "unknown tenant"
    resident = {"Authorization": f"Bearer {await story.login()}"}
    for client, name in ((world.issuer, "issuer"), (world.wallet, "wallet"), (world.verifier, "verifier")):
        spec = (await client.get("/openapi.json")).json()
        admin = {"Authorization": f"Bearer {world.deployment.admin_key(name)}"}
        for path, operations in spec["paths"].items():
            for method in operations:
                if method not in ("post", "put"):
                    continue
                for label, body, content_type in HOSTILE_BODIES:
                    for headers in ({}, admin, resident):
                        response = await client.request(
                            method.upper(), concrete(path), content=body,
                            headers={"Content-Type": content_type, **headers},
                        )
                        where = f"{name} {method.upper()} {path} [{label}]"
                        assert response.status_code < 500, f"{where}: {response.status_code} {response.text[:200]}"
                        assert response.status_code != 422, where
                        if response.status_code >= 400:
                            assert "error" in response.json(), f"{where}: {response.text[:200]}"
                        else:  # only the nonce endpoint, which takes no body, may succeed
                            assert path == "/{tenant}/nonce", f"{where}: accepted {response.status_code}"


async def test_a_body_over_the_limit_is_413(world: World) -> None:
    big = b'{"uri": "' + b"x" * (world.deployment.wallet.max_body_bytes + 1) + b'"}'
    response = await world.wallet.post(
        "/presentation-requests", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"
