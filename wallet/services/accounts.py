"""Resident accounts: creation by an admin, login with argon2id, sessions, and the login lock.

Passwords are hashed with argon2id (RFC 9106), a memory-hard function, with the cost from the
settings. A session is a random bearer token; only its SHA-256 is stored, so a copy of the
database does not let anyone in. After ``login_max_failures`` wrong passwords in a row an account
locks for ``login_lock_seconds``; the count is kept in the database, so every worker sees it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from ..errors import AccountLocked, InvalidLogin, InvalidResidentRequest, InvalidSessionToken, UsernameTaken
from ..settings import WalletSettings
from ..tables import WalletResident, WalletSession
from tsunagu.local_time import japan_time
from tsunagu.service.database import utc

__all__ = [
    "Language",
    "NewResident",
    "Resident",
    "LoginSession",
    "create_resident",
    "log_in",
    "log_out",
    "authenticate",
]

Language = Literal["en", "ja"]
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
MIN_PASSWORD_LENGTH = 10
#: argon2 reads the whole password; a bound keeps a login request from costing more than a login.
MAX_PASSWORD_LENGTH = 1024


@dataclass(frozen=True, slots=True)
class NewResident:
    username: str
    password: str
    display_name: str
    preferred_language: Language


@dataclass(frozen=True, slots=True)
class Resident:
    """The logged-in resident: every wallet function acts for exactly this one."""

    id: str
    username: str
    display_name: str
    preferred_language: Language
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LoginSession:
    access_token: str
    expires_in: int


def _hasher(settings: WalletSettings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        type=Type.ID,
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _resident(row: WalletResident) -> Resident:
    language: Language = "ja" if row.preferred_language == "ja" else "en"
    return Resident(row.id, row.username, row.display_name, language, utc(row.created_at))


def create_resident(session: Session, settings: WalletSettings, new: NewResident, *, now: datetime) -> Resident:
    """Raises: InvalidResidentRequest (username or password unusable), UsernameTaken."""
    username = new.username.strip().lower()
    if not _USERNAME.fullmatch(username):
        raise InvalidResidentRequest(
            "a username is 3-64 characters: lower-case letters, digits, '.', '_' and '-', starting with a letter or digit"
        )
    if not MIN_PASSWORD_LENGTH <= len(new.password) <= MAX_PASSWORD_LENGTH:
        raise InvalidResidentRequest(
            f"a password has {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )
    if not new.display_name.strip():
        raise InvalidResidentRequest("a display name is needed")
    row = WalletResident(
        id=secrets.token_hex(16),
        username=username,
        password_hash=_hasher(settings).hash(new.password),
        display_name=new.display_name.strip(),
        preferred_language=new.preferred_language,
        created_at=utc(now),
    )
    if session.exec(select(WalletResident).where(WalletResident.username == username)).first() is not None:
        raise UsernameTaken(f"the username {username!r} is already taken")
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # two admins creating the same username at once
        session.rollback()
        raise UsernameTaken(f"the username {username!r} is already taken") from None
    return _resident(row)


#: Verified against when the username is unknown, so that answering takes as long as for a known one.
_DUMMY_HASHES: dict[tuple[int, int, int], str] = {}


def _dummy_hash(settings: WalletSettings, hasher: PasswordHasher) -> str:
    key = (settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hasher.hash(secrets.token_urlsafe(16))
    return _DUMMY_HASHES[key]


def log_in(session: Session, settings: WalletSettings, username: str, password: str, *, now: datetime) -> LoginSession:
    """Check the password and open a session.

    Raises:
        InvalidLogin: unknown username or wrong password (the same answer for both).
        AccountLocked: too many failures in a row; nothing is checked until the lock ends.
    """
    hasher = _hasher(settings)
    now = utc(now)
    row = session.exec(select(WalletResident).where(WalletResident.username == username.strip().lower())).first()
    if row is None or len(password) > MAX_PASSWORD_LENGTH:
        try:
            hasher.verify(_dummy_hash(settings, hasher), password[:MAX_PASSWORD_LENGTH])
        except VerificationError:
            pass
        raise InvalidLogin("the username or the password is wrong")
    if row.locked_until is not None and utc(row.locked_until) > now:
        raise _locked(utc(row.locked_until), now)
    try:
        hasher.verify(row.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        _count_failure(session, settings, row.id, now=now)
        raise InvalidLogin("the username or the password is wrong") from None
    if hasher.check_needs_rehash(row.password_hash):  # the cost settings were raised since
        row.password_hash = hasher.hash(password)
    row.failed_logins, row.locked_until = 0, None
    token = secrets.token_urlsafe(32)
    session.add(row)
    session.add(WalletSession(
        token_hash=_token_hash(token), resident_id=row.id, created_at=now,
        expires_at=now + timedelta(seconds=settings.session_lifetime_seconds),
    ))
    # Expired sessions of this resident are no use to anyone; drop them while we are here.
    session.execute(delete(WalletSession).where(
        WalletSession.resident_id == row.id, WalletSession.expires_at <= now  # type: ignore[arg-type]
    ))
    session.commit()
    return LoginSession(access_token=token, expires_in=settings.session_lifetime_seconds)


def _count_failure(session: Session, settings: WalletSettings, resident_id: str, *, now: datetime) -> None:
    # One UPDATE increments, whatever other workers do at the same moment; the lock follows from the count.
    session.execute(update(WalletResident).where(WalletResident.id == resident_id)  # type: ignore[arg-type]
                    .values(failed_logins=WalletResident.failed_logins + 1))
    session.commit()
    row = session.get(WalletResident, resident_id)
    assert row is not None
    session.refresh(row)
    if row.failed_logins >= settings.login_max_failures:
        until = now + timedelta(seconds=settings.login_lock_seconds)
        row.failed_logins, row.locked_until = 0, until
        session.add(row)
        session.commit()
        raise _locked(until, now)


def _locked(until: datetime, now: datetime) -> AccountLocked:
    return AccountLocked(
        f"Too many wrong passwords in a row: this account is locked until {japan_time(until)}. "
        "Please try again after that time.",
        until=until,
        retry_after=int((until - now).total_seconds()) + 1,
    )


def log_out(session: Session, token: str) -> None:
    session.execute(delete(WalletSession).where(WalletSession.token_hash == _token_hash(token)))  # type: ignore[arg-type]
    session.commit()


def authenticate(session: Session, authorization: str | None, *, now: datetime) -> tuple[Resident, str]:
    """The resident a ``Bearer`` session token belongs to, and the token.

    Raises:
        InvalidSessionToken: no token, an unknown one, or an expired one.
    """
    if not authorization:
        raise InvalidSessionToken("log in first: send 'Authorization: Bearer <access_token>'", announce_error=False)
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 256:
        raise InvalidSessionToken("the Authorization header is not 'Bearer <access_token>'")
    row = session.get(WalletSession, _token_hash(token))
    if row is None or utc(row.expires_at) <= utc(now):
        raise InvalidSessionToken("the session is unknown or has expired; log in again")
    resident = session.get(WalletResident, row.resident_id)
    if resident is None:
        raise InvalidSessionToken("the session is unknown or has expired; log in again")
    return _resident(resident), token
