"""The wallet service's own refusals, each a typed wire error (``{"error", "error_description"}``).

The resident-facing API is the wallet's own; where a standard has a word for the refusal
(RFC 6750 ``invalid_token``, OpenID4VP ``invalid_client`` / ``access_denied``) it is used, otherwise
the ``error`` string names the situation plainly. Errors from an issuer or verifier are wrapped so
the resident learns who refused and with which code.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from tsunagu.errors import ProtocolError

__all__ = [
    "WalletError",
    "InvalidResidentRequest",
    "UsernameTaken",
    "InvalidLogin",
    "AccountLocked",
    "InvalidSessionToken",
    "NotFound",
    "UnsupportedOffer",
    "TxCodeRequired",
    "IssuerRefused",
    "IssuerUnavailable",
    "IssuedCredentialRejected",
    "TrustRegistryMissing",
    "VerifierRefused",
    "VerifierUnavailable",
    "RequestExpired",
    "RequestAlreadyAnswered",
    "InvalidChoice",
    "OutsideRegisteredPurpose",
    "NoUnusedCopy",
    "CredentialNotPresentable",
    "CredentialRevoked",
    "CredentialSuspended",
    "CredentialExpired",
    "StoredSecretUnusable",
    "ConsentNotRevocable",
    "ConsentNotActive",
    "InvalidVerifierMessage",
    "VerifierNotAuthenticated",
    "UnknownConsent",
    "ConsentNotOngoing",
    "ConsentRevoked",
    "ConsentEnded",
    "NonceReused",
    "CredentialUnavailable",
]


class WalletError(ProtocolError):
    code = "wallet.error"


class InvalidResidentRequest(WalletError):
    code = "wallet.invalid_request"
    error = "invalid_request"


class UsernameTaken(WalletError):
    code = "wallet.username_taken"
    error = "username_taken"
    status_code: ClassVar[int] = 409


class InvalidLogin(WalletError):
    """Wrong username or password: one message for both, so usernames cannot be probed."""

    code = "wallet.invalid_login"
    error = "invalid_grant"
    status_code: ClassVar[int] = 401


class AccountLocked(WalletError):
    """Too many failed logins in a row; the account opens again at ``until``."""

    code = "wallet.account_locked"
    error = "account_locked"
    status_code: ClassVar[int] = 429

    def __init__(self, reason: str, *, until: datetime, retry_after: int, **details: object) -> None:
        super().__init__(reason, until=until.isoformat(), **details)
        self.retry_after = max(retry_after, 1)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class InvalidSessionToken(WalletError):
    """RFC 6750 §3.1: no, unknown or expired session token."""

    code = "wallet.invalid_session_token"
    error = "invalid_token"
    status_code: ClassVar[int] = 401

    def __init__(self, reason: str, *, announce_error: bool = True, **details: object) -> None:
        super().__init__(reason, **details)
        self.announce_error = announce_error

    def headers(self) -> dict[str, str]:
        if not self.announce_error:
            return {"WWW-Authenticate": 'Bearer realm="wallet"'}
        return {"WWW-Authenticate": 'Bearer realm="wallet", error="invalid_token"'}


class NotFound(WalletError):
    """No such object among the logged-in resident's own (another resident's is not found either)."""

    code = "wallet.not_found"
    error = "not_found"
    status_code: ClassVar[int] = 404


# --- receiving credentials -----------------------------------------------------------------------


class UnsupportedOffer(WalletError):
    """An offer this wallet cannot act on: no Pre-Authorized Code, a format or encryption it lacks."""

    code = "wallet.unsupported_offer"
    error = "unsupported_offer"


class TxCodeRequired(WalletError):
    code = "wallet.tx_code_required"
    error = "tx_code_required"


class IssuerRefused(WalletError):
    """The issuer answered a request with an error; the reason names the issuer and its error code."""

    code = "wallet.issuer_refused"
    error = "issuer_refused"


class IssuerUnavailable(WalletError):
    """The issuer could not be reached, failed, or answered with something that is not the protocol."""

    code = "wallet.issuer_unavailable"
    error = "issuer_unavailable"
    status_code: ClassVar[int] = 502


class IssuedCredentialRejected(WalletError):
    """What the issuer sent is not a credential this wallet accepts (signature, type, key binding)."""

    code = "wallet.issued_credential_rejected"
    error = "issuer_unavailable"
    status_code: ClassVar[int] = 502


# --- presenting ----------------------------------------------------------------------------------


class TrustRegistryMissing(WalletError):
    """This wallet has no trust registry configured, so it cannot tell a resident who is asking."""

    code = "wallet.trust_registry_missing"
    error = "server_error"
    status_code: ClassVar[int] = 503


class VerifierRefused(WalletError):
    """The verifier refused to hand out its request (it expired, or does not exist); its reason is passed on."""

    code = "wallet.verifier_refused"
    error = "verifier_refused"


class VerifierUnavailable(WalletError):
    code = "wallet.verifier_unavailable"
    error = "verifier_unavailable"
    status_code: ClassVar[int] = 502


class RequestExpired(WalletError):
    code = "wallet.request_expired"
    error = "request_expired"
    status_code: ClassVar[int] = 409


class RequestAlreadyAnswered(WalletError):
    code = "wallet.request_already_answered"
    error = "request_already_answered"
    status_code: ClassVar[int] = 409


class InvalidChoice(WalletError):
    """The resident's choice of credentials or claim set does not answer the request."""

    code = "wallet.invalid_choice"
    error = "invalid_request"


