"""Presentation requests (OpenID4VP 1.0) against the real verifier: what the resident sees, consent, answers."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import anyio
import pytest

from tsunagu.encoding import json_loads
from tsunagu.sd_jwt.holder import decode_sd_jwt

from .conftest import EMPLOYMENT_CLAIMS, RENTAL_CLAIMS, World, assert_error

pytestmark = pytest.mark.anyio


def posted_vp_tokens(world: World) -> list[dict[str, list[str]]]:
    out = []
    for body in world.to_verifier.posted():
        form = parse_qs(body.decode())
        if "vp_token" in form:
            out.append(json_loads(form["vp_token"][0]))
    return out


async def approve(world: World, resident: dict[str, str], request_id: str, **body: Any) -> dict[str, Any]:
    response = await world.wallet.post(f"/presentation-requests/{request_id}/approve", headers=resident, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_consent_is_recorded_and_only_the_approved_claims_leave(world: World) -> None:
    mai = await world.resident()
    credential = await world.receive(mai)
    created = await world.ask()
    shown = await world.show(mai, created)
    (query,) = shown["credential_queries"]
    assert [c["path"][0] for c in query["claims"]] == RENTAL_CLAIMS
    assert query["claims"][0]["name"] == {"en": "Employer", "ja": "勤務先"}
    assert not any(c["flagged"] for c in query["claims"])

    world.clock.advance(seconds=30)
    presentation = await approve(world, mai, shown["id"])
    (consent,) = (await world.wallet.get("/consents", headers=mai)).json()
    assert consent["verifier"] == {"client_id": created["client_id"], "name": {"en": "Sakura Homes", "ja": "さくら不動産"},
                                   "registered": True}
    assert consent["purpose"]["code"] == "rental_screening"
    assert consent["purpose"]["text"]["en"] and consent["purpose"]["text"]["ja"]
    assert consent["retention_days"] == 90 and consent["registry"] == "https://registry.tsunagu.example"
    assert consent["claims"] == {"employment": [[name] for name in RENTAL_CLAIMS]}
    assert consent["credentials"] == {"employment": credential["id"]}
    assert consent["request_id"] == shown["id"] and consent["granted_at"].startswith("2026-11-23T09:00:30")

    assert presentation["consent_id"] == consent["id"] and presentation["kind"] == "presentation"
    assert presentation["status"] == "sent" and presentation["verifier_status"] == 200
    assert presentation["claims"] == consent["claims"]
    assert (await world.wallet.get("/presentations", headers=mai)).json() == [presentation]

    # What actually left the wallet: the approved disclosures, bound to this request and this verifier.
    (vp_token,) = posted_vp_tokens(world)
    (sent,) = vp_token["employment"]
    decoded = decode_sd_jwt(sent)
    assert {d.name for d in decoded.disclosures} == set(RENTAL_CLAIMS)
    assert decoded.kb_payload is not None and decoded.kb_payload["aud"] == created["client_id"]
    result = await world.result(created)
    assert result["result"]["decision"] == "accepted"
    assert (await world.wallet.get(f"/presentation-requests/{shown['id']}", headers=mai)).json()["status"] == "presented"
    assert (await world.wallet.get(f"/credentials/{credential['id']}", headers=mai)).json()["copies_left"] == 2


async def test_each_copy_is_shown_once_so_verifiers_cannot_link_presentations(world: World) -> None:
    mai = await world.resident()
    credential = await world.receive(mai)
    for tenant in ("landlord", "landlord", "bank"):
        ask = (await world.ask(tenant) if tenant == "landlord" else
               await world.ask(tenant, purpose="account_opening_kyc", retention_days=30, dcql_query={"credentials": [{
                   "id": "employment", "format": "dc+sd-jwt",
                   "meta": {"vct_values": ["urn:tsunagu:vct:employment-certificate:1"]},
                   "claims": [{"path": ["employer_name"]}, {"path": ["employment_type"]}]}]}))
        shown = await world.show(mai, ask)
        assert (await approve(world, mai, shown["id"]))["status"] == "sent"
        assert (await world.result(ask))["result"]["decision"] == "accepted"
    sent = [decode_sd_jwt(token["employment"][0]) for token in posted_vp_tokens(world)]
    holder_keys = {d.payload["cnf"]["jwk"]["x"] for d in sent}
    signatures = {d.sd_jwt.issuer_jwt.rsplit(".", 1)[1] for d in sent}
    assert len(holder_keys) == 3 and len(signatures) == 3

    # All three copies are used: the credential is no longer offered, and approving is refused.
    assert (await world.wallet.get(f"/credentials/{credential['id']}", headers=mai)).json()["copies_left"] == 0
    shown = await world.show(mai, await world.ask())
    assert shown["credential_queries"][0]["candidates"] == [] and shown["satisfiable"] is False
    refused = await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=mai, json={})
    assert_error(refused, 400, "invalid_request")
    assert len((await world.wallet.get("/consents", headers=mai)).json()) == 3


async def test_claims_outside_the_registered_purpose_are_flagged_and_refused(world: World) -> None:
    mai = await world.resident()
    await world.receive(mai)
    created = await world.ask(template="rental_screening_employment_income_and_nationality")
    shown = await world.show(mai, created)
    assert shown["within_registration"] is False and shown["satisfiable"] is True
    flagged = {f["path"][0]: f for f in shown["flags"]}
    assert set(flagged) == {"birthdate", "nationality_region"}
    assert "rental_screening" in flagged["birthdate"]["reason"]["en"] and flagged["birthdate"]["reason"]["ja"]
    claims = {c["path"][0]: c for c in shown["credential_queries"][0]["claims"]}
    assert {name for name, c in claims.items() if c["flagged"]} == {"birthdate", "nationality_region"}
    values = {c["path"][0]: c["value"] for c in shown["credential_queries"][0]["candidates"][0]["claims"]}
    assert values["nationality_region"] == EMPLOYMENT_CLAIMS["nationality_region"]  # the resident sees what is asked

    refused = await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=mai, json={})
    assert "birthdate" in assert_error(refused, 403, "outside_registered_purpose")["error_description"]
    # Nothing was recorded and nothing left the wallet; the request can still be declined.
    assert (await world.wallet.get("/consents", headers=mai)).json() == []
    assert world.to_verifier.posted() == []

    declined = await world.wallet.post(f"/presentation-requests/{shown['id']}/decline", headers=mai)
    assert declined.status_code == 200, declined.text
    assert {k: declined.json()[k] for k in ("kind", "status", "consent_id", "claims")} == {
        "kind": "decline", "status": "sent", "consent_id": None, "claims": {}}
    (body,) = world.to_verifier.posted()
    assert parse_qs(body.decode())["error"] == ["access_denied"]
    result = await world.result(created)
    assert result["status"] == "declined" and result["wallet_error"]["error"] == "access_denied"
    assert (await world.wallet.get("/presentations", headers=mai)).json() == [declined.json()]
    again = await world.wallet.post(f"/presentation-requests/{shown['id']}/decline", headers=mai)
    assert_error(again, 409, "request_already_answered")


async def test_retention_beyond_the_registration_is_shown_and_refused(world: World) -> None:
    mai = await world.resident()
    await world.receive(mai)
    shown = await world.show(mai, await world.ask(retention_days=365))
    assert shown["retention"] == {"days": 365, "max_registered_days": 90, "exceeded": True}
    assert shown["flags"] == [] and shown["within_registration"] is False
    refused = await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=mai, json={})
    assert "365 days" in assert_error(refused, 403, "outside_registered_purpose")["error_description"]


async def test_purpose_the_verifier_is_not_registered_for(world: World) -> None:
    mai = await world.resident()
    await world.receive(mai)
    shown = await world.show(mai, await world.ask(purpose="employment_verification"))
    assert shown["purpose"]["registered"] is False
    assert {f["path"][0] for f in shown["flags"]} == set(RENTAL_CLAIMS)
    refused = await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=mai, json={})
    assert_error(refused, 403, "outside_registered_purpose")


CLAIM_SETS_QUERY = {"credentials": [{
    "id": "employment", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:tsunagu:vct:employment-certificate:1"]},
    "claims": [{"id": "employer", "path": ["employer_name"]}, {"id": "income", "path": ["annual_income"]},
               {"id": "title", "path": ["job_title"]}],
    "claim_sets": [["employer", "income", "title"], ["employer", "income"]]}]}


async def test_sharing_less_where_claim_sets_allow(world: World) -> None:
    mai = await world.resident()
    await world.receive(mai)
    created = await world.ask(dcql_query=CLAIM_SETS_QUERY)
    shown = await world.show(mai, created)
    (query,) = shown["credential_queries"]
    assert query["claim_sets"] == [["employer", "income", "title"], ["employer", "income"]]
    assert query["candidates"][0]["claim_set_options"] == [0, 1]
    presentation = await approve(world, mai, shown["id"], claim_set=1)
    assert presentation["claims"] == {"employment": [["employer_name"], ["annual_income"]]}
    (vp_token,) = posted_vp_tokens(world)
    assert {d.name for d in decode_sd_jwt(vp_token["employment"][0]).disclosures} == {"employer_name", "annual_income"}
    result = await world.result(created)
    assert result["result"]["decision"] == "accepted"
    assert set(result["claims"]["employment"][0]) >= {"employer_name", "annual_income"}
    assert "job_title" not in result["claims"]["employment"][0]


@pytest.mark.parametrize(("body", "reason"), [
    ({"claim_set": 2}, "no set 2"),
    ({"credentials": {"residence": "x"}}, "no credential query 'residence'"),
    ({"credentials": {"employment": "not-mine"}}, "no usable credential"),
    ({"credentials": {}}, "at least one"),
])
async def test_choices_that_do_not_answer_the_request(world: World, body: dict[str, Any], reason: str) -> None:
    mai = await world.resident()
    await world.receive(mai)
    shown = await world.show(mai, await world.ask(dcql_query=CLAIM_SETS_QUERY))
    refused = await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=mai, json=body)
    assert reason in assert_error(refused, 400, "invalid_request")["error_description"]
    assert (await world.wallet.get("/consents", headers=mai)).json() == []
    assert world.to_verifier.posted() == []


async def test_the_request_uri_alone_and_request_uri_method_post(world: World) -> None:
    mai = await world.resident()
    await world.receive(mai)
    bare = await world.ask()
    response = await world.wallet.post("/presentation-requests", headers=mai, json={"uri": bare["request_uri"]})
    assert response.status_code == 201, response.text
    assert response.json()["verifier"]["client_id"] == bare["client_id"]

    posted = await world.ask(request_uri_method="post")
    shown = await world.show(mai, posted)
    methods = [(method, path) for method, path, _ in world.to_verifier.sent if path.endswith("/object")]
    assert methods[-1] == ("POST", urlsplit(posted["request_uri"]).path)
    assert (await approve(world, mai, shown["id"]))["status"] == "sent"
    assert (await world.result(posted))["result"]["decision"] == "accepted"


def _link(client_id: str, request_uri: str) -> str:
    return f"openid4vp://?client_id={quote(client_id, safe='')}&request_uri={quote(request_uri, safe='')}"


async def test_requests_the_wallet_refuses(world: World) -> None:
    mai = await world.resident()
    created = await world.ask()
    cases = [
        # A verifier the registry does not know: refused before anything is fetched from it.
        (_link("x509_san_dns:unknown.example", created["request_uri"]), 400, "invalid_client"),
        # A registered verifier's name on another verifier's request.
        (_link(world.bank.registry_entry.client_id, created["request_uri"]), 400, "invalid_request"),
        (_link(created["client_id"], "http://verifier.test/landlord/requests/x/object"), 400, "invalid_request"),
        (_link(created["client_id"], "https://down.test/object"), 502, "verifier_unavailable"),
        ("openid4vp://?client_id=x&request_uri=https%3A%2F%2Fv.test%2Fr&request_uri_method=put", 400,
         "invalid_request_uri_method"),
        ("openid4vp://?client_id=x509_hash%3Aabc&dcql_query=%7B%7D", 400, "invalid_request"),
    ]
    for uri, status, error in cases:
        before = len(world.to_verifier.sent)
        assert_error(await world.wallet.post("/presentation-requests", headers=mai, json={"uri": uri}), status, error)
        if error == "invalid_client":
            assert len(world.to_verifier.sent) == before
    assert (await world.wallet.get("/presentation-requests", headers=mai)).json() == []


async def test_a_request_is_answered_once_and_not_after_it_expires(world: World) -> None:
    mai = await world.resident()
    await world.receive(mai)
    first = await world.show(mai, await world.ask())
    late = await world.show(mai, await world.ask())
    assert (await approve(world, mai, first["id"]))["status"] == "sent"
    again = await world.wallet.post(f"/presentation-requests/{first['id']}/approve", headers=mai, json={})
    assert_error(again, 409, "request_already_answered")

    world.clock.advance(seconds=301)  # the verifier's request object lives 300 s
    for action in ("approve", "decline"):
        expired = await world.wallet.post(f"/presentation-requests/{late['id']}/{action}", headers=mai, json={})
        assert_error(expired, 409, "request_expired")
    assert (await world.wallet.get(f"/presentation-requests/{late['id']}", headers=mai)).json()["status"] == "expired"
    assert len((await world.wallet.get("/consents", headers=mai)).json()) == 1


async def test_when_sending_fails_the_consent_stays_and_the_presentation_is_recorded_failed(world: World) -> None:
    mai = await world.resident()
    await world.receive(mai)
    shown = await world.show(mai, await world.ask())
    world.to_verifier.refuse_responses = True
    presentation = await approve(world, mai, shown["id"])
    assert presentation["status"] == "failed" and "could not be reached" in presentation["error"]
    (consent,) = (await world.wallet.get("/consents", headers=mai)).json()
    assert presentation["consent_id"] == consent["id"]
    assert (await world.wallet.get(f"/presentation-requests/{shown['id']}", headers=mai)).json()["status"] == "failed"
    assert_error(await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=mai, json={}),
                 409, "request_already_answered")


async def test_records_are_listed_newest_first(world: World) -> None:
    mai = await world.resident()
    await world.receive(mai)
    ids = []
    for _ in range(2):
        shown = await world.show(mai, await world.ask())
        ids.append((await approve(world, mai, shown["id"]))["id"])
        world.clock.advance(seconds=10)
    assert [p["id"] for p in (await world.wallet.get("/presentations", headers=mai)).json()] == ids[::-1]
    consents = (await world.wallet.get("/consents", headers=mai)).json()
    assert consents[0]["granted_at"] > consents[1]["granted_at"]


async def test_two_approvals_at_once_send_one_presentation(world: World) -> None:
    mai = await world.resident()
    await world.receive(mai)
    shown = await world.show(mai, await world.ask())
    statuses: list[int] = []

    async def press() -> None:
        response = await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=mai, json={})
        statuses.append(response.status_code)

    async with anyio.create_task_group() as group:
        group.start_soon(press)
        group.start_soon(press)
    assert sorted(statuses) == [200, 409]
    assert len(world.to_verifier.posted()) == 1
    assert len((await world.wallet.get("/consents", headers=mai)).json()) == 1


async def test_a_request_nothing_answers_says_why(world: World) -> None:
    mai = await world.resident()
    shown = await world.show(mai, await world.ask())
    (query,) = shown["credential_queries"]
    assert shown["satisfiable"] is False and query["candidates"] == []
    assert "urn:tsunagu:vct:employment-certificate:1" in query["mismatch"]
    refused = await world.wallet.post(f"/presentation-requests/{shown['id']}/approve", headers=mai, json={})
    assert "do not answer this request" in assert_error(refused, 400, "invalid_request")["error_description"]
    assert [r["id"] for r in (await world.wallet.get("/presentation-requests", headers=mai)).json()] == [shown["id"]]


async def test_openapi_documents_every_endpoint(world: World) -> None:
    paths = set((await world.wallet.get("/openapi.json")).json()["paths"])
    assert {"/admin/residents", "/session", "/me", "/offers", "/credentials", "/credentials/{credential_id}",
            "/presentation-requests", "/presentation-requests/{request_id}",
            "/presentation-requests/{request_id}/approve", "/presentation-requests/{request_id}/decline",
            "/consents", "/consents/{consent_id}", "/presentations", "/presentations/{presentation_id}"} <= paths
    assert (await world.wallet.get("/docs")).status_code == 200
