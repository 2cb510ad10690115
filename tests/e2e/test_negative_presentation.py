"""Presentations refused across the real wallet, verifier and issuer (OpenID4VP 1.0), in the demo's configuration.

Mai holds her employment certificate, as in the story; then someone replays, re-addresses or relays
what her wallet sent, a verifier outside the trust registry asks her, an issuer is not trusted for
the credential's type, or a request expires. Each test checks the refusal each party sees: the
verifier's ``invalid_request`` at its ``response_uri`` (§8.2), its explained decision (which check
failed, with which code, and whose failure it is), the wallet's ``invalid_client`` (§8.5) and the
resident's records, and that an earlier accepted result is never disturbed.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tsunagu.jwk import generate_key
from tsunagu.trust import IssuerEntry
from tsunagu.x509 import certificate_to_x5c, issue_verifier_certificate
from verifier.templates import VCT_EMPLOYMENT, VCT_RESIDENT_TAX

from .worlds import (
    FORM,
    Sent,
    World,
    assert_error,
    direct_post,
    open_world,
    request_object_claims,
)

pytestmark = pytest.mark.anyio

SCREENING = "rental_screening_employment_income"
#: What the bank may ask of an employment certificate when opening an account (its registration).
BANK_EMPLOYMENT_QUERY = {"credentials": [{
    "id": "employment", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT_EMPLOYMENT]},
    "claims": [{"path": ["employer_name"]}, {"path": ["employment_type"]}, {"path": ["job_title"]}],
}]}


async def mai_with_employment(world: World) -> dict[str, str]:
    """``World.mai_with_employment``, as Mai's auth headers."""
    return {"Authorization": f"Bearer {await world.mai_with_employment()}"}


