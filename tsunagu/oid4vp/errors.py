"""OpenID4VP 1.0 wire errors (§8.5), one class per ``error`` code, and finer classes for our checks.

Every class is a :class:`~tsunagu.errors.ProtocolError`: the services' exception handlers turn it
into ``{"error": ..., "error_description": ...}`` with its ``status_code``; the wallet uses the
same ``error`` when it posts an Authorization Error Response to a verifier's ``response_uri``.
The subclasses of :class:`InvalidRequest` say which requirement was violated (``code``) while
keeping the spec's ``error`` string, so a decision or a log can tell them apart.
"""

from __future__ import annotations

from ..errors import ProtocolError

__all__ = [
    "Oid4vpError",
    "InvalidRequest",
    "InvalidClient",
    "AccessDenied",
    "VpFormatsNotSupported",
    "InvalidRequestUriMethod",
    "InvalidTransactionData",
    "WalletUnavailable",
    "RequestObjectInvalid",
    "ClientIdError",
    "ClientIdMismatch",
    "VerifierCertificateInvalid",
    "ResponseUriNotAllowed",
    "InvalidVerifierInfo",
    "InvalidAuthorizationResponse",
    "UnknownState",
    "ResponseReplayed",
    "ERROR_CLASSES",
]


class Oid4vpError(ProtocolError):
    code = "oid4vp.error"
    error = "invalid_request"
    status_code = 400


# --- the spec's codes (§8.5) ------------------------------------------------------------------


class InvalidRequest(Oid4vpError):
    """§8.5 ``invalid_request`` (RFC 6749 §4.1.2.1), including a violated Client Identifier Prefix requirement."""

    code = "oid4vp.invalid_request"
    error = "invalid_request"


class InvalidClient(Oid4vpError):
    """§8.5 ``invalid_client``: the wallet knows the client and its metadata otherwise, or does not know it."""

    code = "oid4vp.invalid_client"
    error = "invalid_client"


class AccessDenied(Oid4vpError):
    """§8.5 ``access_denied``: no matching credentials, or the End-User declined."""

    code = "oid4vp.access_denied"
    error = "access_denied"
    status_code = 403


class VpFormatsNotSupported(Oid4vpError):
    code = "oid4vp.vp_formats_not_supported"
    error = "vp_formats_not_supported"


class InvalidRequestUriMethod(Oid4vpError):
    """§8.5: ``request_uri_method`` is neither ``get`` nor ``post``."""

    code = "oid4vp.invalid_request_uri_method"
    error = "invalid_request_uri_method"


class InvalidTransactionData(Oid4vpError):
    """§8.5; Tsunagu supports no transaction data type, so any ``transaction_data`` gets this (§5.1)."""

    code = "oid4vp.invalid_transaction_data"
    error = "invalid_transaction_data"


class WalletUnavailable(Oid4vpError):
    code = "oid4vp.wallet_unavailable"
    error = "wallet_unavailable"
    status_code = 503


# --- finer invalid_request causes ----------------------------------------------------------------


class RequestObjectInvalid(InvalidRequest):
    """The Request Object is not a JWS we accept (``typ``, ``alg``, signature), or a parameter is wrong."""

    code = "oid4vp.request_object_invalid"


class ClientIdError(InvalidRequest):
    """A ``client_id`` without a supported Client Identifier Prefix (§5.9), or malformed for its prefix."""

    code = "oid4vp.client_id_invalid"


class ClientIdMismatch(InvalidRequest):
    """The ``client_id`` differs between URI and Request Object, or does not match the leaf certificate (§5.9.3)."""

    code = "oid4vp.client_id_mismatch"


class VerifierCertificateInvalid(InvalidRequest):
    """§5.9.3: the ``x5c`` chain does not validate to the trust registry's root."""

    code = "oid4vp.verifier_certificate_invalid"


class ResponseUriNotAllowed(InvalidRequest):
    """§5.9.3, §13.3.1: the ``response_uri`` is not one the authenticated verifier may use."""

    code = "oid4vp.response_uri_not_allowed"


class InvalidVerifierInfo(InvalidRequest):
    """§5.1 ``verifier_info`` malformed, or our purpose entry not bound to the request's ``client_id``."""

    code = "oid4vp.invalid_verifier_info"


class InvalidAuthorizationResponse(InvalidRequest):
    """A ``direct_post`` body (§8.2) that is not an Authorization Response or Error Response we accept."""

    code = "oid4vp.invalid_response"


class UnknownState(InvalidRequest):
    """§13.3.2: the ``state`` does not belong to a recent Authorization Request of this verifier."""

    code = "oid4vp.unknown_state"


class ResponseReplayed(InvalidRequest):
    """A second response for a request that already has one: each ``nonce`` is used once."""

    code = "oid4vp.response_replayed"


#: The spec's ``error`` strings and the class a received error response maps to.
ERROR_CLASSES: dict[str, type[Oid4vpError]] = {
    cls.error: cls
    for cls in (InvalidRequest, InvalidClient, AccessDenied, VpFormatsNotSupported, InvalidRequestUriMethod,
                InvalidTransactionData, WalletUnavailable)
}
