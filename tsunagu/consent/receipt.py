"""The consent receipt (``consent-receipt+jwt``): the grant, signed by the wallet, sent with the
presentation (docs/consent.md "The consent receipt"). Fields after ISO/IEC TS 27560 and the
Kantara Consent Receipt v1.1, as far as they apply to one presentation to one verifier."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from ..claims_path import ClaimsPath, parse_claims_path
from ..errors import InvalidDcqlQuery
from ..jwk import PrivateJwk, PublicJwk
from ..purposes import is_purpose_code
from ..trust import LocalizedText
from .errors import ConsentAudienceMismatch, ConsentTokenInvalid, InvalidConsentData
from .lifecycle import ACCESS_TYPES, LEGAL_BASIS_CONSENT, AccessType
from .tokens import (
    check_aud_iss,
    check_exp,
    check_iat,
    construct,
    is_count,
    numeric_date,
    read_int,
    read_list,
    read_obj,
    read_str,
    read_text,
    read_time,
    require_text,
    sign_token,
    verify_with_jwks,
    whole_seconds,
)

__all__ = [
    "RECEIPT_VERSION",
    "TYP_CONSENT_RECEIPT",
    "ConsentedClaims",
    "ConsentReceipt",
    "build_consent_receipt",
    "verify_consent_receipt",
]

#: The ``version`` claim of a receipt of this format (ISO/IEC TS 27560 ``schema_version``).
RECEIPT_VERSION: Final = "1.0"

TYP_CONSENT_RECEIPT: Final = "consent-receipt+jwt"


@dataclass(frozen=True, slots=True)
class ConsentedClaims:
    """The claims consented to for one Credential Query: which credential type, which paths."""

    credential_query_id: str
    vct: str
    paths: tuple[ClaimsPath, ...]

    def __post_init__(self) -> None:
        require_text(self.credential_query_id, "credential_query_id")
        require_text(self.vct, "vct")
        if not self.paths:
            raise InvalidConsentData("a consent names at least one claim path per credential")
        for path in self.paths:
            try:
                parse_claims_path(list(path))
            except InvalidDcqlQuery as exc:
                raise InvalidConsentData(exc.reason) from None

    def to_json(self) -> dict[str, Any]:
        return {"credential_query_id": self.credential_query_id, "vct": self.vct, "paths": [list(p) for p in self.paths]}


@dataclass(frozen=True, slots=True)
class ConsentReceipt:
    """The grant, as the wallet signs it (docs/consent.md "The consent receipt").

    Not in it: the status history. The receipt records what was agreed at ``granted_at``; what
    happens later travels as revocation events.
    """

    consent_id: str
    #: The wallet's public URL: the receipt's ``iss``; its keys are at ``{wallet}/.well-known/jwks.json``.
    wallet: str
    #: The resident's pairwise pseudonym for this verifier (:func:`pairwise_subject`), never a username.
    subject: str
    verifier_client_id: str
    verifier_name: LocalizedText
    purpose: str
    #: The verifier's own words for the purpose, from its request's purpose statement.
    purpose_text: LocalizedText
    claims: tuple[ConsentedClaims, ...]
    granted_at: datetime
    expires_at: datetime
    retention_days: int
    access_type: AccessType
    #: Where the verifier sends its signed acknowledgements (deletion acks) to the wallet.
    notification_uri: str
    legal_basis: str = LEGAL_BASIS_CONSENT
    version: str = RECEIPT_VERSION
    #: Where the verifier asks for fresh presentations (``consent-refresh+jwt``); ongoing access only, and required there.
    refresh_uri: str | None = None
    #: Claims of ``claims`` the resident chose to share although the verifier's registered purpose does not
    #: cover them (her override, where the wallet allows it); empty: all within the registered purpose.
    beyond_purpose: tuple[ConsentedClaims, ...] = ()

    def __post_init__(self) -> None:
        for name in ("consent_id", "wallet", "subject", "verifier_client_id", "notification_uri", "legal_basis",
                     "version"):
            require_text(getattr(self, name), name)
        if not is_purpose_code(self.purpose):
            raise InvalidConsentData(f"{self.purpose!r} is not a purpose code of tsunagu.purposes")
        if not self.claims:
            raise InvalidConsentData("a consent names at least one credential")
        if self.access_type not in ACCESS_TYPES:
            raise InvalidConsentData(f"access_type is 'one-time' or 'ongoing', not {self.access_type!r}")
        if not is_count(self.retention_days):
            raise InvalidConsentData("retention_days is a non-negative integer")
        object.__setattr__(self, "granted_at", whole_seconds(self.granted_at, "granted_at"))
        object.__setattr__(self, "expires_at", whole_seconds(self.expires_at, "expires_at"))
        if self.expires_at <= self.granted_at:
            raise InvalidConsentData("a consent must expire after it is granted")
        if (self.access_type == "ongoing") != (self.refresh_uri is not None):
            raise InvalidConsentData("a refresh_uri belongs to ongoing access, and ongoing access needs one")
        if self.refresh_uri is not None:
            require_text(self.refresh_uri, "refresh_uri")
        consented = {c.credential_query_id: c for c in self.claims}
        for extra in self.beyond_purpose:
            within = consented.get(extra.credential_query_id)
            if within is None or within.vct != extra.vct or not set(extra.paths) <= set(within.paths):
                raise InvalidConsentData("beyond_purpose may only name claims the consent itself names")


# --- the consent receipt -------------------------------------------------------------------------------


def build_consent_receipt(receipt: ConsentReceipt, key: PrivateJwk) -> str:
    """Sign ``receipt`` with the wallet's key (header ``typ`` ``consent-receipt+jwt`` and ``kid``)."""
    claims: dict[str, Any] = {
        "iss": receipt.wallet,
        "sub": receipt.subject,
        "aud": receipt.verifier_client_id,
        "jti": receipt.consent_id,
        "iat": numeric_date(receipt.granted_at),
        "exp": numeric_date(receipt.expires_at),
        "version": receipt.version,
        "verifier": {"client_id": receipt.verifier_client_id, "name": receipt.verifier_name.to_json()},
        "purpose": {"code": receipt.purpose, "text": receipt.purpose_text.to_json()},
        "claims": [c.to_json() for c in receipt.claims],
        "legal_basis": receipt.legal_basis,
        "retention_days": receipt.retention_days,
        "access_type": receipt.access_type,
        "notification_uri": receipt.notification_uri,
    }
    if receipt.refresh_uri is not None:
        claims["refresh_uri"] = receipt.refresh_uri
    if receipt.beyond_purpose:
        claims["beyond_purpose"] = [c.to_json() for c in receipt.beyond_purpose]
    return sign_token(TYP_CONSENT_RECEIPT, claims, key)


