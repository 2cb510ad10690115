"""OpenID for Verifiable Presentations 1.0, both sides: the verifier builds and signs requests and
reads responses; the wallet verifies requests and builds responses. One module per spec concept:

- ``request``: the signed Request Object (§5), ``openid4vp://`` links, ``request_uri`` POST (§5.10);
- ``client_id``: Client Identifier Prefixes ``x509_san_dns`` and ``x509_hash`` (§5.9);
- ``verifier_info``: ``verifier_info`` (§5.1, §5.11) and Tsunagu's purpose statement format;
- ``response``: ``direct_post`` Authorization Responses and Error Responses (§8);
- ``errors``: the §8.5 error codes as exception classes.

DCQL itself (§6, §7) is ``tsunagu.dcql``; the verifier's certificate chain is ``tsunagu.x509``.
"""

from .client_id import (
    PREFIX_X509_HASH,
    PREFIX_X509_SAN_DNS,
    SUPPORTED_PREFIXES,
    ClientIdPrefix,
    client_id_for_certificate,
    parse_client_id,
)
from .errors import (
    ERROR_CLASSES,
    AccessDenied,
    ClientIdError,
    ClientIdMismatch,
    InvalidAuthorizationResponse,
    InvalidClient,
    InvalidRequest,
    InvalidRequestUriMethod,
    InvalidTransactionData,
    InvalidVerifierInfo,
    Oid4vpError,
    RequestObjectInvalid,
    ResponseReplayed,
    ResponseUriNotAllowed,
    UnknownState,
    VerifierCertificateInvalid,
    VpFormatsNotSupported,
    WalletUnavailable,
)
from .form import encode_form, parse_form
from .request import (
    AUD_SELF_ISSUED,
    DEFAULT_CLIENT_METADATA,
    MEDIA_TYPE_REQUEST_OBJECT,
    OPENID4VP_SCHEME,
    RESPONSE_MODE_DIRECT_POST,
    RESPONSE_TYPE_VP_TOKEN,
    TYP_REQUEST_OBJECT,
    AuthorizationRequest,
    AuthorizationRequestReference,
    RequestUriPost,
    VerifiedRequest,
    build_authorization_request_uri,
    build_request_uri_post,
    origin_of,
    parse_authorization_request_uri,
    parse_request_uri_post,
    request_object_claims,
    request_object_signing_input,
    sign_request_object,
    unverified_client_id,
    verify_request_object,
)
from .response import (
    AuthorizationErrorResponse,
    AuthorizationResponse,
    build_authorization_error_form,
    build_authorization_response_form,
    parse_authorization_response,
    response_endpoint_answer,
)
from .verifier_info import (
    VERIFIER_INFO_FORMAT_PURPOSE,
    PurposeStatement,
    VerifierInfo,
    format_retention,
    parse_purpose_statement,
    parse_retention,
    parse_verifier_info,
)

__all__ = [
    # client identifiers
    "PREFIX_X509_SAN_DNS", "PREFIX_X509_HASH", "SUPPORTED_PREFIXES", "ClientIdPrefix", "parse_client_id",
    "client_id_for_certificate",
    # errors
    "Oid4vpError", "InvalidRequest", "InvalidClient", "AccessDenied", "VpFormatsNotSupported",
    "InvalidRequestUriMethod", "InvalidTransactionData", "WalletUnavailable", "RequestObjectInvalid", "ClientIdError",
    "ClientIdMismatch", "VerifierCertificateInvalid", "ResponseUriNotAllowed", "InvalidVerifierInfo",
    "InvalidAuthorizationResponse", "UnknownState", "ResponseReplayed", "ERROR_CLASSES",
    # forms
    "parse_form", "encode_form",
    # request
    "TYP_REQUEST_OBJECT", "MEDIA_TYPE_REQUEST_OBJECT", "AUD_SELF_ISSUED", "RESPONSE_TYPE_VP_TOKEN",
    "RESPONSE_MODE_DIRECT_POST", "OPENID4VP_SCHEME", "DEFAULT_CLIENT_METADATA", "AuthorizationRequest",
    "VerifiedRequest", "AuthorizationRequestReference", "RequestUriPost", "request_object_claims",
    "request_object_signing_input", "sign_request_object", "build_authorization_request_uri",
    "parse_authorization_request_uri", "build_request_uri_post", "parse_request_uri_post", "verify_request_object",
    "unverified_client_id",
    "origin_of",
    # response
    "AuthorizationResponse", "AuthorizationErrorResponse", "parse_authorization_response",
    "build_authorization_response_form", "build_authorization_error_form", "response_endpoint_answer",
    # verifier_info
    "VERIFIER_INFO_FORMAT_PURPOSE", "VerifierInfo", "PurposeStatement", "parse_verifier_info",
    "parse_purpose_statement", "parse_retention", "format_retention",
]  # fmt: skip
