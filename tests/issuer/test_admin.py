"""The admin API: offers for residents, checked against the credential type, behind the admin key."""

from __future__ import annotations

from typing import Any

import pytest

from tsunagu import oid4vci

from .conftest import ADMIN, EMPLOYMENT_CLAIMS, Issuer, assert_error

pytestmark = pytest.mark.anyio


def offer_body(**changes: Any) -> dict[str, Any]:
    return {"credential_configuration_id": "EmploymentCertificate", "subject": "employee 4711", "claims": EMPLOYMENT_CLAIMS, **changes}


async def test_offer_without_tx_code(issuer: Issuer) -> None:
    response = await issuer.client.post("/admin/employer/offers", json=offer_body(), headers=ADMIN)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["tx_code"] is None
    offer = oid4vci.parse_credential_offer(created["credential_offer"])
    assert offer.credential_issuer == "https://issuer.test/employer"
    assert offer.credential_configuration_ids == ("EmploymentCertificate",)
    assert offer.pre_authorized_code is not None and offer.pre_authorized_code.tx_code is None
    assert created["credential_offer_uri"] == f"https://issuer.test/employer/credential-offers/{created['offer_id']}"
    assert created["expires_at"].startswith("2026-11-23T09:15:00")


@pytest.mark.parametrize(
    ("headers", "challenge"),
    [({}, "Bearer"), ({"Authorization": "Bearer wrong"}, "Bearer"), ({"Authorization": "Basic YWRtaW46YWRtaW4="}, "Bearer")],
)
async def test_admin_key_required(issuer: Issuer, headers: dict[str, str], challenge: str) -> None:
    response = await issuer.client.post("/admin/employer/offers", json=offer_body(), headers=headers)
    assert_error(response, 401, "invalid_token")
    assert response.headers["www-authenticate"].startswith(challenge)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(offer_body(claims={**EMPLOYMENT_CLAIMS, "my_number": "123456789012"}), id="unknown claim"),
        pytest.param(offer_body(claims={**EMPLOYMENT_CLAIMS, '年収"\\': 1}), id="unknown claim named in Japanese"),
        pytest.param(offer_body(claims={**EMPLOYMENT_CLAIMS, "annual_income": "a lot"}), id="wrong type"),
        pytest.param(offer_body(claims={k: v for k, v in EMPLOYMENT_CLAIMS.items() if k != "employee_name"}), id="mandatory claim missing"),
        pytest.param(offer_body(claims={**EMPLOYMENT_CLAIMS, "employment_type": "gig"}), id="value outside the set"),
        pytest.param(offer_body(credential_configuration_id="ResidenceCard"), id="configuration of another tenant"),
        pytest.param(offer_body(credential_configuration_id="Passport"), id="unknown configuration"),
        pytest.param(offer_body(expires_in=5), id="expiry too short"),
        pytest.param(offer_body(subject=""), id="empty subject"),
        pytest.param(offer_body(extra="x"), id="unknown field"),
        pytest.param({"subject": "x"}, id="nothing offered"),
    ],
)
async def test_offers_that_do_not_fit_are_invalid_request(issuer: Issuer, body: dict[str, Any]) -> None:
    assert_error(await issuer.client.post("/admin/employer/offers", json=body, headers=ADMIN), 400, "invalid_request")


async def test_unknown_tenant_and_unknown_offer(issuer: Issuer) -> None:
    assert (await issuer.client.post("/admin/bank/offers", json=offer_body(), headers=ADMIN)).status_code == 404
    assert (await issuer.client.get("/admin/employer/offers/nope", headers=ADMIN)).status_code == 404
    created = await issuer.offer()
    # One tenant's admin view does not show another tenant's offers.
    assert (await issuer.client.get(f"/admin/tax-office/offers/{created['offer_id']}", headers=ADMIN)).status_code == 404
    assert (await issuer.client.get(f"/tax-office/credential-offers/{created['offer_id']}")).status_code == 404
    assert (await issuer.client.get("/employer/credential-offers/guess")).status_code == 404


async def test_residence_card_and_tax_certificate_offers(issuer: Issuer) -> None:
    card = {
        "family_name": "NGUYEN", "given_name": "THI MAI", "birthdate": "1994-03-12", "nationality_region": "Viet Nam",
        "status_of_residence": "Engineer/Specialist in Humanities/International Services", "period_of_stay": "5 years",
        "stay_expiry_date": "2029-04-01", "card_number": "AB12345678CD", "card_expiry_date": "2029-04-01", "work_restriction": "none",
    }
    assert (await issuer.offer("immigration", configuration="ResidenceCard", claims=card))["offer_id"]
    tax = {"fiscal_year": 2026, "income_year": 2025, "municipality": "Shibuya City", "taxable_income": 2_900_000,
           "tax_paid": 290_000, "no_arrears": True}
    assert (await issuer.offer("tax-office", configuration="ResidentTaxCertificate", claims=tax))["offer_id"]
    response = await issuer.client.post(
        "/admin/tax-office/offers",
        json={"credential_configuration_id": "ResidentTaxCertificate", "subject": "x", "claims": {**tax, "income_year": 2026}},
        headers=ADMIN,
    )
    assert_error(response, 400, "invalid_request")
    assert "income_year" in response.json()["error_description"]
