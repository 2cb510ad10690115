"""The verifier service's own refusals, in OpenID4VP's error vocabulary (``tsunagu.oid4vp.errors``)."""

from __future__ import annotations

from typing import ClassVar

from tsunagu.errors import ProtocolError, TsunaguError
from tsunagu.oid4vp import InvalidClient, InvalidRequest

__all__ = ["UnknownTenant", "UnknownRequest", "RequestExpired", "RequestAlreadyAnswered", "UnknownTemplate",
           "InvalidTenant", "InvalidAccessPeriod", "UnknownConsent", "ConsentNotOngoing", "ConsentEnded",
           "RefreshUriRefused", "ConsentRefreshRefused", "WalletUnavailable", "InvalidConsentNotice",
           "ConsentNoticeUnauthenticated", "ConsentReceiptProblem", "ConsentReceiptMissing", "ConsentReceiptMismatch",
           "WalletKeysLocationRefused"]


class UnknownTenant(InvalidRequest):
    code = "verifier.unknown_tenant"
    status_code: ClassVar[int] = 404


class UnknownRequest(InvalidRequest):
    code = "verifier.unknown_request"
    status_code: ClassVar[int] = 404


class RequestExpired(InvalidRequest):
    """The presentation request's lifetime is over; the verifier must create a new one."""

    code = "verifier.request_expired"


class RequestAlreadyAnswered(InvalidRequest):
    """A wallet fetched the Request Object of a request that already has a response."""

    code = "verifier.request_already_answered"


class UnknownTemplate(InvalidRequest):
    code = "verifier.unknown_template"


class InvalidTenant(InvalidRequest):
    """A tenant registration whose key, certificate or name is unusable."""

    code = "verifier.invalid_tenant"


class InvalidAccessPeriod(InvalidRequest):
    """``access_period_days`` without ongoing access, or ongoing access without one (or under one day)."""

    code = "verifier.invalid_access_period"


# --- consents: refresh (admin API) and notifications (wallet → verifier) --------------------------


class UnknownConsent(ProtocolError):
    """No consent receipt with that id is stored for this tenant."""

    code = "verifier.unknown_consent"
    error = "unknown_consent"
    status_code: ClassVar[int] = 404


class ConsentNotOngoing(ProtocolError):
    """A refresh was asked under a one-time consent."""

    code = "verifier.consent_not_ongoing"
    error = "consent_not_ongoing"
    status_code: ClassVar[int] = 409


class ConsentEnded(ProtocolError):
    """The consent was revoked (a revocation event arrived) or is past its ``expires_at``."""

    code = "verifier.consent_ended"
    error = "consent_ended"
    status_code: ClassVar[int] = 409


class RefreshUriRefused(ProtocolError):
    """The receipt's ``refresh_uri`` is not on its wallet's origin (or that origin is not one we call)."""

    code = "verifier.refresh_uri_refused"
    error = "refresh_uri_refused"
    status_code: ClassVar[int] = 409


class ConsentRefreshRefused(ProtocolError):
    """The wallet answered the refresh request with an error; the description carries its code and text."""

    code = "verifier.consent_refresh_refused"
    error = "consent_refresh_refused"
    status_code: ClassVar[int] = 409


class WalletUnavailable(ProtocolError):
    """The wallet could not be reached, or answered something that is not a refresh response or a JWK Set."""

    code = "verifier.wallet_unavailable"
    error = "wallet_unavailable"
    status_code: ClassVar[int] = 502


class InvalidConsentNotice(InvalidRequest):
    """A consent notification that is not one: media type, malformed token, another audience, ``iat`` ahead."""

    code = "verifier.invalid_consent_notice"


class ConsentNoticeUnauthenticated(InvalidClient):
    """The notification's signer is not established: key not found, bad signature, a wallet whose keys
    we do not fetch, or not the wallet that sent the receipt for that consent."""

    code = "verifier.consent_notice_unauthenticated"
    status_code: ClassVar[int] = 401


# --- the consent_receipt check (never wire errors: they become the check's outcome) ---------------


class ConsentReceiptProblem(TsunaguError):
    """Why a consent receipt was not accepted; ``reason_ja`` is the Japanese sentence of the check."""

    code = "verifier.consent_receipt"

    def __init__(self, reason: str, reason_ja: str, **details: object) -> None:
        super().__init__(reason, **details)
        self.reason_ja = reason_ja


class ConsentReceiptMissing(ConsentReceiptProblem):
    """No receipt came, and ``require_consent_receipt`` is on."""

    code = "verifier.consent_receipt_missing"


class ConsentReceiptMismatch(ConsentReceiptProblem):
    """A valid receipt that does not describe this request or what was disclosed."""

    code = "verifier.consent_receipt_mismatch"


class WalletKeysLocationRefused(ConsentReceiptProblem):
    """The receipt's ``iss`` is not a URL this verifier fetches a wallet's keys from (not https, not allowed)."""

    code = "verifier.wallet_keys_location_refused"
