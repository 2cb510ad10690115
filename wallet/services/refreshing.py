"""Refreshing a presentation under an ongoing consent (contract 1, docs/consent.md): verifier → wallet.

The verifier the resident gave ongoing access POSTs a ``consent-refresh+jwt`` to the ``refresh_uri``
of her receipt. The token is verified like an OpenID4VP Request Object (its ``x5c`` chains to the
trust registry's root and authenticates its ``client_id``) and the client must be in the registry.
Then, in one transaction: ``consents.use_consent`` matches the consent only while it is active,
ongoing and unexpired and records the use with the request's ``nonce`` (a replayed nonce fails the
unique constraint), the presentation is built, the resident's log gets ``consent_refreshed``, and
the transaction commits before the answer leaves. So once ``consents.revoke`` has returned, no
refresh succeeds (the same row lock / database lock as a first presentation).

What is presented: exactly the consented claims of each consented credential, from the **same copy**
the consent's first presentation used (the copy claimed for ``consent.request_id``). Repeated refreshes
to one verifier are linkable by that verifier anyway; reusing its copy keeps the other copies of a
batch unlinkable for other verifiers. Each presentation has a fresh KB-JWT (``aud`` the verifier's
full ``client_id``, ``nonce`` the refresh's, ``iat`` now).

The credential is presented **whatever its status**: revoked, suspended or expired included. The
verifier's periodic re-check exists precisely to see such a change (it checks the status list and
``exp`` itself); refusing would hide from it what the resident consented to let it re-check.

Every refusal that names a real consent of a resident is written to her log (``refresh_refused``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from tsunagu.claims_path import ClaimsPath
from tsunagu.consent import (
    ConsentCertificateInvalid,
    ConsentClientIdMismatch,
    ConsentRefreshRequest,
    ConsentSignatureInvalid,
    ConsentTokenInvalid,
    verify_consent_refresh_request,
)
from tsunagu.errors import TsunaguError
from tsunagu.kb_jwt import KeyBindingRequest
from tsunagu.sd_jwt.holder import decode_sd_jwt, present_sd_jwt
from tsunagu.trust import TrustRegistry

from ..errors import (
    ConsentEnded,
    ConsentNotOngoing,
    ConsentRevoked,
    CredentialUnavailable,
    InvalidVerifierMessage,
    NonceReused,
    UnknownConsent,
    VerifierNotAuthenticated,
    WalletError,
)
from ..settings import WalletSettings
from ..tables import WalletConsent, WalletCredentialCopy
from . import consents, history
from .holdings import open_copy
from .registry import require_registry

__all__ = ["Refreshed", "verify_request", "refresh"]

_MAX_NONCE = 255


@dataclass(frozen=True, slots=True)
class Refreshed:
    consent_id: str
    #: Credential query id → one presentation (SD-JWT VC with KB-JWT), as in OpenID4VP's ``vp_token``.
    vp_token: dict[str, list[str]]


def verify_request(settings: WalletSettings, registry: TrustRegistry | None, token: str, *,
                   now: datetime) -> ConsentRefreshRequest:
    """The verified refresh request of a registered verifier.

    Raises:
        TrustRegistryMissing; InvalidVerifierMessage (400); VerifierNotAuthenticated (401).
    """
    registry = require_registry(registry)
    try:
        request = verify_consent_refresh_request(
            token, trust_anchor=registry.root_certificate, expected_aud=settings.public_url, now=now,
            clock_skew=timedelta(seconds=settings.clock_skew_seconds))
    except (ConsentCertificateInvalid, ConsentSignatureInvalid, ConsentClientIdMismatch) as exc:
        raise VerifierNotAuthenticated(exc.reason) from None
    except ConsentTokenInvalid as exc:
        raise InvalidVerifierMessage(exc.reason) from None
    if len(request.nonce) > _MAX_NONCE:  # the column's bound (wallet_consent_use.nonce)
        raise InvalidVerifierMessage(f"the nonce is longer than {_MAX_NONCE} characters")
    if registry.find_verifier(request.client_id) is None:
        raise VerifierNotAuthenticated(f"the client {request.client_id!r} is not in the trust registry")
    return request


def _paths(consent: WalletConsent) -> dict[str, list[ClaimsPath]]:
    loaded: dict[str, list[list[str | int | None]]] = json.loads(consent.claims)
    return {qid: [tuple(p) for p in paths] for qid, paths in loaded.items()}


def _first_copy(session: Session, consent: WalletConsent, credential_id: str) -> WalletCredentialCopy:
    """Raises: CredentialUnavailable."""
    copy = session.exec(select(WalletCredentialCopy).where(
        col(WalletCredentialCopy.credential_id) == credential_id,
        col(WalletCredentialCopy.resident_id) == consent.resident_id,
        col(WalletCredentialCopy.used_for_request_id) == consent.request_id)).first()
    if copy is None:
        raise CredentialUnavailable("the credential this consent was given for is no longer held")
    return copy


def _present(session: Session, settings: WalletSettings, consent: WalletConsent, request: ConsentRefreshRequest,
             *, now: datetime) -> dict[str, list[str]]:
    """Raises: CredentialUnavailable."""
    credentials: dict[str, str] = json.loads(consent.credentials)
    vp_token: dict[str, list[str]] = {}
    for qid, paths in _paths(consent).items():
        credential_id = credentials.get(qid)
        if credential_id is None:
            raise CredentialUnavailable(f"the consent names no credential for {qid!r}")
        copy = _first_copy(session, consent, credential_id)
        try:
            credential, holder_key = open_copy(settings, copy)
            binding = KeyBindingRequest(holder_key=holder_key, aud=consent.client_id, nonce=request.nonce, iat=now)
            vp_token[qid] = [present_sd_jwt(decode_sd_jwt(credential), paths, key_binding=binding)]
        except TsunaguError as exc:
            raise CredentialUnavailable(f"the consented credential cannot be presented: {exc.reason}") from None
    return vp_token


def _details(consent: WalletConsent, request: ConsentRefreshRequest, **extra: object) -> dict[str, object]:
    return {"consent_id": consent.id, "client_id": consent.client_id, "purpose": consent.purpose,
            "verifier_name": {"en": consent.verifier_name_en, "ja": consent.verifier_name_ja},
            "claims": json.loads(consent.claims), "credentials": json.loads(consent.credentials), **extra}


def _refuse(session: Session, consent: WalletConsent, request: ConsentRefreshRequest, error: WalletError, *,
            now: datetime) -> WalletError:
    """Log the refusal in the resident's history (its own transaction) and hand the error back to raise."""
    session.rollback()
    history.record_event(session, consent.resident_id, history.REFRESH_REFUSED, client_id=request.client_id,
                         credential_ids=consent.credential_ids(), now=now,
                         details=_details(consent, request, client_id=request.client_id, refusal=error.error,
                                          reason=error.reason))
    session.commit()
    return error


