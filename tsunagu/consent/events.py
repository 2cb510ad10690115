"""The messages that follow a grant (docs/consent.md): the wallet's revocation event
(``consent-revocation+jwt``), the verifier's deletion acknowledgement (``consent-deletion-ack+jwt``)
and its refresh request for ongoing access (``consent-refresh+jwt``).

The verifier's two messages are signed with its request-signing key and carry its ``x5c``
chain, checked to the trust registry's root and against its ``client_id`` exactly as an
OpenID4VP Request Object is (OpenID4VP 1.0 §5.9.3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal, TypeAlias, get_args

from cryptography import x509

from ..jwk import PrivateJwk, PublicJwk
from .errors import ConsentAudienceMismatch, InvalidConsentData
from .tokens import (
    check_aud_iss,
    check_exp,
    check_iat,
    construct,
    numeric_date,
    read_str,
    read_time,
    require_text,
    sign_token,
    verify_with_jwks,
    verify_with_x5c,
    whole_seconds,
)

__all__ = [
    "RevocationEventType",
    "DeletionOutcome",
    "TYP_CONSENT_REVOCATION",
    "TYP_DELETION_ACK",
    "TYP_CONSENT_REFRESH_REQUEST",
    "MEDIA_TYPE_CONSENT_REVOCATION",
    "MEDIA_TYPE_DELETION_ACK",
    "MEDIA_TYPE_CONSENT_REFRESH_REQUEST",
    "MAX_REFRESH_LIFETIME",
    "ConsentRevocation",
    "build_consent_revocation",
    "verify_consent_revocation",
    "DeletionAck",
    "build_deletion_ack",
    "verify_deletion_ack",
    "ConsentRefreshRequest",
    "build_consent_refresh_request",
    "verify_consent_refresh_request",
]

RevocationEventType: TypeAlias = Literal["revoked", "expired"]
DeletionOutcome: TypeAlias = Literal["deleted", "retained"]
_EVENTS: Final[tuple[RevocationEventType, ...]] = get_args(RevocationEventType)
_OUTCOMES: Final[tuple[DeletionOutcome, ...]] = get_args(DeletionOutcome)

TYP_CONSENT_REVOCATION: Final = "consent-revocation+jwt"
TYP_DELETION_ACK: Final = "consent-deletion-ack+jwt"
TYP_CONSENT_REFRESH_REQUEST: Final = "consent-refresh+jwt"
#: The media types of the three messages when they travel as an HTTP body (``application/`` + their ``typ``).
MEDIA_TYPE_CONSENT_REVOCATION: Final = f"application/{TYP_CONSENT_REVOCATION}"
MEDIA_TYPE_DELETION_ACK: Final = f"application/{TYP_DELETION_ACK}"
MEDIA_TYPE_CONSENT_REFRESH_REQUEST: Final = f"application/{TYP_CONSENT_REFRESH_REQUEST}"

#: A refresh request is a one-shot server-to-server call; it may not be valid for longer than this.
MAX_REFRESH_LIFETIME: Final = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class ConsentRevocation:
    """Wallet → verifier: the consent ended (``revoked`` by the resident, or ``expired``); delete what you hold."""

    consent_id: str
    wallet: str
    client_id: str
    event: RevocationEventType
    issued_at: datetime
    jti: str

    def __post_init__(self) -> None:
        for name in ("consent_id", "wallet", "client_id", "jti"):
            require_text(getattr(self, name), name)
        if self.event not in _EVENTS:
            raise InvalidConsentData(f"event is 'revoked' or 'expired', not {self.event!r}")
        object.__setattr__(self, "issued_at", whole_seconds(self.issued_at, "issued_at"))


@dataclass(frozen=True, slots=True)
class DeletionAck:
    """Verifier → wallet: what the verifier did with the data received under a consent.

    ``retained`` needs a ``legal_basis`` (e.g. the record-keeping duty of the Act on Prevention of
    Transfer of Criminal Proceeds, Art. 6) and ``retain_until``; ``deleted`` has neither.
    """

    consent_id: str
    client_id: str
    #: The wallet's public URL (the ``aud``).
    wallet: str
    outcome: DeletionOutcome
    issued_at: datetime
    jti: str
    legal_basis: str | None = None
    retain_until: datetime | None = None
    #: The ``jti`` of the revocation event answered; ``None`` when the verifier deleted on its own
    #: because the consented retention ended.
    event_jti: str | None = None

    def __post_init__(self) -> None:
        for name in ("consent_id", "client_id", "wallet", "jti"):
            require_text(getattr(self, name), name)
        if self.outcome not in _OUTCOMES:
            raise InvalidConsentData(f"outcome is 'deleted' or 'retained', not {self.outcome!r}")
        object.__setattr__(self, "issued_at", whole_seconds(self.issued_at, "issued_at"))
        if self.outcome == "retained":
            if self.legal_basis is None or self.retain_until is None:
                raise InvalidConsentData("data retained after revocation needs a legal_basis and retain_until")
            require_text(self.legal_basis, "legal_basis")
            object.__setattr__(self, "retain_until", whole_seconds(self.retain_until, "retain_until"))
        elif self.legal_basis is not None or self.retain_until is not None:
            raise InvalidConsentData("legal_basis and retain_until belong to a 'retained' outcome only")
        if self.event_jti is not None:
            require_text(self.event_jti, "event_jti")


@dataclass(frozen=True, slots=True)
class ConsentRefreshRequest:
    """Verifier → wallet, server to server: a fresh presentation under an ongoing consent, for ``nonce``."""

    client_id: str
    #: The wallet's public URL (the ``aud``).
    wallet: str
    consent_id: str
    nonce: str
    issued_at: datetime
    expires_at: datetime

    def __post_init__(self) -> None:
        for name in ("client_id", "wallet", "consent_id", "nonce"):
            require_text(getattr(self, name), name)
        object.__setattr__(self, "issued_at", whole_seconds(self.issued_at, "issued_at"))
        object.__setattr__(self, "expires_at", whole_seconds(self.expires_at, "expires_at"))
        if not self.issued_at < self.expires_at <= self.issued_at + MAX_REFRESH_LIFETIME:
            raise InvalidConsentData(f"a refresh request is valid for at most {MAX_REFRESH_LIFETIME} after iat")


# --- the revocation event (wallet → verifier) --------------------------------------------------------


def build_consent_revocation(revocation: ConsentRevocation, key: PrivateJwk) -> str:
    claims = {
        "iss": revocation.wallet,
        "aud": revocation.client_id,
        "jti": revocation.jti,
        "iat": numeric_date(revocation.issued_at),
        "consent_id": revocation.consent_id,
        "event": revocation.event,
    }
    return sign_token(TYP_CONSENT_REVOCATION, claims, key)


def verify_consent_revocation(
    token: str,
    *,
    keys: Sequence[PublicJwk],
    expected_aud: str,
    now: datetime,
    clock_skew: timedelta = timedelta(seconds=60),
    expected_iss: str | None = None,
) -> ConsentRevocation:
    """Verify a revocation event as the verifier must. It has no ``exp``: an outbox may deliver it
    days late and it still holds; the receiver de-duplicates on ``jti`` (and on ``consent_id``).

    Raises: as :func:`verify_consent_receipt`, without ``ConsentTokenExpired``.
    """
    claims = verify_with_jwks(token, TYP_CONSENT_REVOCATION, keys)
    check_aud_iss(claims, expected_aud, expected_iss)
    revocation = construct(
        lambda: ConsentRevocation(
            consent_id=read_str(claims, "consent_id"),
            wallet=read_str(claims, "iss"),
            client_id=read_str(claims, "aud"),
            event=read_str(claims, "event"),  # type: ignore[arg-type]  # checked in __post_init__
            issued_at=read_time(claims, "iat"),
            jti=read_str(claims, "jti"),
        )
    )
    check_iat(revocation.issued_at, now, clock_skew)
    return revocation


# --- the deletion acknowledgement (verifier → wallet) ------------------------------------------------


def build_deletion_ack(ack: DeletionAck, key: PrivateJwk, *, x5c: Sequence[str]) -> str:
    """Sign ``ack`` with the verifier's request-signing key; ``x5c`` is its chain, leaf first."""
    claims: dict[str, Any] = {
        "client_id": ack.client_id,
        "aud": ack.wallet,
        "jti": ack.jti,
        "iat": numeric_date(ack.issued_at),
        "consent_id": ack.consent_id,
        "outcome": ack.outcome,
    }
    if ack.legal_basis is not None:
        claims["legal_basis"] = ack.legal_basis
    if ack.retain_until is not None:
        claims["retain_until"] = numeric_date(ack.retain_until)
    if ack.event_jti is not None:
        claims["event_jti"] = ack.event_jti
    return sign_token(TYP_DELETION_ACK, claims, key, x5c=x5c)


