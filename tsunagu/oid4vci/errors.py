"""Wire errors of OpenID4VCI 1.0, each named for the spec's own error code.

Three vocabularies meet at a credential issuer:

* the Token Endpoint speaks OAuth 2.0 (RFC 6749 §5.2, clarified by OpenID4VCI 1.0 §6.3);
* the Credential and Notification Endpoints are OAuth protected resources: a missing or bad
  access token is an RFC 6750 §3.1 ``invalid_token`` (401 with ``WWW-Authenticate``);
* a bad Credential Request gets the codes of OpenID4VCI 1.0 §8.3.1.2, a bad Notification
  Request those of §11.3.

The wallet side uses :func:`error_from_response` to turn an issuer's error body back into the
same classes, and the client-side parse errors (:class:`InvalidCredentialOffer`, ...) for
documents an issuer sends that do not follow the spec.

``error_description`` must be printable ASCII without ``"`` and ``\\`` (§8.3.1.2): reasons built
here never echo a submitted value, and :func:`safe_description` makes any text fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Final

from ..errors import ProtocolError

__all__ = [
    "Oid4vciError",
    # documents a wallet receives
    "InvalidIssuerIdentifier",
    "InvalidCredentialOffer",
    "InvalidCredentialIssuerMetadata",
    "InvalidAuthorizationServerMetadata",
    "InvalidTokenResponse",
    "InvalidNonceResponse",
    "InvalidCredentialResponse",
    # Token Endpoint (RFC 6749 §5.2)
    "TokenEndpointError",
    "InvalidRequest",
    "InvalidClient",
    "InvalidGrant",
    "UnsupportedGrantType",
    # protected resources (RFC 6750 §3.1)
    "InvalidToken",
    # Credential Endpoint (§8.3.1.2)
    "CredentialEndpointError",
    "InvalidCredentialRequest",
    "UnknownCredentialConfiguration",
    "UnknownCredentialIdentifier",
    "InvalidProof",
    "ProofTypMismatch",
    "ProofAlgorithmNotAllowed",
    "ProofKeyInvalid",
    "ProofSignatureInvalid",
    "ProofAudienceMismatch",
    "ProofIssuedAtOutOfWindow",
    "ProofNonceMissing",
    "InvalidNonce",
    "InvalidEncryptionParameters",
    "CredentialRequestDenied",
    # Notification Endpoint (§11.3)
    "NotificationEndpointError",
    "InvalidNotificationId",
    "InvalidNotificationRequest",
    "error_from_response",
    "safe_description",
]


class Oid4vciError(ProtocolError):
    code = "oid4vci.error"


# --- documents a wallet receives from an issuer ----------------------------------------------


class InvalidIssuerIdentifier(Oid4vciError):
    """§12.2.1: not an ``https`` URL with a host and no query or fragment."""

    code = "oid4vci.invalid_issuer_identifier"


class InvalidCredentialOffer(Oid4vciError):
    """OpenID4VCI 1.0 §4.1: not a Credential Offer (or offer URI) a wallet may act on."""

    code = "oid4vci.invalid_credential_offer"


class InvalidCredentialIssuerMetadata(Oid4vciError):
    """OpenID4VCI 1.0 §12.2: the issuer's metadata is malformed or names another issuer."""

    code = "oid4vci.invalid_credential_issuer_metadata"


class InvalidAuthorizationServerMetadata(Oid4vciError):
    """RFC 8414 §3.3: the authorization server's metadata is malformed or names another issuer."""

    code = "oid4vci.invalid_authorization_server_metadata"


class InvalidTokenResponse(Oid4vciError):
    code = "oid4vci.invalid_token_response"


class InvalidNonceResponse(Oid4vciError):
    code = "oid4vci.invalid_nonce_response"


class InvalidCredentialResponse(Oid4vciError):
    code = "oid4vci.invalid_credential_response"


