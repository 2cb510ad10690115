"""The resident's access log: every event about their data, newest first, filterable and exportable."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from tsunagu.trust import TrustRegistry

from ..deps import ClockDep, RegistryDep, ResidentDep, SessionDep
from ..log_views import log_event_view
from ..schemas import EventLogExport, EventView
from ..services import history
from ..tables import WalletEvent

router = APIRouter(tags=["history"])


def _views(session: SessionDep, resident_id: str, rows: list[WalletEvent],
           registry: TrustRegistry | None) -> list[EventView]:
    linked = history.linked_credentials(session, resident_id, [row.id for row in rows])
    return [log_event_view(row, registry, linked[row.id] or None) for row in rows]


@router.get("/events", response_model=list[EventView])
def list_events(resident: ResidentDep, session: SessionDep, registry: RegistryDep,
                credential_id: Annotated[str | None, Query(max_length=64)] = None,
                client_id: Annotated[str | None, Query(max_length=2048)] = None,
                kind: Annotated[list[str] | None, Query(max_length=48)] = None) -> list[EventView]:
    """Your access log, newest first: requests received and refused, consents granted, declined, revoked and
    expired, presentations sent or failed, credential status changes. ``?credential_id=`` keeps what concerns
    one credential, ``?client_id=`` what concerns one verifier, ``?kind=`` (repeatable) those kinds only.
    Claims are named by path, never by value."""
    rows = history.list_events(session, resident.id, credential_id=credential_id, client_id=client_id,
                               kinds=kind or ())
    return _views(session, resident.id, rows, registry)


@router.get("/events/export", response_model=EventLogExport)
def export_events(resident: ResidentDep, session: SessionDep, registry: RegistryDep, now: ClockDep) -> JSONResponse:
    """Your whole access log as a JSON file to keep."""
    rows = history.list_events(session, resident.id, limit=None)
    document = EventLogExport(resident=resident.username, exported_at=now,
                              events=_views(session, resident.id, rows, registry))
    return JSONResponse(document.model_dump(mode="json"), headers={
        "Content-Disposition": 'attachment; filename="tsunagu-access-log.json"', "Cache-Control": "no-store"})
