"""A landlord asks for employment and income; a wallet answers; the verifier decides and explains why."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tsunagu import jose
from tsunagu.oid4vp import TYP_REQUEST_OBJECT

from .conftest import ADMIN, INCOME_PATHS, NOW, REVOKED_IDX, TAX_OFFICE, VCT_RESIDENCE_CARD, VCT_RESIDENT_TAX, World, checks_by_id

pytestmark = pytest.mark.anyio

ALL_CHECKS = ["format", "issuer_trusted", "issuer_key", "issuer_signature", "validity_period", "disclosures",
              "holder_binding", "status", "query", "consent_receipt"]


async def test_the_landlord_gets_accepted_with_every_check_explained(world: World) -> None:
    created = await world.create(purpose_text={"en": "Screening your application for flat 301", "ja": "301号室の入居審査"})
    assert created["authorization_request_uri"].startswith("openid4vp://?client_id=x509_hash%3A")
    assert created["qr_svg"].startswith("<svg")
    assert created["registration_warnings"] == []
    request = await world.fetch_request(created)
    assert request.purpose is not None and request.purpose.text_ja == "301号室の入居審査"
    assert request.purpose.retention_days == 90

    presentation = world.present(world.credential(), request, INCOME_PATHS)
    response = await world.respond(request, {"employment": [presentation]})
    assert (response.status_code, response.json()) == (200, {})
    assert response.headers["content-type"] == "application/json"

    result = await world.result(created)
    assert result["status"] == "completed"
    assert result["result"]["decision"] == "accepted"
    checks = result["result"]["checks"]
    assert [c["id"] for c in checks] == ALL_CHECKS
    assert all(c["outcome"] == "passed" and c["party"] is None for c in checks[:-1])
    # A wallet that sends no consent receipt (any OpenID4VP wallet) is not held against the resident.
    assert checks[-1]["outcome"] == "skipped" and result["consent"] is None
    assert checks_by_id(result)["issuer_trusted"]["reason"] == {
        "en": f"Sakura Logistics is registered as an issuer of {request.dcql_query.credentials[0].vct_values[0]}.",
        "ja": "さくら物流 は、この種類の証明書の発行者として登録されています。"}
    # Only what was disclosed arrived: birthdate and nationality stayed in the wallet.
    assert result["claims"] == {"employment": [{
        "iss": "https://issuer.test/employer", "vct": request.dcql_query.credentials[0].vct_values[0],
        "iat": int((NOW - timedelta(days=30)).timestamp()), "exp": int((NOW + timedelta(days=335)).timestamp()),
        "cnf": {"jwk": world.holder_key.public.to_jwk()},
        "status": {"status_list": {"idx": 3, "uri": "https://issuer.test/employer/status/1"}},
        "employer_name": "さくら物流株式会社", "employment_type": "regular", "employment_start_date": "2021-04-01",
        "job_title": "Logistics Planner", "annual_income": 4_800_000,
    }]}
    assert result["retain_until"].startswith((NOW + timedelta(days=90)).date().isoformat())
    assert world.issuer.hits == ["metadata", "status"]


async def test_the_request_object_is_signed_with_the_tenants_certificate(world: World) -> None:
    created = await world.create("bank", purpose="account_opening_kyc", template="account_opening_kyc", retention_days=30)
    response = await world.client.get(f"/bank/requests/{created['request_id']}/object")
    jws = jose.parse_compact(response.text, typ=TYP_REQUEST_OBJECT)
    assert jws.header["x5c"] == list(world.bank.tenant.x5c)
    assert jws.payload["client_id"] == created["client_id"] == world.bank.registry_entry.client_id
    assert created["client_id"].startswith("x509_san_dns:")
    assert jws.payload["response_uri"] == f"https://verifier.test/bank/responses/{created['request_id']}"
    assert response.headers["cache-control"] == "no-store"
    request = await world.fetch_request(created)
    assert len(request.nonce) == 22 and len(request.state or "") == 22  # 128 bits, base64url


async def test_request_uri_method_post_echoes_the_wallet_nonce(world: World) -> None:
    created = await world.create(request_uri_method="post")
    assert created["authorization_request_uri"].endswith("&request_uri_method=post")
    response = await world.client.post(f"/landlord/requests/{created['request_id']}/object",
                                       content="wallet_nonce=qPmxiNFCR3QTm19POc8u&wallet_metadata=%7B%7D",
                                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200, response.text
    assert jose.parse_compact(response.text, typ=TYP_REQUEST_OBJECT).payload["wallet_nonce"] == "qPmxiNFCR3QTm19POc8u"


# --- rejections, each with its check, reason and party -----------------------------------------------------


async def _answer(world: World, created: dict[str, Any], vp_token: dict[str, list[str]]) -> dict[str, Any]:
    request = await world.fetch_request(created)
    response = await world.respond(request, vp_token)
    assert (response.status_code, response.json()) == (200, {}), response.text
    result = await world.result(created)
    assert result["status"] == "completed"
    assert result["result"]["decision"] == "rejected"
    assert result["claims"] is None  # nothing is kept from a rejected answer
    return result


def _the_failure(result: dict[str, Any]) -> dict[str, Any]:
    failed = [c for c in result["result"]["checks"] if c["outcome"] == "failed"]
    assert len(failed) == 1, failed
    return failed[0]


async def test_an_issuer_not_registered_for_the_vct_is_refused_before_anything_is_fetched(world: World) -> None:
    query = {"credentials": [{"id": "card", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT_RESIDENCE_CARD]},
                              "claims": [{"path": ["employer_name"]}]}]}
    created = await world.create(dcql_query=query)
    request = await world.fetch_request(created)
    presentation = world.present(world.credential(vct=VCT_RESIDENCE_CARD), request, [("employer_name",)])
    response = await world.respond(request, {"card": [presentation]})
    assert response.status_code == 200
    result = await world.result(created)
    failure = _the_failure(result)
    assert (failure["id"], failure["party"], failure["code"]) == (
        "issuer_trusted", "issuer", "trust.issuer_not_trusted_for_vct")
    assert failure["reason"]["ja"] == "この発行者は、この種類の証明書の発行者として登録されていません。"
    checks = checks_by_id(result)
    assert checks["format"]["outcome"] == "passed"
    assert all(checks[c]["outcome"] == "skipped" for c in ALL_CHECKS[2:])
    assert world.issuer.hits == []


async def test_a_presentation_for_another_nonce_is_the_residents_failure(world: World) -> None:
    created = await world.create()
    request = await world.fetch_request(created)
    result = await _answer(world, created, {"employment": [
        world.present(world.credential(), request, INCOME_PATHS, nonce="a-different-request")]})
    failure = _the_failure(result)
    assert (failure["id"], failure["party"], failure["code"]) == ("holder_binding", "resident", "kb_jwt.nonce_mismatch")
    assert failure["reason"]["en"] == "the presentation was made for a different request (nonce mismatch)"
    checks = checks_by_id(result)
    assert [checks[c]["outcome"] for c in ALL_CHECKS] == ["passed"] * 6 + ["failed", "skipped", "skipped", "skipped"]


@pytest.mark.parametrize("aud", ["x509_san_dns:landlord.tsunagu.example", "<client_id without its prefix>"])
async def test_a_presentation_for_another_audience_is_refused(world: World, aud: str) -> None:
    created = await world.create()
    request = await world.fetch_request(created)
    if aud.startswith("<"):
        aud = request.client_id.split(":", 1)[1]
    result = await _answer(world, created, {"employment": [world.present(world.credential(), request, INCOME_PATHS, aud=aud)]})
    failure = _the_failure(result)
    assert (failure["id"], failure["party"], failure["code"]) == ("holder_binding", "resident", "kb_jwt.aud_mismatch")


async def test_a_stale_presentation_fails_holder_binding(world: World) -> None:
    created = await world.create()
    request = await world.fetch_request(created)
    presentation = world.present(world.credential(), request, INCOME_PATHS)
    world.clock.now = NOW + timedelta(minutes=10)  # the request is still open; the KB-JWT is not fresh
    result = await _answer(world, created, {"employment": [presentation]})
    failure = _the_failure(result)
    assert (failure["id"], failure["code"]) == ("holder_binding", "kb_jwt.iat_out_of_window")


async def test_a_disclosure_removed_after_signing_breaks_sd_hash(world: World) -> None:
    created = await world.create()
    request = await world.fetch_request(created)
    parts = world.present(world.credential(), request, INCOME_PATHS).split("~")
    tampered = "~".join(parts[:1] + parts[2:])  # drop one disclosure, keep the KB-JWT
    result = await _answer(world, created, {"employment": [tampered]})
    failure = _the_failure(result)
    assert (failure["id"], failure["party"], failure["code"]) == ("holder_binding", "resident", "kb_jwt.sd_hash_mismatch")


async def test_missing_claims_fail_the_query(world: World) -> None:
    created = await world.create()
    request = await world.fetch_request(created)
    result = await _answer(world, created, {"employment": [
        world.present(world.credential(), request, [("employer_name",), ("job_title",)])]})
    failure = _the_failure(result)
    assert (failure["id"], failure["party"], failure["code"], failure["credential"]) == (
        "query", "resident", "dcql.not_satisfied", None)
    assert "employment_type" in failure["reason"]["en"]


async def test_an_expired_credential_is_the_issuers_matter(world: World) -> None:
    created = await world.create()
    request = await world.fetch_request(created)
    credential = world.credential(exp=NOW - timedelta(days=1))
    result = await _answer(world, created, {"employment": [world.present(credential, request, INCOME_PATHS)]})
    failure = _the_failure(result)
    assert (failure["id"], failure["party"], failure["code"]) == ("validity_period", "issuer", "sd_jwt.expired")
    assert failure["reason"]["ja"].startswith("証明書の有効期限が切れています")


async def test_a_revoked_credential_is_refused_by_its_status(world: World) -> None:
    created = await world.create()
    request = await world.fetch_request(created)
    credential = world.credential(status_idx=REVOKED_IDX)
    result = await _answer(world, created, {"employment": [world.present(credential, request, INCOME_PATHS)]})
    failure = _the_failure(result)
    assert (failure["id"], failure["party"], failure["code"]) == ("status", "issuer", "credential_status.revoked")
    assert failure["reason"] == {
        "en": "Revoked by Sakura Logistics on 2026-11-21 (the date of the status list in which the issuer published it).",
        "ja": "さくら物流が2026年11月21日にこの証明書を失効させました（発行者が公表した失効リストの日付）。"}


async def test_a_forged_credential_fails_the_issuer_signature(world: World) -> None:
    from tsunagu.jwk import generate_key

    created = await world.create()
    request = await world.fetch_request(created)
    forged = world.credential(key=generate_key("ES256", kid="employer-2026"))
    result = await _answer(world, created, {"employment": [world.present(forged, request, INCOME_PATHS)]})
    failure = _the_failure(result)
    assert (failure["id"], failure["code"]) == ("issuer_signature", "sd_jwt.issuer_signature_invalid")


async def test_an_issuer_that_cannot_be_reached_is_a_network_failure(world: World) -> None:
    query = {"credentials": [{"id": "tax", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT_RESIDENT_TAX]},
                              "claims": [{"path": ["employer_name"]}]}]}
    created = await world.create(dcql_query=query)
    request = await world.fetch_request(created)
    credential = world.credential(vct=VCT_RESIDENT_TAX, iss=TAX_OFFICE)
    result = await _answer(world, created, {"tax": [world.present(credential, request, [("employer_name",)])]})
    failure = _the_failure(result)
    assert (failure["id"], failure["party"], failure["code"]) == ("issuer_key", "network", "fetch.unreachable")


async def test_a_declined_request_is_recorded(world: World) -> None:
    created = await world.create()
    request = await world.fetch_request(created)
    body = f"error=access_denied&error_description=declined%20by%20the%20resident&state={request.state}"
    response = await world.client.post(f"/landlord/responses/{created['request_id']}", content=body,
                                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (response.status_code, response.json()) == (200, {})
    result = await world.result(created)
    assert (result["status"], result["result"], result["claims"]) == ("declined", None, None)
    assert result["wallet_error"] == {"error": "access_denied", "error_description": "declined by the resident"}


# --- refused at the response_uri: the spec's error JSON, and nothing changes -----------------------------


async def test_a_replayed_response_is_refused_and_the_decision_stands(world: World) -> None:
    created = await world.create()
    request = await world.fetch_request(created)
    vp_token = {"employment": [world.present(world.credential(), request, INCOME_PATHS)]}
    assert (await world.respond(request, vp_token)).status_code == 200
    replay = await world.respond(request, vp_token)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_request"
    assert "already been answered" in replay.json()["error_description"]
    assert replay.headers["cache-control"] == "no-store"
    assert (await world.result(created))["result"]["decision"] == "accepted"


async def test_an_unknown_state_is_refused_and_the_request_stays_open(world: World) -> None:
    created = await world.create()
    request = await world.fetch_request(created)
    vp_token = {"employment": [world.present(world.credential(), request, INCOME_PATHS)]}
    for state in ("not-the-state", None):
        response = await world.respond(request, vp_token, state=state)
        assert (response.status_code, response.json()["error"]) == (400, "invalid_request")
    assert (await world.result(created))["status"] == "pending"
    assert (await world.respond(request, vp_token)).status_code == 200


async def test_a_response_for_an_unknown_request_is_refused(world: World) -> None:
    response = await world.client.post("/landlord/responses/no-such-request", content="vp_token=%7B%7D&state=x",
                                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


@pytest.mark.parametrize(("body", "content_type"), [
    ("vp_token=not-json&state=s", "application/x-www-form-urlencoded"),
    ('{"vp_token": {}}', "application/json"),
    ("", "application/x-www-form-urlencoded"),
    ("vp_token=%7B%7D&vp_token=%7B%7D", "application/x-www-form-urlencoded"),
])
async def test_a_malformed_response_is_invalid_request_never_422_or_500(world: World, body: str, content_type: str) -> None:
    created = await world.create()
    response = await world.client.post(f"/landlord/responses/{created['request_id']}", content=body,
                                       headers={"Content-Type": content_type})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


async def test_an_expired_request_can_no_longer_be_fetched_or_answered(world: World) -> None:
    created = await world.create()
    request = await world.fetch_request(created)
    vp_token = {"employment": [world.present(world.credential(), request, INCOME_PATHS)]}
    world.clock.now = NOW + timedelta(hours=1)
    fetched = await world.client.get(f"/landlord/requests/{created['request_id']}/object")
    assert (fetched.status_code, fetched.json()["error"]) == (400, "invalid_request")
    answered = await world.respond(request, vp_token)
    assert (answered.status_code, answered.json()["error"]) == (400, "invalid_request")
    assert (await world.result(created))["status"] == "expired"


# --- the admin API --------------------------------------------------------------------------------------------


async def test_asking_beyond_the_registration_is_flagged_at_creation(world: World) -> None:
    created = await world.create(template="rental_screening_employment_income_and_nationality")
    flagged = [(w["path"], w["reason"]["en"]) for w in created["registration_warnings"]]
    assert [path for path, _ in flagged] == [["birthdate"], ["nationality_region"]]


@pytest.mark.parametrize(("path", "body", "status"), [
    ("/admin/landlord/requests", {"purpose": "rental_screening", "retention_days": 90}, 400),
    ("/admin/landlord/requests", {"purpose": "rental_screening", "retention_days": 90, "template": "nope"}, 400),
    ("/admin/landlord/requests", {"purpose": "marketing", "retention_days": 90,
                                  "template": "rental_screening_employment_income"}, 400),
    ("/admin/landlord/requests", {"purpose": "rental_screening", "retention_days": -1,
                                  "template": "rental_screening_employment_income"}, 400),
    ("/admin/landlord/requests", {"purpose": "rental_screening", "retention_days": 1, "dcql_query": {"credentials": []}},
     400),
    ("/admin/nobody/requests", {"purpose": "rental_screening", "retention_days": 1,
                                "template": "rental_screening_employment_income"}, 404),
])
async def test_bad_admin_input_is_refused_in_the_oauth_vocabulary(world: World, path: str, body: dict[str, Any],
                                                                  status: int) -> None:
    response = await world.client.post(path, json=body, headers=ADMIN)
    assert response.status_code == status, response.text
    assert response.json()["error"] == "invalid_request"


async def test_the_admin_api_needs_the_admin_key(world: World) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = await world.client.get("/admin/tenants", headers=headers)
        assert (response.status_code, response.json()["error"]) == (401, "invalid_token")


async def test_tenants_are_listed_with_their_registration(world: World) -> None:
    response = await world.client.get("/admin/tenants", headers=ADMIN)
    tenants = {t["tenant"]: t for t in response.json()}
    assert set(tenants) == {"bank", "landlord"}
    assert tenants["landlord"]["client_id"] == world.landlord.registry_entry.client_id
    assert tenants["bank"]["registered"] and tenants["landlord"]["registered"]


async def test_a_tenant_whose_certificate_is_not_its_key_is_refused(world: World) -> None:
    from tsunagu.jwk import generate_key

    spec = world.bank.tenant
    response = await world.client.put("/admin/tenants/bank2", headers=ADMIN, json={
        "name": {"en": "x", "ja": "x"}, "private_jwk": generate_key("ES256").to_jwk(include_private=True),
        "x5c": list(spec.x5c), "client_id_prefix": "x509_san_dns"})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


async def test_an_unknown_request_is_404(world: World) -> None:
    response = await world.client.get("/admin/landlord/requests/nope", headers=ADMIN)
    assert (response.status_code, response.json()["error"]) == (404, "invalid_request")
    fetched = await world.client.get("/nobody/requests/nope/object")
    assert fetched.status_code == 404


async def test_of_two_racing_responses_exactly_one_is_processed(world: World) -> None:
    import anyio

    created = await world.create()
    request = await world.fetch_request(created)
    vp_token = {"employment": [world.present(world.credential(), request, INCOME_PATHS)]}
    statuses: list[int] = []

    async def answer() -> None:
        statuses.append((await world.respond(request, vp_token)).status_code)

    async with anyio.create_task_group() as group:
        group.start_soon(answer)
        group.start_soon(answer)
    assert sorted(statuses) == [200, 400]
    assert (await world.result(created))["result"]["decision"] == "accepted"


async def test_templates_are_valid_dcql_and_listed(world: World) -> None:
    from tsunagu.dcql import parse_dcql_query

    response = await world.client.get("/admin/templates", headers=ADMIN)
    templates = {t["name"]: t for t in response.json()}
    assert "rental_screening_employment_income" in templates
    for template in templates.values():
        assert parse_dcql_query(template["dcql_query"]).credentials
        assert template["title"]["ja"]


def test_templates_and_demo_registrations_use_the_shared_claim_vocabulary() -> None:
    from tsunagu.credential_types import credential_type_for_vct
    from tsunagu.jwk import generate_key
    from tsunagu.x509 import create_root_ca
    from verifier.demo import build_demo_verifiers
    from verifier.templates import TEMPLATES

    asked = [(q["meta"]["vct_values"][0], c["path"][0]) for t in TEMPLATES.values()
             for q in t.dcql_query["credentials"] for c in q["claims"]]
    key = generate_key("ES256")
    root = create_root_ca(key, common_name="root", now=NOW, valid_for=timedelta(days=30))
    registered = [(ref.vct, ref.path[0]) for demo in build_demo_verifiers(
        ca_key=key, ca_certificate=root, public_url="https://verifier.test", now=NOW)
        for purpose in demo.registry_entry.purposes for ref in purpose.claims]
    for vct, name in asked + registered:
        credential_type = credential_type_for_vct(vct)
        assert credential_type is not None, vct
        assert name in {claim.name for claim in credential_type.claims}, (vct, name)