def refresh(session: Session, settings: WalletSettings, registry: TrustRegistry | None, token: str, *,
            now: datetime) -> Refreshed:
    """Answer a verifier's refresh request with a fresh presentation; committed (use and log) before it returns.

    Raises:
        TrustRegistryMissing, InvalidVerifierMessage, VerifierNotAuthenticated, UnknownConsent,
        ConsentNotOngoing, ConsentRevoked, ConsentEnded, NonceReused, CredentialUnavailable.
    """
    request = verify_request(settings, registry, token, now=now)
    consent = session.get(WalletConsent, request.consent_id)
    if consent is None:
        raise UnknownConsent("this wallet holds no consent with that id given to this client")
    if consent.client_id != request.client_id:
        # Another verifier's consent is "unknown" to this one; the resident learns someone tried it.
        raise _refuse(session, consent, request, UnknownConsent(
            "this wallet holds no consent with that id given to this client"), now=now)
    if consent.access_type != "ongoing":
        raise _refuse(session, consent, request, ConsentNotOngoing(
            "this consent was for one presentation, already made; it cannot be refreshed"), now=now)
    try:
        used = consents.use_consent(session, consent.id, now=now, kind="refresh", nonce=request.nonce,
                                    ongoing_only=True)
    except IntegrityError:
        raise _refuse(session, consent, request, NonceReused(
            "this nonce was already used for this consent; send a fresh one"), now=now) from None
    if not used:
        session.rollback()
        session.refresh(consent)
        if consent.status == consents.REVOKED:
            raise _refuse(session, consent, request, ConsentRevoked(
                "the resident revoked this consent; delete what you hold under it"), now=now)
        raise _refuse(session, consent, request, ConsentEnded(
            "this consent has ended; delete what you hold under it"), now=now)
    try:
        vp_token = _present(session, settings, consent, request, now=now)
    except CredentialUnavailable as exc:
        raise _refuse(session, consent, request, exc, now=now) from None
    history.record_event(session, consent.resident_id, history.CONSENT_REFRESHED, client_id=consent.client_id,
                         credential_ids=consent.credential_ids(), now=now,
                         details=_details(consent, request))
    session.commit()
    return Refreshed(consent_id=consent.id, vp_token=vp_token)
