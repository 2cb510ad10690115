"""Receiving a presentation request (OpenID4VP 1.0): fetch, verify, check the verifier, keep it pending.

The link (``openid4vp://?client_id=...&request_uri=...``) or the bare ``request_uri`` is read with
``tsunagu.oid4vp``; the verifier must be in the trust registry before anything is fetched from it
(an unknown client is refused with ``invalid_client``, §8.5). The signed Request Object is fetched
with a size bound and verified against the registry's root certificate, with the ``response_uri``
restricted to the origin the registry lists for that verifier. The request is then measured
against the verifier's registration (``tsunagu.trust.assess_request``) each time it is shown or
answered, so what the resident sees and what the wallet enforces come from one place.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import update
from sqlmodel import Session, col

from tsunagu import oid4vp
from tsunagu.dcql import DcqlQuery, parse_dcql_query
from tsunagu.encoding import json_dumps, json_loads
from tsunagu.oid4vci import safe_description
from tsunagu.service.http import FetchedDocument, FetchError, exchange_bounded
from tsunagu.settings import is_loopback_url
from tsunagu.trust import (
    FlaggedClaim,
    PurposeNotRegistered,
    PurposeRegistration,
    TrustRegistry,
    VerifierEntry,
    access_exceeded,
    over_asked_claims,
)

from ..errors import NotFound, RequestAlreadyAnswered, RequestExpired, VerifierRefused, VerifierUnavailable
from ..settings import WalletSettings
from ..tables import WalletPresentationRequest
from . import history
from .registry import require_registry
from tsunagu.service.database import utc

__all__ = ["Assessment", "receive_request", "own_request", "check_open", "assess", "query_of"]

_MEDIA_TYPES = frozenset({oid4vp.MEDIA_TYPE_REQUEST_OBJECT})


@dataclass(frozen=True, slots=True)
class Assessment:
    """A stored request measured against the registry now."""

    verifier: VerifierEntry | None
    registration: PurposeRegistration | None
    flagged: tuple[FlaggedClaim, ...]
    retention_exceeded: bool
    #: Ongoing access the registration does not allow (none at all, or for a shorter period).
    access_exceeded: bool = False

    @property
    def within_registration(self) -> bool:
        return (self.verifier is not None and self.registration is not None and not self.flagged
                and not self.retention_exceeded and not self.access_exceeded)


@dataclass(frozen=True, slots=True)
class _Reference:
    client_id: str | None
    request_uri: str | None
    method: str | None
    request: str | None


def _reference(uri: str, *, loopback: bool) -> _Reference:
    parts = urlsplit(uri.strip())
    if parts.scheme in ("https", "http") and "client_id" not in parse_qs(parts.query):
        # The request_uri itself: who asks is learned from the signed object, before it is verified.
        if (parts.scheme == "http" and not (loopback and is_loopback_url(uri))) or not parts.hostname or parts.fragment:
            raise oid4vp.InvalidRequest("a request_uri must be an https URL")
        return _Reference(None, uri.strip(), None, None)
    ref = oid4vp.parse_authorization_request_uri(uri.strip(), allow_insecure_loopback=loopback)
    return _Reference(ref.client_id, ref.request_uri, ref.request_uri_method, ref.request)


def _verifier(registry: TrustRegistry, client_id: str) -> VerifierEntry:
    entry = registry.find_verifier(client_id)
    if entry is None:
        raise oid4vp.InvalidClient(
            f"the verifier {client_id!r} is not in the trust registry; this wallet does not answer it",
            client_id=client_id,
        )
    return entry


async def _fetch_request_object(http: httpx.AsyncClient, settings: WalletSettings, ref: _Reference,
                                wallet_nonce: str | None) -> str:
    assert ref.request_uri is not None
    try:
        fetched = await exchange_bounded(
            http, "POST" if ref.method == "post" else "GET", ref.request_uri,
            max_bytes=settings.max_request_object_bytes, timeout=settings.http_timeout_seconds,
            accept=oid4vp.MEDIA_TYPE_REQUEST_OBJECT,
            data={"wallet_nonce": wallet_nonce} if wallet_nonce is not None else None,
        )
    except FetchError as exc:
        raise VerifierUnavailable(f"could not fetch the request: {exc.reason}") from None
    if not fetched.ok:
        raise _verifier_refusal(fetched)
    if fetched.content_type not in _MEDIA_TYPES:
        raise VerifierUnavailable(f"the request came as {fetched.content_type or 'untyped'}, not a request object")
    try:
        return fetched.body.decode("ascii").strip()
    except UnicodeDecodeError:
        raise oid4vp.RequestObjectInvalid("the request object is not a compact JWS") from None


def _verifier_refusal(answer: FetchedDocument) -> VerifierRefused | VerifierUnavailable:
    """The verifier's own explanation of why it will not hand out the request (expired, unknown ...)."""
    body = answer.json()
    if answer.status >= 500 or not isinstance(body, Mapping) or not isinstance(body.get("error"), str):
        return VerifierUnavailable(f"the verifier answered HTTP {answer.status} when the request was fetched",
                                   status=answer.status)
    said = body.get("error_description")
    detail = f": {safe_description(said)}" if isinstance(said, str) and said else ""
    return VerifierRefused(f"the verifier refused to hand out the request ({safe_description(body['error'])}){detail}",
                           verifier_error=body["error"], status=answer.status)


