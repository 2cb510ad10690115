"""The resident's credentials: accept an offer (OpenID4VCI), list and show what is held."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import ClockDep, HttpDep, RegistryDep, ResidentDep, SessionDep, SettingsDep
from ..schemas import CredentialView, OfferBody
from ..services import holdings, issuance
from ..views import credential_view

router = APIRouter(tags=["credentials"])


@router.post("/offers", response_model=list[CredentialView], status_code=201)
async def accept_offer(body: OfferBody, resident: ResidentDep, session: SessionDep, settings: SettingsDep,
                       http: HttpDep, registry: RegistryDep, now: ClockDep) -> list[CredentialView]:
    """Accept a credential offer: run the pre-authorized code flow with fresh holder keys, store what was issued."""
    rows = await issuance.accept_offer(session, settings, http, resident.id,
                                       issuance.OfferAcceptance(body.offer_uri, body.tx_code), now=now)
    return [credential_view(holdings.get_held(session, settings, resident.id, row.id), registry, now=now)
            for row in rows]


@router.get("/credentials", response_model=list[CredentialView])
def list_credentials(resident: ResidentDep, session: SessionDep, settings: SettingsDep, registry: RegistryDep,
                     now: ClockDep) -> list[CredentialView]:
    """Every credential you hold, newest first, with its claims, issuer and validity."""
    return [credential_view(held, registry, now=now) for held in holdings.list_held(session, settings, resident.id)]


@router.get("/credentials/{credential_id}", response_model=CredentialView)
def get_credential(credential_id: str, resident: ResidentDep, session: SessionDep, settings: SettingsDep,
                   registry: RegistryDep, now: ClockDep) -> CredentialView:
    return credential_view(holdings.get_held(session, settings, resident.id, credential_id), registry, now=now)
