"""What the resident has agreed to and what the wallet has sent, newest first."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import RegistryDep, ResidentDep, SessionDep
from ..schemas import ConsentView, PresentationView
from ..services import records
from ..views import consent_view, presentation_view

router = APIRouter(tags=["records"])


@router.get("/consents", response_model=list[ConsentView])
def list_consents(resident: ResidentDep, session: SessionDep, registry: RegistryDep) -> list[ConsentView]:
    """Your consents, newest first, each with its status (active, fulfilled, expired, revoked) and history."""
    rows = records.list_consents(session, resident.id)
    events = records.consent_events(session, resident.id, [row.id for row in rows])
    return [consent_view(row, registry, events[row.id]) for row in rows]


@router.get("/consents/{consent_id}", response_model=ConsentView)
def get_consent(consent_id: str, resident: ResidentDep, session: SessionDep, registry: RegistryDep) -> ConsentView:
    row = records.get_consent(session, resident.id, consent_id)
    return consent_view(row, registry, records.consent_events(session, resident.id, [row.id])[row.id])


@router.get("/presentations", response_model=list[PresentationView])
def list_presentations(resident: ResidentDep, session: SessionDep, registry: RegistryDep) -> list[PresentationView]:
    return [presentation_view(row, registry) for row in records.list_presentations(session, resident.id)]


@router.get("/presentations/{presentation_id}", response_model=PresentationView)
def get_presentation(presentation_id: str, resident: ResidentDep, session: SessionDep,
                     registry: RegistryDep) -> PresentationView:
    return presentation_view(records.get_presentation(session, resident.id, presentation_id), registry)
