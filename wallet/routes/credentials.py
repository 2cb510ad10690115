"""The resident's credentials: accept an offer (OpenID4VCI), list and show what is held, with its status."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import ClockDep, HttpDep, IssuerDocumentsDep, RegistryDep, ResidentDep, SessionDep, SettingsDep
from ..schemas import CredentialView, OfferBody
from ..services import holdings, issuance, status
from ..views import credential_view

router = APIRouter(tags=["credentials"])


@router.post("/offers", response_model=list[CredentialView], status_code=201)
async def accept_offer(body: OfferBody, resident: ResidentDep, session: SessionDep, settings: SettingsDep,
                       http: HttpDep, registry: RegistryDep, now: ClockDep) -> list[CredentialView]:
    """Accept a credential offer: run the pre-authorized code flow with fresh holder keys, store what was issued."""
    rows = await issuance.accept_offer(session, settings, http, resident.id,
                                       issuance.OfferAcceptance(body.offer_uri, body.tx_code), now=now)
    held = [holdings.get_held(session, settings, resident.id, row.id) for row in rows]
    states = status.status_states(session, (h.row for h in held), now=now)
    return [credential_view(h, states[h.row.id], registry) for h in held]


@router.get("/credentials", response_model=list[CredentialView])
def list_credentials(resident: ResidentDep, session: SessionDep, settings: SettingsDep, registry: RegistryDep,
                     now: ClockDep) -> list[CredentialView]:
    """Every credential you hold, newest first, with its claims, issuer and status as last checked."""
    held = holdings.list_held(session, settings, resident.id)
    states = status.status_states(session, (h.row for h in held), now=now)
    return [credential_view(h, states[h.row.id], registry) for h in held]


@router.get("/credentials/{credential_id}", response_model=CredentialView)
async def get_credential(credential_id: str, resident: ResidentDep, session: SessionDep, settings: SettingsDep,
                         documents: IssuerDocumentsDep, registry: RegistryDep, now: ClockDep) -> CredentialView:
    """One credential; its status is checked with the issuer now (if that fails, the last known one is shown)."""
    return await _refreshed(credential_id, resident.id, session, settings, documents, registry, now)


@router.post("/credentials/{credential_id}/refresh", response_model=CredentialView)
async def refresh_credential(credential_id: str, resident: ResidentDep, session: SessionDep, settings: SettingsDep,
                             documents: IssuerDocumentsDep, registry: RegistryDep, now: ClockDep) -> CredentialView:
    """Check the credential's status with its issuer now (the list is read anew once its ``ttl`` has passed)."""
    return await _refreshed(credential_id, resident.id, session, settings, documents, registry, now)


async def _refreshed(credential_id: str, resident_id: str, session: SessionDep, settings: SettingsDep,
                     documents: IssuerDocumentsDep, registry: RegistryDep, now: ClockDep) -> CredentialView:
    held = holdings.get_held(session, settings, resident_id, credential_id)
    await status.refresh_statuses(session, settings, documents, [held.row], now=now)
    session.refresh(held.row)
    return credential_view(held, status.status_states(session, [held.row], now=now)[held.row.id], registry)
