"""Tsunagu core: SD-JWT, SD-JWT VC, key binding, status lists and DCQL as pure functions.

The names below are the supported public API; everything else is reachable through the
modules (``tsunagu.sd_jwt.verifier``, ``tsunagu.status_list``, ...) and may change. No I/O and no
clock: time, randomness and keys come from the caller. See docs/core.md.
"""

from importlib.metadata import PackageNotFoundError, version

from . import errors
from .claims_path import ClaimsPath, format_claims_path, parse_claims_path
from .dcql import (
    DcqlMatchResult,
    DcqlQuery,
    HeldCredential,
    PresentedCredential,
    check_vp_token,
    match_query,
    parse_dcql_query,
    parse_vp_token,
    requested_claims,
)
from .errors import ProtocolError, TsunaguError
from .jwk import PrivateJwk, PublicJwk, generate_key, jwk_thumbprint, parse_jwk, parse_jwks, parse_public_jwk
from .kb_jwt import TYP_KB_JWT, KbExpectation, KeyBinding, KeyBindingRequest
from .sd_jwt.compact import SdJwt, parse_sd_jwt
from .sd_jwt.disclosure import Disclosure
from .sd_jwt.holder import DecodedSdJwt, decode_sd_jwt, present_sd_jwt, select_disclosures
from .sd_jwt.issuer import IssuedSdJwt, PreparedSdJwt, assemble_sd_jwt, issue_sd_jwt, prepare_sd_jwt
from .sd_jwt.verifier import IssuerKeyResolver, VerifiedSdJwt, VerifyPolicy, verify_sd_jwt
from .sd_jwt_vc import (
    TYP_DC_SD_JWT,
    IssuerMetadata,
    VerifiedCredential,
    all_claim_paths,
    issue_sd_jwt_vc,
    issuer_key_resolver,
    jwt_vc_issuer_metadata_url,
    parse_issuer_metadata,
    verify_sd_jwt_vc,
)
from .status_list import (
    INVALID,
    MEDIA_TYPE_STATUSLIST_JWT,
    SUSPENDED,
    TYP_STATUSLIST_JWT,
    VALID,
    StatusList,
    StatusListToken,
    StatusReference,
    decode_status_list,
    encode_status_list,
    issue_status_list_token,
    parse_status_claim,
    verify_status_list_token,
)

try:
    __version__ = version("tsunagu")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "__version__",
    "errors",
    "TsunaguError",
    "ProtocolError",
    # keys
    "PrivateJwk",
    "PublicJwk",
    "generate_key",
    "parse_jwk",
    "parse_public_jwk",
    "parse_jwks",
    "jwk_thumbprint",
    # claims paths
    "ClaimsPath",
    "parse_claims_path",
    "format_claims_path",
    # SD-JWT
    "SdJwt",
    "parse_sd_jwt",
    "Disclosure",
    "PreparedSdJwt",
    "IssuedSdJwt",
    "prepare_sd_jwt",
    "assemble_sd_jwt",
    "issue_sd_jwt",
    "DecodedSdJwt",
    "decode_sd_jwt",
    "select_disclosures",
    "present_sd_jwt",
    "IssuerKeyResolver",
    "VerifyPolicy",
    "VerifiedSdJwt",
    "verify_sd_jwt",
    # key binding
    "TYP_KB_JWT",
    "KbExpectation",
    "KeyBindingRequest",
    "KeyBinding",
    # SD-JWT VC
    "TYP_DC_SD_JWT",
    "VerifiedCredential",
    "IssuerMetadata",
    "issue_sd_jwt_vc",
    "verify_sd_jwt_vc",
    "all_claim_paths",
    "jwt_vc_issuer_metadata_url",
    "parse_issuer_metadata",
    "issuer_key_resolver",
    # Token Status List
    "TYP_STATUSLIST_JWT",
    "MEDIA_TYPE_STATUSLIST_JWT",
    "VALID",
    "INVALID",
    "SUSPENDED",
    "StatusList",
    "StatusListToken",
    "StatusReference",
    "encode_status_list",
    "decode_status_list",
    "parse_status_claim",
    "issue_status_list_token",
    "verify_status_list_token",
    # DCQL
    "DcqlQuery",
    "DcqlMatchResult",
    "HeldCredential",
    "PresentedCredential",
    "parse_dcql_query",
    "match_query",
    "requested_claims",
    "parse_vp_token",
    "check_vp_token",
]