# --- Token Endpoint: RFC 6749 §5.2, OpenID4VCI 1.0 §6.3 -----------------------------------------


class TokenEndpointError(Oid4vciError):
    code = "oid4vci.token_error"


class InvalidRequest(TokenEndpointError):
    """A missing or repeated parameter; a ``tx_code`` missing when required, or sent when not (§6.3)."""

    code = "oid4vci.invalid_request"
    error = "invalid_request"


class InvalidClient(TokenEndpointError):
    """§6.3: a Pre-Authorized Code without ``client_id`` where anonymous access is not supported."""

    code = "oid4vci.invalid_client"
    error = "invalid_client"


class InvalidGrant(TokenEndpointError):
    """§6.3: wrong, expired or used Pre-Authorized Code, or a wrong Transaction Code."""

    code = "oid4vci.invalid_grant"
    error = "invalid_grant"


class UnsupportedGrantType(TokenEndpointError):
    code = "oid4vci.unsupported_grant_type"
    error = "unsupported_grant_type"


# --- protected resources: RFC 6750 §3.1, RFC 9449 §7.1 -----------------------------------------


class InvalidToken(Oid4vciError):
    """RFC 6750 §3.1: the access token is missing, unknown, expired, or used with the wrong scheme.

    ``scheme`` is the authentication scheme the token must be used with (``Bearer``, or ``DPoP``
    for a DPoP-bound token, RFC 9449 §7.1); ``announce_error=False`` when the request carried no
    credentials at all, in which case RFC 6750 §3.1 says the challenge should not name an error.
    """

    code = "oid4vci.invalid_token"
    error = "invalid_token"
    status_code: ClassVar[int] = 401

    def __init__(
        self,
        reason: str,
        *,
        scheme: str = "Bearer",
        announce_error: bool = True,
        dpop_algs: tuple[str, ...] = (),
        **details: object,
    ) -> None:
        super().__init__(reason, **details)
        self.scheme = scheme
        self.announce_error = announce_error
        self.dpop_algs = dpop_algs

    def headers(self) -> dict[str, str]:
        params: list[str] = []
        if self.announce_error:
            params.append(f'error="{self.error}"')
            params.append(f'error_description="{safe_description(self.reason)}"')
        if self.scheme == "DPoP" and self.dpop_algs:
            params.append(f'algs="{" ".join(self.dpop_algs)}"')
        challenge = self.scheme + (" " + ", ".join(params) if params else "")
        return {"WWW-Authenticate": challenge}


# --- Credential Endpoint: OpenID4VCI 1.0 §8.3.1.2 ----------------------------------------------


class CredentialEndpointError(Oid4vciError):
    code = "oid4vci.credential_error"


class InvalidCredentialRequest(CredentialEndpointError):
    """Missing, unsupported or repeated parameter, or otherwise malformed."""

    code = "oid4vci.invalid_credential_request"
    error = "invalid_credential_request"


class UnknownCredentialConfiguration(CredentialEndpointError):
    code = "oid4vci.unknown_credential_configuration"
    error = "unknown_credential_configuration"


class UnknownCredentialIdentifier(CredentialEndpointError):
    code = "oid4vci.unknown_credential_identifier"
    error = "unknown_credential_identifier"


class InvalidProof(CredentialEndpointError):
    """``proofs`` missing, a key proof invalid, or a key proof without ``c_nonce``."""

    code = "oid4vci.invalid_proof"
    error = "invalid_proof"


class ProofTypMismatch(InvalidProof):
    """Appendix F.4: the key proof must be explicitly typed ``openid4vci-proof+jwt``."""

    code = "oid4vci.proof_typ_mismatch"


class ProofAlgorithmNotAllowed(InvalidProof):
    """Appendix F.4: ``alg`` is ``none``, symmetric, or not in ``proof_signing_alg_values_supported``."""

    code = "oid4vci.proof_alg_not_allowed"