def verify_consent_receipt(
    token: str,
    *,
    keys: Sequence[PublicJwk],
    expected_aud: str,
    now: datetime,
    clock_skew: timedelta = timedelta(seconds=60),
    expected_iss: str | None = None,
) -> ConsentReceipt:
    """Verify a receipt as the verifier receiving it must: ``keys`` is the wallet's JWK Set.

    Raises:
        ConsentTokenInvalid: not a JWS, wrong ``typ``, refused ``alg``, a claim missing or malformed.
        ConsentKeyNotFound, ConsentSignatureInvalid: not signed by a key of ``keys``.
        ConsentAudienceMismatch: ``aud`` (and ``verifier.client_id``) is not ``expected_aud``.
        ConsentIssuerMismatch: ``iss`` is not ``expected_iss`` (when given).
        ConsentTokenExpired, ConsentTokenNotYetValid: ``exp`` passed or ``iat`` in the future.
    """
    claims = verify_with_jwks(token, TYP_CONSENT_RECEIPT, keys)
    check_aud_iss(claims, expected_aud, expected_iss)
    verifier = read_obj(claims, "verifier")
    if verifier.get("client_id") != claims["aud"]:
        raise ConsentAudienceMismatch("the receipt's verifier.client_id is not its aud")
    purpose = read_obj(claims, "purpose")
    receipt = construct(
        lambda: ConsentReceipt(
            consent_id=read_str(claims, "jti"),
            wallet=read_str(claims, "iss"),
            subject=read_str(claims, "sub"),
            verifier_client_id=read_str(verifier, "client_id"),
            verifier_name=read_text(verifier, "name"),
            purpose=read_str(purpose, "code"),
            purpose_text=read_text(purpose, "text"),
            claims=tuple(_consented(item) for item in read_list(claims, "claims")),
            granted_at=read_time(claims, "iat"),
            expires_at=read_time(claims, "exp"),
            retention_days=read_int(claims, "retention_days"),
            access_type=read_str(claims, "access_type"),  # type: ignore[arg-type]  # checked in __post_init__
            notification_uri=read_str(claims, "notification_uri"),
            legal_basis=read_str(claims, "legal_basis"),
            version=read_str(claims, "version"),
            refresh_uri=read_str(claims, "refresh_uri") if "refresh_uri" in claims else None,
            beyond_purpose=tuple(_consented(item) for item in read_list(claims, "beyond_purpose"))
            if "beyond_purpose" in claims else (),
        )
    )
    check_iat(receipt.granted_at, now, clock_skew)
    check_exp(receipt.expires_at, now, clock_skew, "consent receipt")
    return receipt


def _consented(item: object) -> ConsentedClaims:
    if not isinstance(item, Mapping):
        raise ConsentTokenInvalid("each entry of 'claims' must be a JSON object")
    paths = read_list(item, "paths")
    if not all(isinstance(p, list) for p in paths):
        raise ConsentTokenInvalid("each claim path must be an array")
    return ConsentedClaims(
        credential_query_id=read_str(item, "credential_query_id"), vct=read_str(item, "vct"), paths=tuple(tuple(p) for p in paths)
    )
