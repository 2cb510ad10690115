"""Status list tokens served by our issuer, read by the npm package @sd-jwt/jwt-status-list (pinned).

The issuer compresses its lists in segments (so republishing after a change is cheap); an
independent reader must find exactly the statuses the issuer's admin set, and the signature must
verify with the key the issuer publishes in its JWT VC Issuer Metadata.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tsunagu import jose
from tsunagu.sd_jwt.holder import decode_sd_jwt
from tsunagu.status_list import INVALID, SUSPENDED, TYP_STATUSLIST_JWT, StatusReference, parse_status_claim

from ..issuer.conftest import ADMIN, BASE, Clock, Issuer, issue, make_settings, running
from .node import run_node

pytestmark = [pytest.mark.interop, pytest.mark.anyio]

SCRIPT = "status_list.mjs"


@pytest.fixture
async def issuer(tmp_path: Path) -> AsyncIterator[Issuer]:
    async for running_issuer in running(make_settings(f"sqlite:///{tmp_path}/issuer.db"), Clock()):
        yield running_issuer


def reference(credential: str) -> StatusReference:
    return parse_status_claim(decode_sd_jwt(credential).payload["status"])


async def admin_id(issuer: Issuer, ref: StatusReference) -> str:
    listed = (await issuer.client.get("/admin/employer/credentials", headers=ADMIN)).json()["credentials"]
    return str(next(c["id"] for c in listed if c["status_list"] == {"idx": ref.idx, "uri": ref.uri}))


async def npm_reads(issuer: Issuer, uri: str) -> dict[str, Any]:
    response = await issuer.client.get(uri.removeprefix(BASE))
    assert response.headers["content-type"] == "application/statuslist+jwt"
    kid = jose.parse_compact(response.text, typ=TYP_STATUSLIST_JWT).header["kid"]
    jwks = (await issuer.client.get("/.well-known/jwt-vc-issuer/employer")).json()["jwks"]["keys"]
    (public_jwk,) = [k for k in jwks if k["kid"] == kid]  # the key the issuer publishes, found as a verifier finds it
    answer = run_node(SCRIPT, {"op": "read_token", "token": response.text, "public_jwk": public_jwk})
    assert answer.get("error") is None, answer.get("error")
    return answer


async def test_npm_reads_the_statuses_our_issuer_publishes(issuer: Issuer) -> None:
    # Four residents' credentials: a status change reaches every copy of one issuance, so each is its own.
    credentials = [c for n in range(4) for c in await issue(issuer, 1, subject=f"employee {n}")]
    refs = [reference(c) for c in credentials]
    uri = refs[0].uri
    for action, ref in (("revoke", refs[0]), ("suspend", refs[1]), ("suspend", refs[2]), ("reinstate", refs[2])):
        response = await issuer.client.post(f"/admin/employer/credentials/{await admin_id(issuer, ref)}/{action}",
                                            json={"reason": "interop"}, headers=ADMIN)
        assert response.status_code == 200, response.text

    answer = await npm_reads(issuer, uri)
    assert answer["signature_valid"] is True
    assert answer["header"]["typ"] == TYP_STATUSLIST_JWT
    assert answer["payload"]["sub"] == uri
    assert answer["payload"]["ttl"] == 300
    assert answer["payload"]["exp"] - answer["payload"]["iat"] == 24 * 3600
    assert answer["size"] == 131_072
    assert {int(k): v for k, v in answer["non_valid"].items()} == {refs[0].idx: INVALID, refs[1].idx: SUSPENDED}


async def test_npm_reads_a_full_list_after_many_changes(tmp_path: Path) -> None:
    """A small list filled to the last entry and every entry changed: the reader sees each change."""
    async for issuer in running(make_settings(f"sqlite:///{tmp_path}/issuer.db", status_list_size=40), Clock()):
        refs = [reference(c) for n in range(20) for c in await issue(issuer, 1, subject=f"employee {n}")]
        expected = {}
        for n, ref in enumerate(refs):
            action = ("revoke", "suspend")[n % 2]
            response = await issuer.client.post(f"/admin/employer/credentials/{await admin_id(issuer, ref)}/{action}",
                                                json={"reason": "interop"}, headers=ADMIN)
            assert response.status_code == 200, response.text
            expected[ref.idx] = (INVALID, SUSPENDED)[n % 2]
        answer = await npm_reads(issuer, refs[0].uri)
        assert answer["signature_valid"] is True
        assert answer["size"] == 40
        assert {int(k): v for k, v in answer["non_valid"].items()} == expected
