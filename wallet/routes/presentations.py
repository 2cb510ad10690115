"""Presentation requests (OpenID4VP): receive one, see who asks for what and why, approve or decline."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import ClockDep, HttpDep, RegistryDep, ResidentDep, SessionDep, SettingsDep
from ..schemas import ApproveBody, DeclineBody, PresentationRequestBody, PresentationRequestView, PresentationView
from ..services import presenting, records, requests
from ..services.matching import match_held
from ..tables import WalletPresentationRequest
from ..views import presentation_view, request_view

router = APIRouter(prefix="/presentation-requests", tags=["presentations"])


def _view(row: WalletPresentationRequest, session: SessionDep, settings: SettingsDep, registry: RegistryDep,
          now: ClockDep) -> PresentationRequestView:
    query = requests.query_of(row)
    matching = match_held(session, settings, row.resident_id, query, now=now)
    return request_view(row, requests.assess(registry, row, query), matching, registry, now=now)


@router.post("", response_model=PresentationRequestView, status_code=201)
async def receive(body: PresentationRequestBody, resident: ResidentDep, session: SessionDep, settings: SettingsDep,
                  http: HttpDep, registry: RegistryDep, now: ClockDep) -> PresentationRequestView:
    """Fetch and verify a verifier's request; answer who asks, why, for how long, what exactly, and what is flagged."""
    row = await requests.receive_request(session, settings, http, registry, resident.id, body.uri, now=now)
    return _view(row, session, settings, registry, now)


@router.get("", response_model=list[PresentationRequestView])
def list_requests(resident: ResidentDep, session: SessionDep, settings: SettingsDep, registry: RegistryDep,
                  now: ClockDep) -> list[PresentationRequestView]:
    return [_view(row, session, settings, registry, now) for row in records.list_requests(session, resident.id)]


@router.get("/{request_id}", response_model=PresentationRequestView)
def get_request(request_id: str, resident: ResidentDep, session: SessionDep, settings: SettingsDep,
                registry: RegistryDep, now: ClockDep) -> PresentationRequestView:
    return _view(requests.own_request(session, resident.id, request_id), session, settings, registry, now)


@router.post("/{request_id}/approve", response_model=PresentationView)
async def approve(request_id: str, body: ApproveBody, resident: ResidentDep, session: SessionDep,
                  settings: SettingsDep, http: HttpDep, registry: RegistryDep, now: ClockDep) -> PresentationView:
    """Consent is recorded first; then only the approved claims are presented and sent to the verifier."""
    approval = presenting.Approval(credentials=body.credentials, claim_set=body.claim_set,
                                   override_purpose_limits=body.override_purpose_limits)
    record = await presenting.approve(session, settings, http, registry, resident.id, request_id, approval, now=now)
    return presentation_view(record, registry)


@router.post("/{request_id}/decline", response_model=PresentationView)
async def decline(request_id: str, resident: ResidentDep, session: SessionDep, settings: SettingsDep, http: HttpDep,
                  registry: RegistryDep, now: ClockDep, body: DeclineBody | None = None) -> PresentationView:
    """Tell the verifier no (access_denied); nothing is disclosed.

    ``{"reason": "outside_registered_purpose"}``: refuse a flagged request because it asks too much;
    the verifier's error_description names the claims outside its registered purpose."""
    reason = body.reason if body is not None else None
    record = await presenting.decline(session, settings, http, registry, resident.id, request_id, reason=reason,
                                      now=now)
    return presentation_view(record, registry)
