"""The demo's story, told over the services' real HTTP APIs.

``tsunagu demo`` runs it against the three services it serves on localhost; the end-to-end tests
run it against the same apps in one process. Each step is one or two API calls a person could
make by hand from ``/docs``; ``narrate`` explains it in the terminal.

1. The employer and the city tax office issue credentials to Mai's wallet (OpenID4VCI).
2. The landlord asks for employment and income, for rental screening (OpenID4VP + DCQL).
3. Mai's wallet shows who asks, why, what exactly and for how long; she shares employer, job
   title and income, and not her birthdate or nationality, which the credential also holds.
4. The landlord sees ``accepted``, with every check and its reason.
5. The landlord asks again, this time also for birthdate and nationality, which rental screening
   is not registered for: the wallet flags both, and Mai declines.
6. Mai leaves her job; the employer revokes the certificate. Once the landlord's cached status
   list is older than its ``ttl``, its next check says "Revoked by Sakura Systems K.K." — and
   Mai's wallet, when she opens the credential, shows it revoked and stops offering it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from .demo_deployment import DemoDeployment, tenant_bodies

__all__ = ["Story", "StoryOutcome", "StoryFailed", "EMPLOYMENT_CLAIMS", "TAX_CLAIMS"]

Narrate = Callable[[str, str], None]
#: Lets time pass (the demo sleeps; a test moves its clocks instead).
Pause = Callable[[float], Awaitable[None]]

EMPLOYMENT_CLAIMS: Mapping[str, Any] = {
    "employee_name": "NGUYEN THI MAI",
    "birthdate": "1994-03-12",
    "nationality_region": "Viet Nam",
    "employer_name": "Sakura Systems K.K.",
    "employer_corporate_number": "1010401089234",
    "employment_type": "regular",
    "job_title": "Logistics Planner",
    "department": "Supply Chain Planning",
    "employment_start_date": "2022-04-01",
    "annual_income": 4_800_000,
    "social_insurance_enrolled": True,
    "as_of_date": "2026-11-20",
}

TAX_CLAIMS: Mapping[str, Any] = {
    "taxpayer_name": "NGUYEN THI MAI",
    "fiscal_year": 2026,
    "income_year": 2025,
    "municipality": "Shibuya City, Tokyo",
    "total_income": 3_360_000,
    "taxable_income": 2_480_000,
    "resident_tax_amount": 253_000,
    "tax_paid": 253_000,
    "no_arrears": True,
    "unpaid_amount": 0,
}


#: The length of a Tokyo lease: how long the guarantor may re-check employment.
GUARANTOR_ACCESS_DAYS = 730


class StoryFailed(Exception):
    """A step of the story got an answer it did not expect: the service's error, verbatim."""


@dataclass
class StoryOutcome:
    credentials: list[list[dict[str, Any]]] = field(default_factory=list)
    screening_request: dict[str, Any] = field(default_factory=dict)
    consent_view: dict[str, Any] = field(default_factory=dict)
    approval: dict[str, Any] = field(default_factory=dict)
    screening_result: dict[str, Any] = field(default_factory=dict)
    over_asking_view: dict[str, Any] = field(default_factory=dict)
    over_asking_result: dict[str, Any] = field(default_factory=dict)
    after_revocation_result: dict[str, Any] = field(default_factory=dict)
    revoked_in_wallet: dict[str, Any] = field(default_factory=dict)
    guarantor_consent: dict[str, Any] = field(default_factory=dict)
    guarantor_refresh: dict[str, Any] = field(default_factory=dict)
    withdrawn_consent: dict[str, Any] = field(default_factory=dict)
    landlord_holdings: dict[str, Any] = field(default_factory=dict)


def _silent(_title: str, _text: str) -> None:
    return None


