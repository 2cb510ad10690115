"""A status list made by the npm package @sd-jwt/jwt-status-list (pinned in package.json) decides our
verifier's status check: the credential it marks revoked is rejected, with the revoked check naming
the issuer and the date of that list, and a credential it leaves valid is accepted.

The token is built by the package (``createHeaderAndPayload``) and signed with the issuer's key by
@sd-jwt/crypto-nodejs (js/status_list.mjs); the verifier's fake issuer serves it as it is.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.responses import Response

from tests.verifier.conftest import INCOME_PATHS, NOW, STATUS_URI, World, checks_by_id, open_world
from tsunagu.status_list import INVALID, MEDIA_TYPE_STATUSLIST_JWT

from .node import run_node

pytestmark = [pytest.mark.interop, pytest.mark.anyio]

REVOKED = 70_001  # far into a list of 131,072 entries, as our issuer's lists are
VALID_IDX = 70_000
SIZE = 131_072
ISSUED = NOW - timedelta(days=3)


def npm_status_list_token(world: World) -> str:
    answer = run_node("status_list.mjs", {
        "op": "sign_token", "private_jwk": world.issuer.key.to_jwk(include_private=True), "bits": 2, "size": SIZE,
        "statuses": {str(REVOKED): INVALID},
        "claims": {"sub": STATUS_URI, "iat": int(ISSUED.timestamp()), "exp": int((NOW + timedelta(days=1)).timestamp()),
                   "ttl": 3600},
    })
    token: str = answer["token"]
    return token


async def _verify(world: World, idx: int) -> dict[str, Any]:
    created = await world.create()
    request = await world.fetch_request(created)
    presentation = world.present(world.credential(status_idx=idx), request, INCOME_PATHS)
    response = await world.respond(request, {"employment": [presentation]})
    assert response.status_code == 200, response.text
    return await world.result(created)


async def test_a_credential_revoked_in_an_npm_made_status_list_is_rejected(tmp_path: Path, database_url: str) -> None:
    async with open_world(tmp_path, database_url) as world:
        world.issuer.answer = Response(npm_status_list_token(world), media_type=MEDIA_TYPE_STATUSLIST_JWT)

        revoked = await _verify(world, REVOKED)
        assert revoked["result"]["decision"] == "rejected"
        status = checks_by_id(revoked)["status"]
        assert (status["outcome"], status["party"], status["code"]) == ("failed", "issuer", "credential_status.revoked")
        assert status["reason"]["en"].startswith("Revoked by Sakura Logistics on 2026-11-20 ")
        assert [c["id"] for c in revoked["result"]["checks"] if c["outcome"] == "failed"] == ["status"]

        valid = await _verify(world, VALID_IDX)
        assert valid["result"]["decision"] == "accepted"
        assert checks_by_id(valid)["status"]["outcome"] == "passed"
        assert world.issuer.hits.count("status") == 1  # one list, fetched once, read for both
