"""``tsunagu issuer credentials|revoke|suspend|reinstate|rotate-key`` against an issuer served over real HTTP."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from issuer.app import create_app
from tsunagu.cli import main
from tsunagu.sd_jwt.holder import decode_sd_jwt

from ..interop.live_server import serve
from .conftest import ADMIN_KEY, BASE, Clock, Issuer, issue, make_settings

pytestmark = pytest.mark.anyio


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, Any]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, json.loads(out) if out.strip() else None, json.loads(err) if err.strip() else None


async def test_admin_commands(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    clock = Clock()
    settings = make_settings(sqlite_url)
    # Identifiers stay https://issuer.test (as behind a proxy); the commands talk to the port uvicorn listens on.
    with serve(lambda _url: create_app(settings, clock=clock)) as live:
        target = ("--url", live.url, "--api-key", ADMIN_KEY, "--tenant", "employer")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(live.app), base_url=BASE) as client:
            issuer = Issuer(client, clock, settings, live.app)  # type: ignore[arg-type]
            mine = await issue(issuer, 2, subject="employee 4711")
            await issue(issuer, 1, subject="employee 4712")

            status, listed, _ = run(capsys, "issuer", "credentials", *target, "--subject", "employee 4711")
            assert status == 0
            assert len(listed["credentials"]) == 2
            idx = {c["status_list"]["idx"]: c["id"] for c in listed["credentials"]}
            target_id = idx[decode_sd_jwt(mine[0]).payload["status"]["status_list"]["idx"]]

            status, suspended, _ = run(capsys, "issuer", "suspend", target_id, *target, "--reason", "under review", "--actor", "hr-sato")
            assert (status, suspended["status"]) == (0, "suspended")
            status, revoked, _ = run(capsys, "issuer", "revoke", target_id, *target, "--reason", "left the company")
            assert (status, revoked["status"]) == (0, "revoked")
            status, out, err = run(capsys, "issuer", "reinstate", target_id, *target, "--reason", "mistake")
            assert (status, out) == (1, None)
            assert (err["status"], err["error"]) == (409, "conflict")
            assert "revocation is final" in err["error_description"]
            status, out, err = run(capsys, "issuer", "revoke", "no-such/credential", *target, "--reason", "x")
            assert (status, err["status"], err["error"]) == (1, 404, "not_found")

            detail = (await client.get(f"/admin/employer/credentials/{target_id}", headers={"Authorization": f"Bearer {ADMIN_KEY}"})).json()
            assert [(e["action"], e["reason"], e["actor"]) for e in detail["history"]][0] == ("suspend", "under review", "admin API (hr-sato)")

            status, only_4712, _ = run(capsys, "issuer", "credentials", *target, "--subject", "employee 4712",
                                       "--vct", "urn:tsunagu:vct:employment-certificate:1", "--limit", "5")
            assert (status, [c["subject"] for c in only_4712["credentials"]]) == (0, ["employee 4712"])

            status, rotated, _ = run(capsys, "issuer", "rotate-key", *target, "--reason", "yearly rotation")
            assert status == 0
            assert rotated["kid"] == rotated["keys"][0]["kid"] and len(rotated["keys"]) == 2
            metadata = (await client.get("/.well-known/jwt-vc-issuer/employer")).json()
            assert [k["kid"] for k in metadata["jwks"]["keys"]] == [k["kid"] for k in rotated["keys"]]