async def receive_request(
    session: Session, settings: WalletSettings, http: httpx.AsyncClient, registry: TrustRegistry | None,
    resident_id: str, uri: str, *, now: datetime,
) -> WalletPresentationRequest:
    """Fetch and verify a request for the resident and store it, pending their decision.

    Raises:
        TrustRegistryMissing: the wallet has no registry.
        InvalidClient: the verifier is not in the registry.
        InvalidRequest, RequestObjectInvalid, VerifierCertificateInvalid, ClientIdMismatch,
            ResponseUriNotAllowed, ... (``tsunagu.oid4vp``): the link or the signed request is not acceptable.
        VerifierUnavailable: the request object could not be fetched.
    """
    registry = require_registry(registry)
    loopback = settings.allow_insecure_loopback
    ref = _reference(uri, loopback=loopback)
    if ref.client_id is not None:
        _known_verifier(session, registry, resident_id, ref.client_id, now=now)  # before fetching anything
    wallet_nonce = secrets.token_urlsafe(16) if ref.method == "post" else None
    token = ref.request if ref.request is not None else await _fetch_request_object(http, settings, ref, wallet_nonce)
    client_id = ref.client_id or oid4vp.unverified_client_id(token)
    entry = _known_verifier(session, registry, resident_id, client_id, now=now)
    verified = oid4vp.verify_request_object(
        token, client_id=client_id, trust_anchor=registry.root_certificate, now=now, wallet_nonce=wallet_nonce,
        response_uri_origins=[entry.response_uri_origin], clock_skew=timedelta(seconds=settings.clock_skew_seconds),
        allow_insecure_loopback=loopback,
    )
    request = verified.request
    purpose = request.purpose
    expires_at = now + timedelta(seconds=settings.pending_request_lifetime_seconds)
    if request.exp is not None:
        expires_at = min(expires_at, request.exp)
    row = WalletPresentationRequest(
        id=secrets.token_hex(16), resident_id=resident_id, client_id=client_id, verifier_name_en=entry.name.en,
        verifier_name_ja=entry.name.ja, response_uri=request.response_uri, nonce=request.nonce, state=request.state,
        dcql_query=json_dumps(dict(request.dcql_query_json)), purpose=purpose.purpose if purpose else None,
        purpose_text_en=purpose.text_en if purpose else None, purpose_text_ja=purpose.text_ja if purpose else None,
        retention_days=purpose.retention_days if purpose else None, registry_iss=registry.iss,
        access_type="ongoing" if purpose is not None and purpose.access_type == "ongoing" else "one-time",
        access_period_days=purpose.access_period_days if purpose else None,
        created_at=utc(now), expires_at=utc(expires_at),
    )
    session.add(row)
    session.flush()
    history.record_event(session, resident_id, history.REQUEST_RECEIVED, client_id=client_id, now=now, details={
        "request_id": row.id, "client_id": client_id, "verifier_name": {"en": entry.name.en, "ja": entry.name.ja},
        "purpose": row.purpose, "purpose_text": {"en": row.purpose_text_en, "ja": row.purpose_text_ja},
        "retention_days": row.retention_days, "access_type": row.access_type,
        "access_period_days": row.access_period_days, "asked": _asked(row)})
    session.commit()
    session.refresh(row)
    return row


