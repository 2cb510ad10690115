"""The resident's consent receipt arrives with the presentation; the verifier checks, explains and keeps it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

from tsunagu.claims_path import ClaimsPath
from tsunagu.consent import ConsentedClaims, ConsentReceipt, build_consent_receipt, pairwise_subject
from tsunagu.jwk import PrivateJwk, generate_key
from tsunagu.oid4vp import AuthorizationRequest
from tsunagu.trust import LocalizedText

from .conftest import INCOME_PATHS, NOW, VCT_EMPLOYMENT, World, checks_by_id, open_world

pytestmark = pytest.mark.anyio

WALLET = "https://wallet.test"


@dataclass
class FakeWallet:
    """A wallet's public side: its JWK Set at /.well-known/jwks.json, and how often it was asked."""

    key: PrivateJwk = field(default_factory=lambda: generate_key("ES256", kid="wallet-2026"))
    hits: int = 0
    answer: Response | None = None

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/jwks.json")
        def jwks() -> Response:
            self.hits += 1
            if self.answer is not None:
                return self.answer
            return JSONResponse({"keys": [self.key.public.to_jwk()]})

        return app


@dataclass
class Setup:
    world: World
    wallet: FakeWallet


@asynccontextmanager
async def _open(tmp_path: Path, database_url: str, **settings: Any) -> AsyncIterator[Setup]:
    wallet = FakeWallet()
    mounts = {WALLET: httpx.ASGITransport(wallet.app()), "http://wallet.test": httpx.ASGITransport(wallet.app())}
    async with open_world(tmp_path, database_url, mounts=mounts, **settings) as world:
        yield Setup(world, wallet)


@pytest.fixture
async def setup(tmp_path: Path, database_url: str) -> AsyncIterator[Setup]:
    async with _open(tmp_path, database_url) as opened:
        yield opened


@pytest.fixture
async def strict(tmp_path: Path, database_url: str) -> AsyncIterator[Setup]:
    async with _open(tmp_path, database_url, require_consent_receipt=True) as opened:
        yield opened


def receipt_for(request: AuthorizationRequest, **changes: Any) -> ConsentReceipt:
    """What a Tsunagu wallet signs when the resident approves INCOME_PATHS for this request."""
    base = ConsentReceipt(
        consent_id="cns_0001", wallet=WALLET,
        subject=pairwise_subject(b"w" * 32, "mai", request.client_id),
        verifier_client_id=request.client_id, verifier_name=LocalizedText("Tokyo Homes", "東京ホームズ"),
        purpose="rental_screening",
        purpose_text=LocalizedText("Screening", "入居審査"),
        claims=(ConsentedClaims("employment", VCT_EMPLOYMENT, tuple(INCOME_PATHS)),),
        granted_at=NOW, expires_at=NOW + timedelta(days=1), retention_days=90, access_type="one-time",
        notification_uri=f"{WALLET}/consent-notifications",
    )
    return replace(base, **changes)