@dataclass
class Story:
    deployment: DemoDeployment
    issuer: httpx.AsyncClient
    wallet: httpx.AsyncClient
    verifier: httpx.AsyncClient
    narrate: Narrate = _silent
    pause: Pause = asyncio.sleep

    async def run(self) -> StoryOutcome:
        outcome = StoryOutcome()
        await self.set_up()
        token = await self.login()
        outcome.credentials.append(await self.issue("employer", "EmploymentCertificate", EMPLOYMENT_CLAIMS, token))
        outcome.credentials.append(await self.issue("tax-office", "ResidentTaxCertificate", TAX_CLAIMS, token))

        outcome.screening_request = await self.ask("landlord", "rental_screening_employment_income")
        outcome.consent_view = await self.receive(token, outcome.screening_request)
        outcome.approval = await self.approve(token, outcome.consent_view)
        outcome.screening_result = await self.result("landlord", outcome.screening_request)

        over = await self.ask("landlord", "rental_screening_employment_income_and_nationality")
        outcome.over_asking_view = await self.receive(token, over)
        await self.decline(token, outcome.over_asking_view)
        outcome.over_asking_result = await self.result("landlord", over)

        guarantor = await self.ask("landlord", "guarantor_screening_employment", purpose="guarantor_screening",
                                   access_period_days=GUARANTOR_ACCESS_DAYS)
        guarantor_view = await self.receive(token, guarantor)
        await self.approve(token, guarantor_view)
        outcome.guarantor_consent = await self.consent_for(token, guarantor_view["id"])

        await self.revoke("employer", token)
        again = await self.ask("landlord", "rental_screening_employment_income")
        await self.approve(token, await self.receive(token, again))
        outcome.after_revocation_result = await self.result("landlord", again)
        outcome.guarantor_refresh = await self.refresh("landlord", outcome.guarantor_consent["id"])
        outcome.revoked_in_wallet = await self.open_credential(token, outcome.credentials[0][0]["id"])

        outcome.withdrawn_consent = await self.withdraw(token, outcome.guarantor_consent["id"])
        outcome.landlord_holdings = await self.holdings("landlord", outcome.guarantor_consent["id"])
        return outcome

    # --- set-up ---------------------------------------------------------------------------

    async def set_up(self) -> None:
        """Host the bank and the landlord in the verifier service, and open Mai's wallet account."""
        for slug, body in tenant_bodies(self.deployment).items():
            await self._call(self.verifier, "PUT", f"/admin/tenants/{slug}", admin="verifier", json=body)
        resident = self.deployment.resident
        await self._call(
            self.wallet,
            "POST",
            "/admin/residents",
            admin="wallet",
            json={
                "username": resident.username,
                "password": resident.password,
                "display_name": resident.display_name,
                "preferred_language": resident.language,
            },
        )
        self.narrate(
            "Set-up",
            "The verifier service now hosts Midori Bank and Sakura Homes (a landlord), each with a certificate "
            "under the trust registry's root; the wallet has an account for Nguyen Thi Mai.",
        )

    async def login(self) -> str:
        resident = self.deployment.resident
        session = await self._call(
            self.wallet, "POST", "/session", json={"username": resident.username, "password": resident.password}
        )
        return str(session["access_token"])

    # --- issuance -------------------------------------------------------------------------

    async def issue(self, tenant: str, configuration: str, claims: Mapping[str, Any], token: str) -> list[dict[str, Any]]:
        offer = await self._call(
            self.issuer,
            "POST",
            f"/admin/{tenant}/offers",
            admin="issuer",
            json={
                "credential_configuration_id": configuration,
                "subject": "NGUYEN THI MAI",
                "claims": dict(claims),
                "tx_code": True,
            },
        )
        self.narrate(
            f"{tenant}: offer",
            f"The {tenant} offers Mai a {configuration}: a link (or QR code) for her wallet and, by another "
            f"channel, a one-time transaction code {offer['tx_code']}.\n  {offer['offer_uri']}",
        )
        accepted = await self._call_list(
            self.wallet, "POST", "/offers", bearer=token, json={"offer_uri": offer["offer_uri"], "tx_code": offer["tx_code"]}
        )
        self.narrate(
            f"{tenant}: issued",
            "Mai's wallet redeemed the code, proved possession of fresh holder keys, and now holds the "
            f"credential (every personal claim selectively disclosable):\n{_claims_lines(accepted)}",
        )
        return accepted

    # --- presentation ---------------------------------------------------------------------

    async def ask(self, tenant: str, template: str, *, purpose: str = "rental_screening",
                  access_period_days: int | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"purpose": purpose, "template": template, "retention_days": 90}
        ongoing = ""
        if access_period_days is not None:
            body |= {"access_type": "ongoing", "access_period_days": access_period_days}
            ongoing = (f" It asks for ongoing access for {access_period_days} days: its guarantor company will "
                       "re-check her employment during the lease, without asking her each time.")
        created = await self._call(self.verifier, "POST", f"/admin/{tenant}/requests", admin="verifier", json=body)
        self.narrate(
            f"{tenant}: request",
            f"Sakura Homes asks, for {purpose.replace('_', ' ')}, with the template {template!r}.{ongoing} "
            f"Mai gets the link:\n  {created['authorization_request_uri']}",
        )
        return created

    async def receive(self, token: str, request: Mapping[str, Any]) -> dict[str, Any]:
        view = await self._call(
            self.wallet, "POST", "/presentation-requests", bearer=token, json={"uri": request["authorization_request_uri"]}
        )
        self.narrate("wallet: what is asked", _consent_lines(view))
        return view

    async def approve(self, token: str, view: Mapping[str, Any]) -> dict[str, Any]:
        choices = {query["id"]: query["candidates"][0]["credential_id"] for query in view["credential_queries"]}
        approved = await self._call(
            self.wallet, "POST", f"/presentation-requests/{view['id']}/approve", bearer=token, json={"credentials": choices}
        )
        self.narrate(
            "wallet: approved",
            "Mai approves. The wallet records her consent first, then sends only the approved disclosures, "
            "bound to the landlord's nonce and client_id by a Key Binding JWT.",
        )
        return approved

    async def decline(self, token: str, view: Mapping[str, Any]) -> dict[str, Any]:
        # With claims outside the verifier's registered purpose, the refusal tells the verifier which.
        reason = {"reason": "outside_registered_purpose"} if view.get("flags") else None
        declined = await self._call(
            self.wallet, "POST", f"/presentation-requests/{view['id']}/decline", bearer=token, json=reason
        )
        self.narrate(
            "wallet: declined",
            "Mai declines; the landlord is told access_denied, with the claims it is not registered to ask for, "
            "and receives no data.",
        )
        return declined

    async def result(self, tenant: str, request: Mapping[str, Any]) -> dict[str, Any]:
        status = await self._call(
            self.verifier, "GET", f"/admin/{tenant}/requests/{request['request_id']}", admin="verifier"
        )
        self.narrate(f"{tenant}: result", _result_lines(status))
        return status

    # --- lifecycle ------------------------------------------------------------------------

    async def revoke(self, tenant: str, token: str) -> None:
        issued = await self._call(self.issuer, "GET", f"/admin/{tenant}/credentials", admin="issuer")
        credential_id = issued["credentials"][0]["id"]
        await self._call(
            self.issuer, "POST", f"/admin/{tenant}/credentials/{credential_id}/revoke", admin="issuer",
            json={"reason": "Mai left the company on 2026-11-30"},
        )
        ttl = self.deployment.issuer.status_list_ttl_seconds
        self.narrate(
            f"{tenant}: revoked",
            "Mai leaves her job; the employer revokes the certificate (the reason stays in the employer's audit "
            f"log). Verifiers may keep a status list for its ttl ({ttl} s in the demo), so the landlord's next "
            "check after that sees it.",
        )
        await self.pause(ttl + 1)

    # --- consent ----------------------------------------------------------------------------

    async def consent_for(self, token: str, request_id: str) -> dict[str, Any]:
        consents = await self._call_list(self.wallet, "GET", "/consents", bearer=token)
        consent = next(c for c in consents if c["request_id"] == request_id)
        self.narrate("wallet: consent recorded",
                     f"  consent {consent['id']}: {consent['access_type']}, {consent['status']}, "
                     f"until {consent.get('expires_at')}; the landlord holds a receipt signed by the wallet.")
        return consent

    async def refresh(self, tenant: str, consent_id: str) -> dict[str, Any]:
        status = await self._call(self.verifier, "POST", f"/admin/{tenant}/consents/{consent_id}/refresh",
                                  admin="verifier")
        self.narrate(f"{tenant}: the guarantor's re-check",
                     "Under Mai's ongoing consent the guarantor asks her wallet, server to server, for a fresh "
                     "presentation of the same claims (no action from Mai; her log records it):\n"
                     + _result_lines(status))
        return status

    async def withdraw(self, token: str, consent_id: str) -> dict[str, Any]:
        await self._call(self.wallet, "POST", f"/consents/{consent_id}/revoke", bearer=token)
        # The wallet delivers the revocation right after answering; give the landlord a moment to acknowledge.
        for _ in range(20):
            consent = await self._call(self.wallet, "GET", f"/consents/{consent_id}", bearer=token)
            if (consent.get("notification") or {}).get("status") != "pending":
                break
            await self.pause(0.25)
        self.narrate("wallet: Mai withdraws her consent",
                     "Mai revokes the guarantor's ongoing access. From that moment no refresh succeeds; her wallet "
                     "sends Sakura Homes a signed revocation, which deletes what it received and answers with a "
                     f"signed acknowledgement. Her wallet now says:\n  {consent['status_text']['en']}")
        return consent

    async def holdings(self, tenant: str, consent_id: str) -> dict[str, Any]:
        held = await self._call(self.verifier, "GET", f"/admin/{tenant}/consents/{consent_id}", admin="verifier")
        lines = [f"  consent {held.get('status')}"] + [
            f"    {r['kind']} {r['request_id']}: " + (
                "held" if r["held"] else f"deleted ({r['deletion_reason']})" if r.get("deletion_reason")
                else "nothing kept (the presentation was rejected)")
            for r in held.get("requests", [])]
        self.narrate(f"{tenant}: what it still holds", "\n".join(lines))
        return held

    async def open_credential(self, token: str, credential_id: str) -> dict[str, Any]:
        shown = await self._call(self.wallet, "GET", f"/credentials/{credential_id}", bearer=token)
        text = (shown.get("status_text") or {}).get("en", "")
        self.narrate("wallet: Mai opens the credential", f"  status: {shown.get('status')} — {text}")
        return shown

    # --- plumbing -------------------------------------------------------------------------

    async def _call(
        self,
        client: httpx.AsyncClient,
        method: str,
        path: str,
        *,
        admin: str | None = None,
        bearer: str | None = None,
        json: Any = None,
    ) -> dict[str, Any]:
        headers = {}
        if admin is not None:
            headers["Authorization"] = f"Bearer {self.deployment.admin_key(admin)}"
        elif bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        response = await client.request(method, path, headers=headers, json=json)
        if response.status_code >= 400:
            raise StoryFailed(f"{method} {client.base_url}{path} answered {response.status_code}: {response.text}")
        body: dict[str, Any] = response.json() if response.content else {}
        return body

    async def _call_list(self, client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> list[dict[str, Any]]:
        answer: Any = await self._call(client, method, path, **kwargs)
        return list(answer)


def _claims_lines(accepted: list[dict[str, Any]]) -> str:
    credential = accepted[0] if accepted else {}
    lines = [f"    ({credential.get('copies', 1)} copies, each with its own holder key, so verifiers cannot link them)"]
    lines += [f"    {claim['name']['en']}: {claim['value']}" for claim in credential.get("claims", [])]
    return "\n".join(lines)


def _consent_lines(view: Mapping[str, Any]) -> str:
    verifier = view.get("verifier") or {}
    purpose = view.get("purpose") or {}
    retention = view.get("retention") or {}
    lines = [
        f"  who:   {verifier.get('name', {}).get('en')} ({verifier.get('client_id')})",
        f"  why:   {purpose.get('code')}: {(purpose.get('text') or {}).get('en')}",
        f"  kept:  {retention.get('days')} days (registered maximum {retention.get('max_registered_days')})",
        "  what:",
    ]
    for query in view.get("credential_queries", []):
        held = {tuple(c["path"]): c["value"] for c in (query.get("candidates") or [{}])[0].get("claims", [])}
        for claim in query.get("claims", []):
            flag = "   <- NOT registered for this purpose" if claim.get("flagged") else ""
            value = held.get(tuple(claim["path"]), "(not held)")
            lines.append(f"    {claim['name']['en']}: {value}{flag}")
    return "\n".join(lines)


def _result_lines(status: Mapping[str, Any]) -> str:
    result = status.get("result") or {}
    lines = [f"  status: {status.get('status')}, decision: {result.get('decision', '-')}"]
    for check in result.get("checks", []):
        party = f" [{check['party']}]" if check.get("party") else ""
        lines.append(f"    {check['outcome']:>7}  {check['id']}: {check['reason']['en']}{party}")
    registered = {"vct", "iss", "iat", "exp", "nbf", "cnf", "status", "sub"}
    for query_id, presentations in (status.get("claims") or {}).items():
        for claims in presentations:
            shown = ", ".join(f"{k}={v}" for k, v in claims.items() if k not in registered)
            lines.append(f"  received for {query_id!r}: {shown}")
    if status.get("wallet_error"):
        lines.append(f"  wallet answered: {status['wallet_error']}")
    return "\n".join(lines)
