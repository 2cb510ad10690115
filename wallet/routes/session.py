"""Logging in and out: a session is a bearer token for the resident's own API."""

from __future__ import annotations

from fastapi import APIRouter, Response

from ..deps import ClockDep, ResidentDep, SessionDep, SessionTokenDep, SettingsDep
from ..schemas import LoginBody, ResidentPublic, SessionToken
from ..services import accounts
from ..views import resident_view

router = APIRouter(tags=["session"])


@router.post("/session", response_model=SessionToken)
def log_in(body: LoginBody, session: SessionDep, settings: SettingsDep, now: ClockDep, response: Response) -> SessionToken:
    """Log in with username and password. After too many wrong passwords in a row the account locks for a while."""
    response.headers["Cache-Control"] = "no-store"
    opened = accounts.log_in(session, settings, body.username, body.password, now=now)
    return SessionToken(access_token=opened.access_token, expires_in=opened.expires_in)


@router.delete("/session", status_code=204)
def log_out(token: SessionTokenDep, session: SessionDep) -> Response:
    """End this session: its token stops working at once."""
    accounts.log_out(session, token[1])
    return Response(status_code=204)


@router.get("/me", response_model=ResidentPublic)
def me(resident: ResidentDep) -> ResidentPublic:
    return resident_view(resident)
