"""The command line against real servers: the thin admin clients, and ``tsunagu demo --once``.

``tsunagu issuer offer``, ``tsunagu verifier request`` and ``tsunagu verifier result`` talk to the
issuer and the verifier over real HTTP (uvicorn in a thread, ``tests/interop/live_server.py``),
reading the URL and API key from a ``demo.json`` or from options; they print the service's JSON, or
on a refusal the service's ``{"error", "error_description"}`` on stderr with exit status 1. The
demo itself runs as a person runs it, in a subprocess on three free ports.
"""

from __future__ import annotations

import json
import random
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from issuer.app import create_app as create_issuer
from tsunagu.cli import main
from tsunagu.cli.demo_deployment import (
    DemoDeployment,
    build_demo_deployment,
    tenant_bodies,
)
from tsunagu.cli.demo_story import EMPLOYMENT_CLAIMS
from verifier.app import create_app as create_verifier

from ..interop.live_server import serve

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Live:
    deployment: DemoDeployment
    issuer_url: str
    verifier_url: str
    demo_json: Path
    claims: Path


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The demo's issuer and verifier on 127.0.0.1 (SQLite), the landlord and the bank hosted, and a demo.json."""
    data_dir = tmp_path_factory.mktemp("cli")
    deployment = build_demo_deployment(data_dir / "demo", now=datetime.now(timezone.utc))
    with (serve(lambda url: create_issuer(deployment.issuer.model_copy(update={"public_url": url}))) as issuer,
          serve(lambda url: create_verifier(deployment.verifier.model_copy(update={"public_url": url}))) as verifier):
        for slug, body in tenant_bodies(deployment).items():
            hosted = httpx.put(f"{verifier.url}/admin/tenants/{slug}", json=body,
                               headers={"Authorization": f"Bearer {deployment.admin_key('verifier')}"})
            assert hosted.status_code == 200, hosted.text
        demo_json = data_dir / "demo.json"
        demo_json.write_text(json.dumps({
            "issuer": {"url": issuer.url, "admin_api_key": deployment.admin_key("issuer")},
            "verifier": {"url": verifier.url, "admin_api_key": deployment.admin_key("verifier")},
        }), encoding="utf-8")
        claims = data_dir / "employment.json"
        claims.write_text(json.dumps(dict(EMPLOYMENT_CLAIMS), ensure_ascii=False), encoding="utf-8")
        yield Live(deployment, issuer.url, verifier.url, demo_json, claims)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, Any]:
    """``tsunagu ARGV``: the exit status and the JSON printed on stdout and on stderr (``None`` when nothing)."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, json.loads(out) if out.strip() else None, json.loads(err) if err.strip() else None


def test_issuer_offer_prints_an_offer_the_issuer_serves(live: Live, capsys: pytest.CaptureFixture[str]) -> None:
    status, offer, err = run(capsys, "issuer", "offer", "--demo", str(live.demo_json), "--tenant", "employer",
                             "--configuration", "EmploymentCertificate", "--claims", str(live.claims), "--tx-code")
    assert (status, err) == (0, None)
    issuer_id = f"{live.issuer_url}/employer"
    assert offer["offer_uri"].startswith("openid-credential-offer://?credential_offer_uri=")
    assert offer["credential_offer_uri"].startswith(f"{issuer_id}/credential-offers/")
    assert re.fullmatch(r"[0-9]{6}", offer["tx_code"])
    assert offer["credential_offer"]["credential_issuer"] == issuer_id
    assert offer["credential_offer"]["credential_configuration_ids"] == ["EmploymentCertificate"]
    # What a wallet fetches by reference is that very offer.
    served = httpx.get(offer["credential_offer_uri"])
    assert (served.status_code, served.json()) == (200, offer["credential_offer"])


def test_verifier_request_then_result(live: Live, capsys: pytest.CaptureFixture[str]) -> None:
    status, created, err = run(capsys, "verifier", "request", "--demo", str(live.demo_json), "--tenant", "landlord",
                               "--purpose", "rental_screening", "--template", "rental_screening_employment_income",
                               "--retention-days", "90")
    assert (status, err) == (0, None)
    assert created["authorization_request_uri"].startswith("openid4vp://?client_id=x509_hash%3A")
    assert created["request_uri"] == f"{live.verifier_url}/landlord/requests/{created['request_id']}/object"
    assert created["registration_warnings"] == []

    # --url and --api-key instead of demo.json.
    status, result, err = run(capsys, "verifier", "result", "--url", live.verifier_url, "--api-key",
                              live.deployment.admin_key("verifier"), "--tenant", "landlord", created["request_id"])
    assert (status, err) == (0, None)
    assert (result["request_id"], result["status"], result["result"], result["claims"]) == (
        created["request_id"], "pending", None, None)
    assert (result["purpose"], result["retention_days"]) == ("rental_screening", 90)


@pytest.mark.parametrize(("argv", "http_status", "error", "says"), [
    (["verifier", "request", "--tenant", "landlord", "--purpose", "rental_screening", "--template", "no_such_template"],
     400, "invalid_request", "no_such_template"),
    (["verifier", "result", "--tenant", "landlord", "no-such-request"], 404, "invalid_request", "no-such-request"),
    (["verifier", "result", "--tenant", "nobody", "no-such-request"], 404, "invalid_request", "nobody"),
    (["issuer", "offer", "--tenant", "employer", "--configuration", "ResidenceCard", "--claims", "{claims}"],
     400, "invalid_request", "does not issue this credential configuration"),
    (["verifier", "result", "--api-key", "not-the-key", "--tenant", "landlord", "x"], 401, "invalid_token", None),
    (["issuer", "offer", "--api-key", "not-the-key", "--tenant", "employer", "--configuration",
      "EmploymentCertificate", "--claims", "{claims}"], 401, "invalid_token", None),
], ids=["unknown_template", "unknown_request", "unknown_tenant", "configuration_of_another_tenant",
        "bad_verifier_key", "bad_issuer_key"])
def test_a_refusal_exits_1_with_the_services_error(live: Live, capsys: pytest.CaptureFixture[str], argv: list[str],
                                                  http_status: int, error: str, says: str | None) -> None:
    argv = [a.replace("{claims}", str(live.claims)) for a in argv]
    status, out, refusal = run(capsys, *argv[:2], "--demo", str(live.demo_json), *argv[2:])
    assert (status, out) == (1, None)
    assert (refusal["status"], refusal["error"]) == (http_status, error)
    assert refusal["error_description"]
    if says is not None:
        assert says in refusal["error_description"]


def free_port_triple() -> int:
    """A base port whose next two are free too (the demo's issuer, wallet and verifier)."""
    for _ in range(100):
        base = random.randint(20000, 60000)
        sockets: list[socket.socket] = []
        try:
            for port in range(base, base + 3):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
        return base
    raise RuntimeError("no three consecutive free ports found")


def test_the_demo_tells_the_story_once_and_exits(tmp_path: Path) -> None:
    base = free_port_triple()
    data_dir = tmp_path / "demo-data"
    done = subprocess.run(
        [sys.executable, "-m", "tsunagu.cli", "demo", "--once", "--data-dir", str(data_dir), "--base-port", str(base)],
        cwd=REPO, capture_output=True, text=True, encoding="utf-8", timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "decision: accepted" in done.stdout
    assert "NOT registered for this purpose" in done.stdout
    summary = json.loads((data_dir / "demo.json").read_text(encoding="utf-8"))
    assert summary["issuer"]["url"] == f"http://localhost:{base}"
    assert summary["verifier"]["url"] == f"http://localhost:{base + 2}"
