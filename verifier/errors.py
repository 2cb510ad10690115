"""The verifier service's own refusals, in OpenID4VP's error vocabulary (``tsunagu.oid4vp.errors``)."""

from __future__ import annotations

from typing import ClassVar

from tsunagu.errors import TsunaguError
from tsunagu.oid4vp import InvalidRequest

__all__ = ["UnknownTenant", "UnknownRequest", "RequestExpired", "RequestAlreadyAnswered", "UnknownTemplate",
           "InvalidTenant", "ConsentReceiptProblem", "ConsentReceiptMissing", "ConsentReceiptMismatch",
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
