"""OpenID for Verifiable Credential Issuance 1.0: the messages of both sides, as pure functions.

The issuer service builds metadata, offers, token and credential responses with these types and
parses what wallets send; the wallet builds requests and key proofs and parses what issuers
answer. Nothing here does I/O or reads a clock: documents arrive as parsed JSON or bytes, time as
``now``. Errors are :class:`~tsunagu.errors.ProtocolError` subclasses named for the spec's codes.

A wallet's flow, in the order of the spec (section numbers of the final 1.0 text):

1. :func:`parse_credential_offer_uri` (§4.1) → an offer, or a ``credential_offer_uri`` to GET and
   read with :func:`parse_credential_offer_json`;
2. GET :func:`credential_issuer_metadata_url` → :func:`parse_credential_issuer_metadata` (§12.2),
   GET :func:`authorization_server_metadata_url` → :func:`parse_authorization_server_metadata`;
3. POST :func:`build_token_request` (form) to ``token_endpoint`` → :func:`parse_token_response` (§6);
4. POST to ``nonce_endpoint`` → :func:`parse_nonce_response` (§7);
5. one fresh key per credential, :func:`build_proof_jwt` for each (Appendix F.1), POST
   :func:`build_credential_request` to ``credential_endpoint`` → :func:`parse_credential_response` (§8);
6. POST :func:`build_notification_request` to ``notification_endpoint`` (§11).

Any error answer becomes a typed error with :func:`error_from_response`.
"""

from .credential import (
    PROOF_TYPE_JWT,
    CredentialRequest,
    CredentialResponse,
    NotificationEvent,
    NotificationRequest,
    build_credential_request,
    build_notification_request,
    parse_credential_request,
    parse_credential_response,
    parse_notification_request,
)
from .errors import *  # noqa: F403 - the error classes are part of this package's API
from .errors import __all__ as _error_names
from .identifiers import (
    CREDENTIAL_ISSUER_WELL_KNOWN,
    OAUTH_AUTHORIZATION_SERVER_WELL_KNOWN,
    authorization_server_metadata_url,
    credential_issuer_metadata_url,
    is_loopback_host,
    well_known_url,
)
from .metadata import (
    FORMAT_DC_SD_JWT,
    AuthorizationServerMetadata,
    ClaimDescription,
    ClaimDisplay,
    CredentialConfiguration,
    CredentialIssuerMetadata,
    Display,
    parse_authorization_server_metadata,
    parse_credential_issuer_metadata,
)
from .offer import (
    AUTHORIZATION_CODE_GRANT,
    CREDENTIAL_OFFER_SCHEME,
    PRE_AUTHORIZED_CODE_GRANT,
    AuthorizationCodeGrant,
    CredentialOffer,
    CredentialOfferReference,
    PreAuthorizedCodeGrant,
    TxCode,
    build_credential_offer_uri,
    parse_credential_offer,
    parse_credential_offer_json,
    parse_credential_offer_uri,
)
from .proof import (
    TYP_OPENID4VCI_PROOF_JWT,
    ProofExpectation,
    VerifiedProof,
    build_proof_jwt,
    verify_proof_jwt,
)
from .token import (
    NonceResponse,
    TokenRequest,
    TokenResponse,
    build_token_request,
    parse_nonce_response,
    parse_token_request,
    parse_token_response,
)

__all__ = [
    *_error_names,
    # offers
    "PRE_AUTHORIZED_CODE_GRANT",
    "AUTHORIZATION_CODE_GRANT",
    "CREDENTIAL_OFFER_SCHEME",
    "TxCode",
    "PreAuthorizedCodeGrant",
    "AuthorizationCodeGrant",
    "CredentialOffer",
    "CredentialOfferReference",
    "parse_credential_offer",
    "parse_credential_offer_json",
    "build_credential_offer_uri",
    "parse_credential_offer_uri",
    # identifiers and metadata
    "CREDENTIAL_ISSUER_WELL_KNOWN",
    "OAUTH_AUTHORIZATION_SERVER_WELL_KNOWN",
    "is_loopback_host",
    "well_known_url",
    "credential_issuer_metadata_url",
    "authorization_server_metadata_url",
    "FORMAT_DC_SD_JWT",
    "Display",
    "ClaimDisplay",
    "ClaimDescription",
    "CredentialConfiguration",
    "CredentialIssuerMetadata",
    "AuthorizationServerMetadata",
    "parse_credential_issuer_metadata",
    "parse_authorization_server_metadata",
    # token and nonce
    "TokenRequest",
    "TokenResponse",
    "NonceResponse",
    "parse_token_request",
    "build_token_request",
    "parse_token_response",
    "parse_nonce_response",
    # credential and notification
    "PROOF_TYPE_JWT",
    "CredentialRequest",
    "CredentialResponse",
    "NotificationEvent",
    "NotificationRequest",
    "parse_credential_request",
    "build_credential_request",
    "parse_credential_response",
    "parse_notification_request",
    "build_notification_request",
    # key proofs
    "TYP_OPENID4VCI_PROOF_JWT",
    "ProofExpectation",
    "VerifiedProof",
    "build_proof_jwt",
    "verify_proof_jwt",
]
