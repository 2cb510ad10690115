"""The admin API (``Authorization: Bearer <admin_api_key>``): resident accounts."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import AdminKeyDep, ClockDep, SessionDep, SettingsDep
from ..schemas import ResidentCreate, ResidentPublic
from ..services import accounts
from ..views import resident_view

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post("/residents", response_model=ResidentPublic, status_code=201)
def create_resident(body: ResidentCreate, _admin: AdminKeyDep, session: SessionDep, settings: SettingsDep,
                    now: ClockDep) -> ResidentPublic:
    """Create a resident's account; the password is stored only as an argon2id hash."""
    new = accounts.NewResident(username=body.username, password=body.password, display_name=body.display_name,
                               preferred_language=body.preferred_language)
    return resident_view(accounts.create_resident(session, settings, new, now=now))
