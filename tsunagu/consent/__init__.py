"""Consent: the lifecycle of a resident's consent and the signed messages about it (docs/consent.md).

- The lifecycle: ``active`` → ``fulfilled`` (a one-time consent once presented), ``revoked`` or
  ``expired``; ``fulfilled`` → ``revoked`` (the resident withdraws, which asks the verifier to
  delete); nothing leaves ``revoked`` or ``expired``.
- The **consent receipt** (``consent-receipt+jwt``, wallet → verifier, with the presentation): the
  grant, with the fields of ISO/IEC TS 27560 and the Kantara Consent Receipt that apply.
- The **revocation event** (``consent-revocation+jwt``, wallet → verifier), the **deletion
  acknowledgement** (``consent-deletion-ack+jwt``, verifier → wallet) and the **refresh request**
  (``consent-refresh+jwt``, verifier → wallet, ongoing access). The verifier's two messages are
  signed with its request-signing key and carry its ``x5c`` chain, checked to the trust registry's
  root exactly as an OpenID4VP Request Object is (OpenID4VP 1.0 §5.9.3).

Every token is a compact JWS with an explicit ``typ`` (RFC 8725 §3.11), so none can be passed off
as another. Times are whole seconds (JWT NumericDate, RFC 7519 §2); keys and ``now`` come from the caller.
"""

from __future__ import annotations

from .errors import (
    ConsentAudienceMismatch,
    ConsentCertificateInvalid,
    ConsentClientIdMismatch,
    ConsentError,
    ConsentIssuerMismatch,
    ConsentKeyNotFound,
    ConsentSignatureInvalid,
    ConsentTokenExpired,
    ConsentTokenInvalid,
    ConsentTokenNotYetValid,
    ConsentTransitionRefused,
    InvalidConsentData,
)
from .events import (
    MAX_REFRESH_LIFETIME,
    MEDIA_TYPE_CONSENT_REFRESH_REQUEST,
    MEDIA_TYPE_CONSENT_REVOCATION,
    MEDIA_TYPE_DELETION_ACK,
    TYP_CONSENT_REFRESH_REQUEST,
    TYP_CONSENT_REVOCATION,
    TYP_DELETION_ACK,
    ConsentRefreshRequest,
    ConsentRevocation,
    DeletionAck,
    DeletionOutcome,
    RevocationEventType,
    build_consent_refresh_request,
    build_consent_revocation,
    build_deletion_ack,
    verify_consent_refresh_request,
    verify_consent_revocation,
    verify_deletion_ack,
)
from .lifecycle import (
    ACCESS_TYPES,
    CONSENT_STATUSES,
    LEGAL_BASIS_CONSENT,
    AccessType,
    ConsentStatus,
    can_transition,
    pairwise_subject,
    transition,
)
from .receipt import (
    RECEIPT_VERSION,
    TYP_CONSENT_RECEIPT,
    ConsentedClaims,
    ConsentReceipt,
    build_consent_receipt,
    verify_consent_receipt,
)

__all__ = [
    "ConsentStatus",
    "AccessType",
    "RevocationEventType",
    "DeletionOutcome",
    "CONSENT_STATUSES",
    "ACCESS_TYPES",
    "LEGAL_BASIS_CONSENT",
    "RECEIPT_VERSION",
    "TYP_CONSENT_RECEIPT",
    "TYP_CONSENT_REVOCATION",
    "TYP_DELETION_ACK",
    "TYP_CONSENT_REFRESH_REQUEST",
    "MAX_REFRESH_LIFETIME",
    "MEDIA_TYPE_CONSENT_REVOCATION",
    "MEDIA_TYPE_DELETION_ACK",
    "MEDIA_TYPE_CONSENT_REFRESH_REQUEST",
    "ConsentError",
    "ConsentTransitionRefused",
    "InvalidConsentData",
    "ConsentTokenInvalid",
    "ConsentSignatureInvalid",
    "ConsentKeyNotFound",
    "ConsentAudienceMismatch",
    "ConsentIssuerMismatch",
    "ConsentTokenExpired",
    "ConsentTokenNotYetValid",
    "ConsentCertificateInvalid",
    "ConsentClientIdMismatch",
    "can_transition",
    "transition",
    "pairwise_subject",
    "ConsentedClaims",
    "ConsentReceipt",
    "build_consent_receipt",
    "verify_consent_receipt",
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