def _asked(row: WalletPresentationRequest) -> dict[str, object]:
    """What the request asks, per Credential Query: the types and claim paths (the log's "what"; no values)."""
    query = query_of(row)
    return {q.id: {"vct_values": list(q.vct_values), "paths": [list(c.path) for c in q.claims or ()]}
            for q in query.credentials}


def _known_verifier(session: Session, registry: TrustRegistry, resident_id: str, client_id: str, *,
                    now: datetime) -> VerifierEntry:
    """The registry's entry; an unknown verifier is refused, and the refusal written to the resident's log."""
    try:
        return _verifier(registry, client_id)
    except oid4vp.InvalidClient as exc:
        shown = client_id[:512]  # the link is anyone's: the log keeps a bounded copy of who claimed to ask
        history.record_event(session, resident_id, history.REQUEST_REFUSED, client_id=shown, now=now, details={
            "client_id": shown, "refusal": "unknown_verifier", "reason": exc.reason})
        session.commit()
        raise


def own_request(session: Session, resident_id: str, request_id: str) -> WalletPresentationRequest:
    """Raises: NotFound (no such request of this resident)."""
    row = session.get(WalletPresentationRequest, request_id)
    if row is None or row.resident_id != resident_id:
        raise NotFound("you have no presentation request with this id")
    return row


def check_open(session: Session, row: WalletPresentationRequest, *, now: datetime) -> None:
    """Raises: RequestAlreadyAnswered, RequestExpired (and records the expiry)."""
    if row.status == "expired":
        raise RequestExpired("this request expired before you answered it; ask the verifier for a new one")
    if row.status != "pending":
        raise RequestAlreadyAnswered(f"this request has already been answered ({row.status}); a request is answered once")
    if utc(row.expires_at) <= utc(now):
        session.execute(update(WalletPresentationRequest)
                        .where(col(WalletPresentationRequest.id) == row.id,
                               col(WalletPresentationRequest.status) == "pending")
                        .values(status="expired"))
        session.commit()
        raise RequestExpired("this request expired before you answered it; ask the verifier for a new one")


def query_of(row: WalletPresentationRequest) -> DcqlQuery:
    return parse_dcql_query(json_loads(row.dcql_query))


def assess(registry: TrustRegistry | None, row: WalletPresentationRequest, query: DcqlQuery) -> Assessment:
    """What the registry says of this request now: the verifier, its registration for the purpose, the flags."""
    verifier = registry.find_verifier(row.client_id) if registry is not None else None
    registration: PurposeRegistration | None = None
    if verifier is not None and row.purpose is not None:
        try:
            registration = verifier.registration(row.purpose)
        except PurposeNotRegistered:
            registration = None
    exceeded = (registration is not None and row.retention_days is not None
                and row.retention_days > registration.max_retention_days)
    # A request for ongoing access with no registration to measure it by is already outside it (no registration).
    access = row.access_type == "ongoing" and access_exceeded(registration, row.access_period_days)
    return Assessment(verifier, registration, over_asked_claims(registration, query), exceeded, access)