def verify_deletion_ack(
    token: str,
    *,
    trust_anchor: x509.Certificate,
    expected_client_id: str,
    expected_aud: str,
    now: datetime,
    clock_skew: timedelta = timedelta(seconds=60),
) -> DeletionAck:
    """Verify a deletion acknowledgement as the wallet must (``expected_aud``: its own public URL).

    Raises:
        ConsentTokenInvalid: malformed, wrong ``typ``, refused ``alg``, a claim missing or malformed.
        ConsentCertificateInvalid: no ``x5c``, or it does not chain to ``trust_anchor``.
        ConsentSignatureInvalid: not signed by the leaf certificate's key.
        ConsentClientIdMismatch: ``client_id`` not ``expected_client_id`` or not the certificate's.
        ConsentAudienceMismatch: ``aud`` is not ``expected_aud``.
        ConsentTokenNotYetValid: ``iat`` in the future.
    """
    claims, _chain = verify_with_x5c(token, TYP_DELETION_ACK, trust_anchor, expected_client_id, now)
    if claims.get("aud") != expected_aud:
        raise ConsentAudienceMismatch(f"the acknowledgement is addressed to {claims.get('aud')!r}, not {expected_aud!r}")
    retain_until = claims.get("retain_until")
    ack = construct(
        lambda: DeletionAck(
            consent_id=read_str(claims, "consent_id"),
            client_id=read_str(claims, "client_id"),
            wallet=read_str(claims, "aud"),
            outcome=read_str(claims, "outcome"),  # type: ignore[arg-type]  # checked in __post_init__
            issued_at=read_time(claims, "iat"),
            jti=read_str(claims, "jti"),
            legal_basis=read_str(claims, "legal_basis") if "legal_basis" in claims else None,
            retain_until=read_time(claims, "retain_until") if retain_until is not None else None,
            event_jti=read_str(claims, "event_jti") if "event_jti" in claims else None,
        )
    )
    check_iat(ack.issued_at, now, clock_skew)
    return ack


