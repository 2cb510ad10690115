"""What the resident has agreed to and what the wallet has sent, newest first."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import RegistryDep, ResidentDep, SessionDep
from ..schemas import ConsentView, PresentationView
from ..services import records
from ..tables import WalletConsent
from ..views import consent_view, presentation_view

router = APIRouter(tags=["records"])


@router.get("/consents", response_model=list[ConsentView])
def list_consents(resident: ResidentDep, session: SessionDep, registry: RegistryDep) -> list[ConsentView]:
    """Your consents, newest first, each with its status (active, fulfilled, expired, revoked) and history."""
    rows = records.list_consents(session, resident.id)
    details = records.consent_details(session, resident.id, rows)
    return [_view(row, registry, details[row.id]) for row in rows]


def _view(row: WalletConsent, registry: RegistryDep, details: records.ConsentDetails) -> ConsentView:
    return consent_view(row, registry, details.events, refresh_count=details.refresh_count,
                        notification=details.notification, deletion=details.deletion)


def one_consent_view(session: SessionDep, resident_id: str, row: WalletConsent, registry: RegistryDep) -> ConsentView:
    """The view of one consent with everything beside it (also the answer to a revoke)."""
    return _view(row, registry, records.consent_details(session, resident_id, [row])[row.id])


@router.get("/consents/{consent_id}", response_model=ConsentView)
def get_consent(consent_id: str, resident: ResidentDep, session: SessionDep, registry: RegistryDep) -> ConsentView:
    row = records.get_consent(session, resident.id, consent_id)
    return one_consent_view(session, resident.id, row, registry)


@router.get("/presentations", response_model=list[PresentationView])
def list_presentations(resident: ResidentDep, session: SessionDep, registry: RegistryDep) -> list[PresentationView]:
    return [presentation_view(row, registry) for row in records.list_presentations(session, resident.id)]


@router.get("/presentations/{presentation_id}", response_model=PresentationView)
def get_presentation(presentation_id: str, resident: ResidentDep, session: SessionDep,
                     registry: RegistryDep) -> PresentationView:
    return presentation_view(records.get_presentation(session, resident.id, presentation_id), registry)