class OutsideRegisteredPurpose(WalletError):
    """A chosen claim is one the verifier is not registered to ask for under the stated purpose."""

    code = "wallet.outside_registered_purpose"
    error = "outside_registered_purpose"
    status_code: ClassVar[int] = 403


class NoUnusedCopy(WalletError):
    """Every copy of the chosen credential was already shown to a verifier (copies are never reused)."""

    code = "wallet.no_unused_copy"
    error = "credential_used_up"
    status_code: ClassVar[int] = 409


class CredentialNotPresentable(WalletError):
    """The chosen credential is no longer in force; it is never offered, and choosing it is refused."""

    code = "wallet.credential_not_presentable"
    error = "credential_not_presentable"
    status_code: ClassVar[int] = 409


class CredentialRevoked(CredentialNotPresentable):
    code = "wallet.credential_revoked"
    error = "credential_revoked"


class CredentialSuspended(CredentialNotPresentable):
    code = "wallet.credential_suspended"
    error = "credential_suspended"


class CredentialExpired(CredentialNotPresentable):
    code = "wallet.credential_expired"
    error = "credential_expired"


class StoredSecretUnusable(WalletError):
    """A sealed credential or key that no longer opens (master key changed, row altered): the operator's problem."""

    code = "wallet.stored_secret_unusable"
    error = "server_error"
    status_code: ClassVar[int] = 500


class ConsentNotRevocable(WalletError):
    """The consent has ended (expired) or is changing under another worker: nothing is revoked."""

    code = "wallet.consent_not_revocable"
    error = "consent_not_revocable"
    status_code: ClassVar[int] = 409


class ConsentNotActive(WalletError):
    """A presentation under a consent that was revoked (or expired) before it could be sent."""

    code = "wallet.consent_not_active"
    error = "consent_not_active"
    status_code: ClassVar[int] = 409


# --- messages from verifiers (server to server: refresh requests, deletion acknowledgements) ----------


class InvalidVerifierMessage(WalletError):
    """A verifier's signed message is malformed, of the wrong media type, expired or not addressed to this wallet."""

    code = "wallet.invalid_verifier_message"
    error = "invalid_request"


class VerifierNotAuthenticated(WalletError):
    """The message's certificate, signature or ``client_id`` does not check out, or the client is not registered."""

    code = "wallet.verifier_not_authenticated"
    error = "invalid_client"
    status_code: ClassVar[int] = 401


class UnknownConsent(WalletError):
    """No consent with that id was given to that client (another verifier's consent is unknown too)."""

    code = "wallet.unknown_consent"
    error = "unknown_consent"
    status_code: ClassVar[int] = 404


class ConsentNotOngoing(WalletError):
    """A refresh under a one-time consent: it was for one presentation, already made."""

    code = "wallet.consent_not_ongoing"
    error = "consent_not_ongoing"
    status_code: ClassVar[int] = 403


class ConsentRevoked(WalletError):
    code = "wallet.consent_revoked"
    error = "consent_revoked"
    status_code: ClassVar[int] = 403


class ConsentEnded(WalletError):
    """The consent is past its end (``expires_at``), whether or not the sweep has marked it expired yet."""

    code = "wallet.consent_expired"
    error = "consent_expired"
    status_code: ClassVar[int] = 403


class NonceReused(WalletError):
    code = "wallet.nonce_reused"
    error = "nonce_reused"
    status_code: ClassVar[int] = 409


class CredentialUnavailable(WalletError):
    """The credential (or the copy) the consent was presented with is no longer held."""

    code = "wallet.credential_unavailable"
    error = "credential_unavailable"
    status_code: ClassVar[int] = 409