class ProofKeyInvalid(InvalidProof):
    """Appendix F.1/F.4: no usable public ``jwk`` in the header, or one carrying private key material."""

    code = "oid4vci.proof_key_invalid"


class ProofSignatureInvalid(InvalidProof):
    code = "oid4vci.proof_signature_invalid"


class ProofAudienceMismatch(InvalidProof):
    """Appendix F.1: ``aud`` must be the Credential Issuer Identifier."""

    code = "oid4vci.proof_aud_mismatch"


class ProofIssuedAtOutOfWindow(InvalidProof):
    """Appendix F.4: ``iat`` outside the acceptable window (§13.6, proof replay)."""

    code = "oid4vci.proof_iat_out_of_window"


class ProofNonceMissing(InvalidProof):
    """§8.3.1.2 (3): a key proof without a ``c_nonce`` when the issuer has a Nonce Endpoint."""

    code = "oid4vci.proof_nonce_missing"


class InvalidNonce(CredentialEndpointError):
    """A key proof's ``c_nonce`` is unknown, expired or already used: fetch a new one (§7)."""

    code = "oid4vci.invalid_nonce"
    error = "invalid_nonce"


class InvalidEncryptionParameters(CredentialEndpointError):
    code = "oid4vci.invalid_encryption_parameters"
    error = "invalid_encryption_parameters"


class CredentialRequestDenied(CredentialEndpointError):
    """Unrecoverable: the issuer will not issue this credential (§8.3.1.2)."""

    code = "oid4vci.credential_request_denied"
    error = "credential_request_denied"


# --- Notification Endpoint: OpenID4VCI 1.0 §11.3 -----------------------------------------------


class NotificationEndpointError(Oid4vciError):
    code = "oid4vci.notification_error"


class InvalidNotificationId(NotificationEndpointError):
    code = "oid4vci.invalid_notification_id"
    error = "invalid_notification_id"


class InvalidNotificationRequest(NotificationEndpointError):
    code = "oid4vci.invalid_notification_request"
    error = "invalid_notification_request"


#: The class a wallet raises for each ``error`` an issuer may answer with.
_BY_ERROR: Final[Mapping[str, type[Oid4vciError]]] = {
    cls.error: cls
    for cls in (
        InvalidRequest,
        InvalidClient,
        InvalidGrant,
        UnsupportedGrantType,
        InvalidToken,
        InvalidCredentialRequest,
        UnknownCredentialConfiguration,
        UnknownCredentialIdentifier,
        InvalidProof,
        InvalidNonce,
        InvalidEncryptionParameters,
        CredentialRequestDenied,
        InvalidNotificationId,
        InvalidNotificationRequest,
    )
}


def error_from_response(status: int, body: object) -> Oid4vciError:
    """The typed error for an issuer's error answer (``{"error", "error_description"}``).

    An unknown or missing ``error`` becomes a plain :class:`Oid4vciError` carrying the status;
    the issuer's description is kept (made printable) so a person can read what it said.
    """
    error = body.get("error") if isinstance(body, Mapping) else None
    description = body.get("error_description") if isinstance(body, Mapping) else None
    said = safe_description(description) if isinstance(description, str) else ""
    cls = _BY_ERROR.get(error) if isinstance(error, str) else None
    if cls is None:
        shown = safe_description(error) if isinstance(error, str) else "no error code"
        return Oid4vciError(f"the issuer answered HTTP {status} ({shown}) {said}".strip(), status=status)
    return cls(f"the issuer answered {cls.error}: {said or 'no description'}", status=status)


def safe_description(text: str, *, limit: int = 300) -> str:
    """``text`` reduced to what ``error_description`` may carry: %x20-21 / %x23-5B / %x5D-7E."""
    kept = "".join(ch if (0x20 <= ord(ch) <= 0x7E and ch not in '"\\') else "?" for ch in text)
    return kept if len(kept) <= limit else kept[: limit - 3] + "..."