# --- the refresh request (verifier → wallet, ongoing access) -----------------------------------------


def build_consent_refresh_request(request: ConsentRefreshRequest, key: PrivateJwk, *, x5c: Sequence[str]) -> str:
    claims = {
        "client_id": request.client_id,
        "aud": request.wallet,
        "consent_id": request.consent_id,
        "nonce": request.nonce,
        "iat": numeric_date(request.issued_at),
        "exp": numeric_date(request.expires_at),
    }
    return sign_token(TYP_CONSENT_REFRESH_REQUEST, claims, key, x5c=x5c)


def verify_consent_refresh_request(
    token: str,
    *,
    trust_anchor: x509.Certificate,
    expected_aud: str,
    now: datetime,
    clock_skew: timedelta = timedelta(seconds=60),
    expected_client_id: str | None = None,
) -> ConsentRefreshRequest:
    """Verify a refresh request as the wallet must. The wallet then checks, in its database, that
    the consent names this ``client_id``, is ``ongoing``, ``active`` and unexpired, and that the
    ``nonce`` was not used before.

    Raises: as :func:`verify_deletion_ack`, plus ``ConsentTokenExpired`` and ``ConsentTokenInvalid``
    for a request valid for longer than ``MAX_REFRESH_LIFETIME``.
    """
    claims, _chain = verify_with_x5c(token, TYP_CONSENT_REFRESH_REQUEST, trust_anchor, expected_client_id, now)
    if claims.get("aud") != expected_aud:
        raise ConsentAudienceMismatch(f"the refresh request is addressed to {claims.get('aud')!r}, not {expected_aud!r}")
    request = construct(
        lambda: ConsentRefreshRequest(
            client_id=read_str(claims, "client_id"),
            wallet=read_str(claims, "aud"),
            consent_id=read_str(claims, "consent_id"),
            nonce=read_str(claims, "nonce"),
            issued_at=read_time(claims, "iat"),
            expires_at=read_time(claims, "exp"),
        )
    )
    check_iat(request.issued_at, now, clock_skew)
    check_exp(request.expires_at, now, clock_skew, "refresh request")
    return request
