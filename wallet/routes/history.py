"""The resident's history: what happened to their credentials (revoked, suspended, reinstated, expired)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ..deps import RegistryDep, ResidentDep, SessionDep
from ..schemas import EventView
from ..services import history
from ..status_views import event_view

router = APIRouter(tags=["history"])


@router.get("/events", response_model=list[EventView])
def list_events(resident: ResidentDep, session: SessionDep, registry: RegistryDep,
                credential_id: Annotated[str | None, Query(max_length=64)] = None) -> list[EventView]:
    """Your history, newest first; only what concerns one credential with ``?credential_id=``."""
    return [event_view(row, registry)
            for row in history.list_events(session, resident.id, credential_id=credential_id)]
