"""The demo's story across the three services, asserting what each person sees.

Issue → hold → request → consent → present → verify → explain, then an over-asking request that
the wallet flags and the resident declines. The same code drives ``tsunagu demo``.
"""

from __future__ import annotations

import pytest

from tsunagu.cli.demo_story import EMPLOYMENT_CLAIMS
from tsunagu.local_time import japan_date

from .conftest import World

pytestmark = pytest.mark.anyio


def claim_names(view_query: dict) -> set[str]:  # type: ignore[type-arg]
    return {claim["path"][0] for claim in view_query["claims"]}


async def test_the_demo_story(world: World) -> None:
    outcome = await world.story().run()

    # The resident holds both credentials, with their claims readable in the wallet.
    employment, tax = outcome.credentials
    held = {claim["path"][0]: claim["value"] for claim in employment[0]["claims"]}
    assert held["employer_name"] == "Sakura Systems K.K."
    assert held["annual_income"] == 4_800_000
    assert tax[0]["type"]["configuration_id"] == "ResidentTaxCertificate"

    # The wallet tells Mai who asks, why and for how long, and nothing is flagged.
    view = outcome.consent_view
    assert view["verifier"]["name"]["en"] == "Sakura Homes"
    assert view["purpose"]["code"] == "rental_screening"
    assert view["retention"]["days"] == 90
    assert view["flags"] == [] and view["within_registration"] is True

    # The landlord accepts, with every check passed, and received only what it asked.
    result = outcome.screening_result
    assert result["status"] == "completed"
    assert result["result"]["decision"] == "accepted", result["result"]
    assert {check["outcome"] for check in result["result"]["checks"]} <= {"passed", "skipped"}
    received = result["claims"]["employment"][0]
    assert received["employer_name"] == EMPLOYMENT_CLAIMS["employer_name"]
    assert received["job_title"] == EMPLOYMENT_CLAIMS["job_title"]
    assert received["annual_income"] == EMPLOYMENT_CLAIMS["annual_income"]
    assert "birthdate" not in received and "nationality_region" not in received
    assert "employee_name" not in received

    # The over-asking request is flagged on exactly the two claims the purpose does not cover.
    over = outcome.over_asking_view
    assert over["within_registration"] is False
    assert {tuple(flag["path"]) for flag in over["flags"]} == {("birthdate",), ("nationality_region",)}
    # Mai declined: the landlord got access_denied and no data.
    assert outcome.over_asking_result["status"] == "declined"
    assert outcome.over_asking_result["claims"] is None
    refusal = outcome.over_asking_result["wallet_error"]
    assert refusal["error"] == "access_denied"
    assert "birthdate" in refusal["error_description"] and "nationality_region" in refusal["error_description"]

    # The employer revoked: the landlord's next check rejects, naming the issuer; Mai's wallet shows it.
    revoked = outcome.after_revocation_result["result"]
    assert revoked["decision"] == "rejected"
    status = next(check for check in revoked["checks"] if check["id"] == "status")
    assert (status["party"], status["reason"]["en"].startswith("Revoked by Sakura Systems K.K.")) == ("issuer", True)
    assert (outcome.revoked_in_wallet["status"], outcome.revoked_in_wallet["valid"]) == ("revoked", False)

    # The guarantor's ongoing access: its re-check, with no action from Mai, sees the revocation too.
    assert (outcome.guarantor_consent["access_type"], outcome.guarantor_consent["status"]) == ("ongoing", "active")
    refresh = outcome.guarantor_refresh
    assert (refresh["kind"], refresh["result"]["decision"]) == ("refresh", "rejected")
    status = next(check for check in refresh["result"]["checks"] if check["id"] == "status")
    assert status["reason"]["en"].startswith("Revoked by Sakura Systems K.K.")

    # Mai withdraws: the landlord is told, deletes what it received under the consent, and says so, signed.
    assert outcome.withdrawn_consent["status"] == "revoked"
    assert outcome.withdrawn_consent["deletion"]["outcome"] == "deleted"
    assert outcome.withdrawn_consent["status_text"]["en"].endswith("Sakura Homes confirmed on "
                                                                   f"{japan_date(world.clocks['wallet'].now)} "
                                                                   "that it deleted your data.")
    assert outcome.landlord_holdings["status"] == "revoked"
    assert not any(r["held"] for r in outcome.landlord_holdings["requests"])


async def test_consent_is_recorded_before_the_presentation(world: World) -> None:
    await world.story().run()
    token = await world.story().login()
    headers = {"Authorization": f"Bearer {token}"}
    consents = (await world.wallet.get("/consents", headers=headers)).json()
    presentations = (await world.wallet.get("/presentations", headers=headers)).json()

    # Three approvals (the screening, the guarantor's ongoing access, and the check after the revocation),
    # one decline: a consent for each presentation, none for the decline.
    assert len(consents) == 3
    guarantor = [c for c in consents if c["purpose"]["code"] == "guarantor_screening"]
    assert len(guarantor) == 1 and sorted(p[0] for p in guarantor[0]["claims"]["employment"]) == sorted(
        ["employer_name", "employment_type", "annual_income"])
    for consent in (c for c in consents if c not in guarantor):
        assert consent["verifier"]["name"]["en"] == "Sakura Homes"
        assert consent["purpose"]["code"] == "rental_screening"
        assert sorted(p[0] for p in consent["claims"]["employment"]) == sorted(
            ["employer_name", "employment_type", "employment_start_date", "job_title", "annual_income"]
        )
    sent = [p for p in presentations if p["kind"] == "presentation"]
    declined = [p for p in presentations if p["kind"] == "decline"]
    assert sorted(p["consent_id"] for p in sent) == sorted(c["id"] for c in consents)
    assert {p["status"] for p in sent} == {"sent"}
    assert len(declined) == 1 and declined[0]["consent_id"] is None