async def screening(world: World, mai: dict[str, str], **request: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The landlord asks for rental screening and Mai approves: (the request, the presentation recorded)."""
    created = await world.ask("landlord", purpose="rental_screening", template=SCREENING, retention_days=90,
                              **request)
    shown = await world.wallet.post("/presentation-requests", headers=mai,
                                    json={"uri": created["authorization_request_uri"]})
    assert shown.status_code == 201, shown.text
    approved = await world.wallet.post(f"/presentation-requests/{shown.json()['id']}/approve", headers=mai, json={})
    assert approved.status_code == 200, approved.text
    presentation: dict[str, Any] = approved.json()
    return created, presentation


def only_post(world: World, request_id: str) -> Sent:
    """What Mai's wallet posted to the response_uri of ``request_id`` (exactly once)."""
    (sent,) = [s for s in world.wallet_to_verifier.posted("/responses/") if s.path.endswith(f"/{request_id}")]
    return sent


async def public_request_object(world: World, created: dict[str, Any]) -> dict[str, Any]:
    """What anyone learns from a request's public ``request_uri``: its ``state``, ``nonce``, ``response_uri``."""
    response = await world.verifier.get(urlsplit(created["request_uri"]).path)
    assert response.status_code == 200, response.text
    return request_object_claims(response.text)


async def post_response(world: World, response_uri: str, body: str) -> Any:
    return await world.verifier.post(urlsplit(response_uri).path, content=body, headers={"Content-Type": FORM})


def checks_by_id(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["id"]: check for check in result["result"]["checks"]}


def failed(result: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    return [(c["id"], c["code"], c["party"]) for c in result["result"]["checks"] if c["outcome"] == "failed"]


async def test_a_replayed_presentation_is_refused_and_the_result_stands(tmp_path: Path,
                                                                          database_urls: dict[str, str]) -> None:
    async with open_world(tmp_path, database_urls) as world:
        mai = await mai_with_employment(world)
        created, presentation = await screening(world, mai)
        assert presentation["status"] == "sent"
        accepted = await world.result("landlord", created["request_id"])
        assert accepted["result"]["decision"] == "accepted"
        # (An accepted presentation made the verifier fetch the issuer's keys, over the recorded road.)
        assert any("jwt-vc-issuer" in s.path for s in world.verifier_to_issuer.sent)

        # Someone who saw the wallet's direct_post sends the same bytes again.
        sent = only_post(world, created["request_id"])
        replay = await world.verifier.post(sent.path, content=sent.body, headers={"Content-Type": FORM})
        assert "already been answered" in assert_error(replay, 400, "invalid_request")

        # The landlord's result, decision and received claims are exactly what they were.
        assert await world.result("landlord", created["request_id"]) == accepted


async def test_a_presentation_readdressed_to_another_request_fails_holder_binding(
        tmp_path: Path, database_urls: dict[str, str]) -> None:
    async with open_world(tmp_path, database_urls) as world:
        mai = await mai_with_employment(world)
        first, presentation = await screening(world, mai)
        accepted = await world.result("landlord", first["request_id"])

        # Another rental-screening request of the same landlord, never shown to Mai: its state is public
        # in its request object, so an attacker can address Mai's captured vp_token to it.
        other = await world.ask("landlord", purpose="rental_screening", template=SCREENING, retention_days=90)
        target = await public_request_object(world, other)
        captured = only_post(world, first["request_id"]).form()
        answer = await post_response(world, target["response_uri"], direct_post(captured["vp_token"], target["state"]))
        assert answer.status_code == 200, answer.text  # taken and verified; the decision is the landlord's to read

        result = await world.result("landlord", other["request_id"])
        assert (result["status"], result["result"]["decision"], result["claims"]) == ("completed", "rejected", None)
        # Only the key binding fails: the credential itself is sound and its issuer trusted, so the
        # issuer is not blamed. The presentation is "the resident's" side (the presenter's), and the
        # reason says what happened: made for a different request.
        assert failed(result) == [("holder_binding", "kb_jwt.nonce_mismatch", "resident")]
        checks = checks_by_id(result)
        assert {checks[c]["outcome"] for c in ("format", "issuer_trusted", "issuer_key", "issuer_signature",
                                                 "validity_period", "disclosures")} == {"passed"}
        assert "different request" in checks["holder_binding"]["reason"]["en"]
        assert checks["holder_binding"]["reason"]["ja"]
        assert checks["query"]["outcome"] == "skipped"

        # Mai's own screening is untouched, and her wallet shows only what she sent herself.
        assert await world.result("landlord", first["request_id"]) == accepted
        sent = (await world.wallet.get("/presentations", headers=mai)).json()
        assert [(p["id"], p["status"]) for p in sent] == [(presentation["id"], "sent")]


async def test_a_presentation_made_for_the_landlord_is_rejected_by_the_bank(tmp_path: Path,
                                                                             database_urls: dict[str, str]) -> None:
    async with open_world(tmp_path, database_urls) as world:
        mai = await mai_with_employment(world)
        # A relaying landlord: it opens an account-opening request at the bank, gives its own request
        # to Mai the bank's nonce, and forwards what Mai's wallet sends it to the bank.
        bank = await world.ask("bank", purpose="account_opening_kyc", dcql_query=BANK_EMPLOYMENT_QUERY,
                               retention_days=30)
        bank_object = await public_request_object(world, bank)
        landlord = await world.ask("landlord", purpose="rental_screening", template=SCREENING, retention_days=90)
        world.set_request_nonce(landlord["request_id"], bank_object["nonce"])
        shown = await world.wallet.post("/presentation-requests", headers=mai,
                                        json={"uri": landlord["authorization_request_uri"]})
        assert shown.json()["verifier"]["name"]["en"] == "Sakura Homes"  # Mai sees who really asks
        approved = await world.wallet.post(f"/presentation-requests/{shown.json()['id']}/approve", headers=mai, json={})
        assert approved.json()["status"] == "sent"

        captured = only_post(world, landlord["request_id"]).form()
        relayed = await post_response(world, bank_object["response_uri"],
                                      direct_post(captured["vp_token"], bank_object["state"]))
        assert relayed.status_code == 200, relayed.text

        result = await world.result("bank", bank["request_id"])
        assert (result["status"], result["result"]["decision"], result["claims"]) == ("completed", "rejected", None)
        assert failed(result) == [("holder_binding", "kb_jwt.aud_mismatch", "resident")]
        reason = checks_by_id(result)["holder_binding"]["reason"]["en"]
        assert landlord["client_id"] in reason and bank["client_id"] in reason


async def test_a_verifier_not_in_the_registry_is_refused_and_nothing_is_sent(tmp_path: Path,
                                                                              database_urls: dict[str, str]) -> None:
    async with open_world(tmp_path, database_urls, rebuild=True) as world:
        assert world.pki is not None
        mai = await mai_with_employment(world)
        # A verifier with a genuine certificate under the registry's root, which the registry does not list.
        now = world.clocks["verifier"]()
        key = generate_key("ES256")
        certificate = issue_verifier_certificate(
            ca_key=world.pki.key, ca_certificate=world.pki.root, subject_key=key.public,
            dns_name="shady-lettings.example", organization="Shady Lettings", now=now, valid_for=timedelta(days=30))
        hosted = await world.verifier.put("/admin/tenants/shady", headers=world.admin("verifier"), json={
            "name": {"en": "Shady Lettings", "ja": "あやしい不動産"}, "private_jwk": key.to_jwk(include_private=True),
            "x5c": [certificate_to_x5c(certificate)], "client_id_prefix": "x509_hash"})
        assert hosted.status_code == 200, hosted.text
        assert hosted.json()["registered"] is False
        created = await world.ask("shady", purpose="rental_screening", template=SCREENING, retention_days=90)

        # From the QR code: refused by its client_id, before anything is fetched from it.
        before = len(world.wallet_to_verifier.sent)
        refused = await world.wallet.post("/presentation-requests", headers=mai,
                                          json={"uri": created["authorization_request_uri"]})
        assert "not in the trust registry" in assert_error(refused, 400, "invalid_client")
        assert world.wallet_to_verifier.sent[before:] == []

        # From the bare request_uri: the wallet must fetch the object to learn who asks, then refuses.
        refused = await world.wallet.post("/presentation-requests", headers=mai, json={"uri": created["request_uri"]})
        assert "not in the trust registry" in assert_error(refused, 400, "invalid_client")
        assert [(s.method, s.path) for s in world.wallet_to_verifier.sent[before:]] == [
            ("GET", urlsplit(created["request_uri"]).path)]

        # Nothing was sent: no consent, no presentation, nothing pending; the verifier got no answer.
        for path in ("/presentation-requests", "/consents", "/presentations"):
            assert (await world.wallet.get(path, headers=mai)).json() == []
        result = await world.result("shady", created["request_id"])
        assert (result["status"], result["result"], result["claims"]) == ("pending", None, None)


def _employer_for_tax_only(entries: list[IssuerEntry]) -> list[IssuerEntry]:
    return [IssuerEntry(e.id, e.name, (VCT_RESIDENT_TAX,)) if e.id.endswith("/employer") else e for e in entries]


def _employer_not_listed(entries: list[IssuerEntry]) -> list[IssuerEntry]:
    return [e for e in entries if not e.id.endswith("/employer")]


@pytest.mark.parametrize(("registry_edit", "code", "registered"), [
    (_employer_for_tax_only, "trust.issuer_not_trusted_for_vct", True),
    (_employer_not_listed, "trust.issuer_not_trusted", False),
], ids=["listed_for_another_vct", "not_listed"])
async def test_a_credential_from_an_issuer_not_trusted_for_its_vct_is_rejected(
        tmp_path: Path, database_urls: dict[str, str], registry_edit: Any, code: str, registered: bool) -> None:
    async with open_world(tmp_path, database_urls, issuers=registry_edit) as world:
        mai = await mai_with_employment(world)
        (held,) = (await world.wallet.get("/credentials", headers=mai)).json()
        # The wallet already tells Mai: this issuer is not registered for this kind of credential.
        assert (held["issuer"]["registered"], held["issuer"]["trusted_for_type"]) == (registered, False)

        created, presentation = await screening(world, mai)
        assert presentation["status"] == "sent"
        result = await world.result("landlord", created["request_id"])
        assert (result["status"], result["result"]["decision"], result["claims"]) == ("completed", "rejected", None)
        assert failed(result) == [("issuer_trusted", code, "issuer")]
        checks = checks_by_id(result)
        assert checks["format"]["outcome"] == "passed"
        # Decided before anything is fetched from the issuer, and nothing after it is held against Mai.
        assert {checks[c]["outcome"] for c in ("issuer_key", "issuer_signature", "validity_period", "disclosures",
                                                 "holder_binding", "status", "query")} == {"skipped"}
        assert world.verifier_to_issuer.sent == []


async def test_a_request_that_expired_before_the_answer_arrived(tmp_path: Path,
                                                               database_urls: dict[str, str]) -> None:
    async with open_world(tmp_path, database_urls) as world:
        mai = await mai_with_employment(world)
        created = await world.ask("landlord", purpose="rental_screening", template=SCREENING, retention_days=90)
        shown = await world.wallet.post("/presentation-requests", headers=mai,
                                        json={"uri": created["authorization_request_uri"]})
        assert shown.status_code == 201, shown.text
        # The landlord's request lives request_lifetime_seconds; by its clock, Mai answers too late.
        world.clocks["verifier"].advance(seconds=world.deployment.verifier.request_lifetime_seconds + 1)

        approved = await world.wallet.post(f"/presentation-requests/{shown.json()['id']}/approve", headers=mai, json={})
        assert approved.status_code == 200, approved.text
        presentation = approved.json()
        assert (presentation["status"], presentation["verifier_status"]) == ("failed", 400)
        assert "refused" in presentation["error"]
        assert '"invalid_request"' in presentation["verifier_answer"] and "expired" in presentation["verifier_answer"]
        assert (await world.wallet.get(f"/presentation-requests/{shown.json()['id']}", headers=mai)).json()[
            "status"] == "failed"

        result = await world.result("landlord", created["request_id"])
        assert (result["status"], result["result"], result["claims"]) == ("expired", None, None)


async def test_a_request_that_expired_before_the_wallet_fetched_it(tmp_path: Path,
                                                                   database_urls: dict[str, str]) -> None:
    async with open_world(tmp_path, database_urls) as world:
        mai = await mai_with_employment(world)
        created = await world.ask("landlord", purpose="rental_screening", template=SCREENING, retention_days=90)
        world.advance(seconds=world.deployment.verifier.request_lifetime_seconds + 1)

        refused = await world.wallet.post("/presentation-requests", headers=mai,
                                          json={"uri": created["authorization_request_uri"]})
        assert (refused.status_code, refused.json()["error"]) == (400, "verifier_refused")
        assert "expired" in refused.json()["error_description"]
        assert world.wallet_to_verifier.posted("/responses/") == []
        for path in ("/presentation-requests", "/consents", "/presentations"):
            assert (await world.wallet.get(path, headers=mai)).json() == []
        result = await world.result("landlord", created["request_id"])
        assert (result["status"], result["result"]) == ("expired", None)


@pytest.mark.parametrize("database_urls", ["sqlite"], indirect=True)
async def test_the_wallet_says_the_request_expired(tmp_path: Path, database_urls: dict[str, str]) -> None:
    async with open_world(tmp_path, database_urls) as world:
        story = world.story()
        await story.set_up()
        mai = {"Authorization": f"Bearer {await story.login()}"}
        created = await world.ask("landlord", purpose="rental_screening", template=SCREENING, retention_days=90)
        world.advance(seconds=world.deployment.verifier.request_lifetime_seconds + 1)
        refused = await world.wallet.post("/presentation-requests", headers=mai,
                                          json={"uri": created["authorization_request_uri"]})
        assert refused.status_code < 500, refused.text
        assert "expired" in refused.json()["error_description"]