async def present_with_receipt(world: World, receipt: Callable[[AuthorizationRequest], str | None], *,
                               paths: list[ClaimsPath] = INCOME_PATHS) -> tuple[dict[str, Any], dict[str, Any]]:
    created = await world.create()
    request = await world.fetch_request(created)
    presentation = world.present(world.credential(), request, paths)
    form = {"vp_token": json.dumps({"employment": [presentation]}), "state": request.state or ""}
    token = receipt(request)
    if token is not None:
        form["consent_receipt"] = token
    response = await world.client.post(urlsplit(request.response_uri).path, content=urlencode(form),
                                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200, response.text
    return created, await world.result(created)


async def test_a_valid_receipt_is_checked_stored_and_shown(setup: Setup) -> None:
    tokens: list[str] = []

    def sign(request: AuthorizationRequest) -> str:
        tokens.append(build_consent_receipt(receipt_for(request), setup.wallet.key))
        return tokens[-1]

    _, result = await present_with_receipt(setup.world, sign)
    assert result["result"]["decision"] == "accepted"
    check = checks_by_id(result)["consent_receipt"]
    assert (check["outcome"], check["party"], check["code"]) == ("passed", None, None)
    assert "cns_0001" in check["reason"]["en"] and "cns_0001" in check["reason"]["ja"]
    consent = result["consent"]
    assert consent["consent_id"] == "cns_0001" and consent["access_type"] == "one-time"
    assert consent["granted_at"].startswith("2026-11-23T09:00:00")
    assert consent["expires_at"].startswith("2026-11-24T09:00:00")
    assert (consent["wallet"], consent["purpose"], consent["retention_days"]) == (WALLET, "rental_screening", 90)
    assert consent["receipt"] == tokens[0]
    assert setup.wallet.hits == 1


async def test_no_receipt_is_skipped_by_default(setup: Setup) -> None:
    _, result = await present_with_receipt(setup.world, lambda request: None)
    assert result["result"]["decision"] == "accepted"
    assert checks_by_id(result)["consent_receipt"]["outcome"] == "skipped"
    assert result["consent"] is None and result["claims"] is not None
    assert setup.wallet.hits == 0


async def test_no_receipt_rejects_when_the_verifier_requires_one(strict: Setup) -> None:
    _, result = await present_with_receipt(strict.world, lambda request: None)
    assert result["result"]["decision"] == "rejected"
    check = checks_by_id(result)["consent_receipt"]
    assert (check["outcome"], check["party"], check["code"]) == ("failed", "resident",
                                                                 "verifier.consent_receipt_missing")
    assert "同意レシート" in check["reason"]["ja"]
    assert result["claims"] is None and result["consent"] is None


async def test_an_invalid_receipt_rejects_when_required(strict: Setup) -> None:
    other = generate_key("ES256", kid="wallet-2026")
    _, result = await present_with_receipt(strict.world, lambda r: build_consent_receipt(receipt_for(r), other))
    assert result["result"]["decision"] == "rejected"
    check = checks_by_id(result)["consent_receipt"]
    assert (check["outcome"], check["code"]) == ("failed", "consent.invalid_signature")
    assert result["claims"] is None and result["consent"] is None


async def test_a_valid_receipt_passes_when_required(strict: Setup) -> None:
    _, result = await present_with_receipt(strict.world,
                                           lambda r: build_consent_receipt(receipt_for(r), strict.wallet.key))
    assert result["result"]["decision"] == "accepted"
    assert result["consent"]["consent_id"] == "cns_0001"


OTHER_KEY = generate_key("ES256", kid="wallet-2026")

# name, receipt maker (request, wallet key) -> token, expected code
WARNINGS: list[tuple[str, Callable[[AuthorizationRequest, PrivateJwk], str], str]] = [
    ("signed by another key", lambda r, k: build_consent_receipt(receipt_for(r), OTHER_KEY),
     "consent.invalid_signature"),
    ("kid the wallet does not publish",
     lambda r, k: build_consent_receipt(receipt_for(r), generate_key("ES256", kid="old")), "consent.key_not_found"),
    ("addressed to another verifier", lambda r, k: build_consent_receipt(
        receipt_for(r, verifier_client_id="x509_san_dns:bank.example"), k), "consent.aud_mismatch"),
    ("expired", lambda r, k: build_consent_receipt(
        receipt_for(r, granted_at=NOW - timedelta(days=2), expires_at=NOW - timedelta(days=1)), k),
     "consent.token_expired"),
    ("not a JWS", lambda r, k: "not-a-receipt", "consent.token_invalid"),
    ("another purpose", lambda r, k: build_consent_receipt(receipt_for(r, purpose="guarantor_screening"), k),
     "verifier.consent_receipt_mismatch"),
    ("another retention", lambda r, k: build_consent_receipt(receipt_for(r, retention_days=30), k),
     "verifier.consent_receipt_mismatch"),
    ("a claim that was not disclosed", lambda r, k: build_consent_receipt(receipt_for(r, claims=(ConsentedClaims(
        "employment", VCT_EMPLOYMENT, (*INCOME_PATHS, ("birthdate",))),)), k), "verifier.consent_receipt_mismatch"),
    ("a disclosed claim without consent", lambda r, k: build_consent_receipt(receipt_for(r, claims=(ConsentedClaims(
        "employment", VCT_EMPLOYMENT, tuple(INCOME_PATHS[:-1])),)), k), "verifier.consent_receipt_mismatch"),
    ("another credential type", lambda r, k: build_consent_receipt(receipt_for(r, claims=(ConsentedClaims(
        "employment", "https://other.example/vct", tuple(INCOME_PATHS)),)), k), "verifier.consent_receipt_mismatch"),
    ("another credential query", lambda r, k: build_consent_receipt(receipt_for(r, claims=(ConsentedClaims(
        "residence", VCT_EMPLOYMENT, tuple(INCOME_PATHS)),)), k), "verifier.consent_receipt_mismatch"),
    ("wallet keys over plain http", lambda r, k: build_consent_receipt(receipt_for(r, wallet="http://wallet.test"), k),
     "verifier.wallet_keys_location_refused"),
    ("wallet keys URL with a query", lambda r, k: build_consent_receipt(
        receipt_for(r, wallet="https://wallet.test/?x=1"), k), "verifier.wallet_keys_location_refused"),
    ("wallet unreachable", lambda r, k: build_consent_receipt(receipt_for(r, wallet="https://down.test"), k),
     "fetch.unreachable"),
]


@pytest.mark.parametrize(("make", "code"), [(m, c) for _, m, c in WARNINGS], ids=[n for n, _, _ in WARNINGS])
async def test_a_receipt_that_does_not_hold_is_a_warning_not_a_rejection(
        setup: Setup, make: Callable[[AuthorizationRequest, PrivateJwk], str], code: str) -> None:
    _, result = await present_with_receipt(setup.world, lambda r: make(r, setup.wallet.key))
    assert result["result"]["decision"] == "accepted"  # the presentation itself was valid
    check = checks_by_id(result)["consent_receipt"]
    assert (check["outcome"], check["code"]) == ("warning", code), check["reason"]["en"]
    assert check["party"] == ("network" if code.startswith("fetch.") else "resident")
    assert "policy allows" in check["reason"]["en"] and "方針" in check["reason"]["ja"]
    assert result["consent"] is None and result["claims"] is not None


async def test_the_wallet_jwks_answer_is_bounded_and_typed(setup: Setup) -> None:
    setup.wallet.answer = Response("<html>hello</html>", media_type="text/html")
    _, result = await present_with_receipt(setup.world,
                                           lambda r: build_consent_receipt(receipt_for(r), setup.wallet.key))
    check = checks_by_id(result)["consent_receipt"]
    assert (check["outcome"], check["code"]) == ("warning", "fetch.bad_content_type")
    setup.wallet.answer = Response(b'{"keys": [' + b" " * 70_000 + b"]}", media_type="application/json")
    _, result = await present_with_receipt(setup.world,
                                           lambda r: build_consent_receipt(receipt_for(r), setup.wallet.key))
    assert checks_by_id(result)["consent_receipt"]["code"] == "fetch.too_large"
    setup.wallet.answer = JSONResponse({"keys": [{**setup.wallet.key.to_jwk(include_private=True)}]})
    _, result = await present_with_receipt(setup.world,
                                           lambda r: build_consent_receipt(receipt_for(r), setup.wallet.key))
    assert checks_by_id(result)["consent_receipt"]["code"] == "jwk.invalid"


async def test_only_the_configured_wallet_origins_are_fetched(tmp_path: Path, database_url: str) -> None:
    async with _open(tmp_path, database_url, consent_wallet_origins=("https://wallet.tsunagu.example",)) as opened:
        _, result = await present_with_receipt(
            opened.world, lambda r: build_consent_receipt(receipt_for(r), opened.wallet.key))
        check = checks_by_id(result)["consent_receipt"]
        assert (check["outcome"], check["code"]) == ("warning", "verifier.wallet_keys_location_refused")
        assert opened.wallet.hits == 0  # refused before any request left the verifier


async def test_a_rejected_presentation_leaves_the_receipt_unchecked(setup: Setup) -> None:
    world = setup.world
    created = await world.create()
    request = await world.fetch_request(created)
    presentation = world.present(world.credential(), request, INCOME_PATHS, nonce="another-nonce")
    form = {"vp_token": json.dumps({"employment": [presentation]}), "state": request.state or "",
            "consent_receipt": build_consent_receipt(receipt_for(request), setup.wallet.key)}
    response = await world.client.post(urlsplit(request.response_uri).path, content=urlencode(form),
                                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    result = await world.result(created)
    assert result["result"]["decision"] == "rejected"
    assert checks_by_id(result)["consent_receipt"]["outcome"] == "skipped"
    assert result["consent"] is None and setup.wallet.hits == 0
