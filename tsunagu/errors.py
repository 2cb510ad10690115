"""The one error hierarchy of the Tsunagu core.

Every failure the core can report is a subclass of :class:`TsunaguError` with a stable,
dotted ``code`` (for logs, for tests, for the verifier's list of checks) and a plain-language
``reason`` that can be shown to a person. One class per check, so a verification decision can
say exactly which check failed and why.

Wire errors (OpenID4VCI, OpenID4VP) are :class:`ProtocolError` subclasses defined in the
protocol modules; they add the spec's ``error`` string and an HTTP status.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "TsunaguError",
    "ProtocolError",
    "EncodingError",
    # JOSE and keys
    "JoseError",
    "MalformedJws",
    "UnsupportedAlgorithm",
    "InvalidSignature",
    "UnexpectedTyp",
    "UnsupportedCriticalHeader",
    "JwkError",
    "InvalidJwk",
    "UnsupportedKeyType",
    # SD-JWT
    "SdJwtError",
    "MalformedSdJwt",
    "SdJwtTooLarge",
    "MalformedDisclosure",
    "DisclosureNotReferenced",
    "DuplicateDigest",
    "DuplicateDisclosure",
    "ReservedClaimName",
    "ClaimNameCollision",
    "DisclosureTypeMismatch",
    "UnsupportedHashAlgorithm",
    "IssuerSignatureInvalid",
    "ClaimNotFound",
    "ClaimNotDisclosable",
    "CredentialNotYetValid",
    "CredentialExpired",
    # Key Binding JWT
    "KbJwtError",
    "KbJwtMissing",
    "KbJwtMalformed",
    "KbHolderKeyMissing",
    "KbSignatureInvalid",
    "KbNonceMismatch",
    "KbAudienceMismatch",
    "KbSdHashMismatch",
    "KbIssuedAtOutOfWindow",
    # SD-JWT VC
    "SdJwtVcError",
    "VctMissing",
    "IssuerMissing",
    "IssuerMismatch",
    "ClaimMustNotBeDisclosable",
    "InvalidIssuerMetadata",
    "IssuerKeyNotFound",
    "InvalidStatusReference",
    # Token Status List
    "StatusListError",
    "MalformedStatusList",
    "StatusListTooLarge",
    "StatusIndexOutOfRange",
    "StatusListTokenInvalid",
    "StatusListTokenExpired",
    "StatusListSubjectMismatch",
    "StatusValueOutOfRange",
    "StatusListSignatureInvalid",
    # DCQL
    "DcqlError",
    "InvalidDcqlQuery",
    "DcqlNotSatisfied",
    "ClaimsPathNotFound",
    "InvalidVpToken",
]


class TsunaguError(Exception):
    """Base of every error the core raises.

    ``reason`` is a sentence a person can read; ``details`` carries machine-readable context
    (a claim path, an index, the expected and actual values) and never secret material.
    """

    code: ClassVar[str] = "tsunagu.error"

    def __init__(self, reason: str, **details: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.reason!r})"


class ProtocolError(TsunaguError):
    """An error with a wire representation: the spec's ``error`` code and an HTTP status."""

    code: ClassVar[str] = "protocol.error"
    error: ClassVar[str] = "invalid_request"
    status_code: ClassVar[int] = 400

    def headers(self) -> dict[str, str]:
        """Extra response headers the spec requires with this error (``WWW-Authenticate`` on a 401)."""
        return {}


class EncodingError(TsunaguError):
    """Text that is not strict base64url or strict JSON. Callers usually wrap it in a more specific error."""

    code = "encoding.invalid"


# --- JOSE (RFC 7515, RFC 7517, RFC 8725) -------------------------------------------------------


class JoseError(TsunaguError):
    code = "jose.invalid"


class MalformedJws(JoseError):
    code = "jose.malformed"


class UnsupportedAlgorithm(JoseError):
    """The ``alg`` is not on the allow-list (``none`` and HMAC never are), or does not fit the key."""

    code = "jose.unsupported_alg"


class InvalidSignature(JoseError):
    code = "jose.invalid_signature"


class UnexpectedTyp(JoseError):
    code = "jose.unexpected_typ"


class UnsupportedCriticalHeader(JoseError):
    """RFC 7515 §4.1.11: a ``crit`` extension the recipient does not understand must be rejected."""

    code = "jose.unsupported_crit"


class JwkError(TsunaguError):
    code = "jwk.error"


class InvalidJwk(JwkError):
    code = "jwk.invalid"


class UnsupportedKeyType(JwkError):
    code = "jwk.unsupported_kty"


# --- SD-JWT (RFC 9901) ---------------------------------------------------------------------


class SdJwtError(TsunaguError):
    code = "sd_jwt.invalid"


class MalformedSdJwt(SdJwtError):
    code = "sd_jwt.malformed"


class SdJwtTooLarge(SdJwtError):
    code = "sd_jwt.too_large"


class MalformedDisclosure(SdJwtError):
    code = "sd_jwt.malformed_disclosure"


class DisclosureNotReferenced(SdJwtError):
    """RFC 9901 §7.1: every disclosure must be referenced by a digest in the payload."""

    code = "sd_jwt.disclosure_not_referenced"


class DuplicateDigest(SdJwtError):
    """RFC 9901 §7.1: a digest may appear only once in the payload and all disclosures."""

    code = "sd_jwt.duplicate_digest"


class DuplicateDisclosure(SdJwtError):
    code = "sd_jwt.duplicate_disclosure"


class ReservedClaimName(SdJwtError):
    """RFC 9901 §7.1: a disclosure must not carry the claim names ``_sd`` or ``...``."""

    code = "sd_jwt.reserved_claim_name"


class ClaimNameCollision(SdJwtError):
    """RFC 9901 §7.1: a disclosed claim name must not already exist at its level."""

    code = "sd_jwt.claim_name_collision"


class DisclosureTypeMismatch(SdJwtError):
    """An object-property disclosure referenced from an array, or an array-element one from ``_sd``."""

    code = "sd_jwt.disclosure_type_mismatch"


class UnsupportedHashAlgorithm(SdJwtError):
    code = "sd_jwt.unsupported_sd_alg"


class IssuerSignatureInvalid(SdJwtError):
    code = "sd_jwt.issuer_signature_invalid"


class ClaimNotFound(SdJwtError):
    """The holder asked to disclose a claim path the credential does not contain."""

    code = "sd_jwt.claim_not_found"


class ClaimNotDisclosable(SdJwtError):
    """The issuer was asked to make a claim selectively disclosable that must stay in the clear."""

    code = "sd_jwt.claim_not_disclosable"


class CredentialNotYetValid(SdJwtError):
    """``nbf`` (or ``iat``) lies in the future beyond the allowed clock skew."""

    code = "sd_jwt.not_yet_valid"


class CredentialExpired(SdJwtError):
    code = "sd_jwt.expired"


# --- Key Binding JWT (RFC 9901 §4.3) -------------------------------------------------------


class KbJwtError(TsunaguError):
    code = "kb_jwt.invalid"


class KbJwtMissing(KbJwtError):
    code = "kb_jwt.missing"


class KbJwtMalformed(KbJwtError):
    code = "kb_jwt.malformed"


class KbHolderKeyMissing(KbJwtError):
    """Key binding was required but the credential names no holder key in ``cnf``."""

    code = "kb_jwt.holder_key_missing"


class KbSignatureInvalid(KbJwtError):
    code = "kb_jwt.invalid_signature"


class KbNonceMismatch(KbJwtError):
    code = "kb_jwt.nonce_mismatch"


class KbAudienceMismatch(KbJwtError):
    code = "kb_jwt.aud_mismatch"


class KbSdHashMismatch(KbJwtError):
    code = "kb_jwt.sd_hash_mismatch"


class KbIssuedAtOutOfWindow(KbJwtError):
    code = "kb_jwt.iat_out_of_window"


# --- SD-JWT VC (draft-ietf-oauth-sd-jwt-vc) ------------------------------------------------


class SdJwtVcError(TsunaguError):
    code = "sd_jwt_vc.invalid"


class VctMissing(SdJwtVcError):
    code = "sd_jwt_vc.vct_missing"


class IssuerMissing(SdJwtVcError):
    code = "sd_jwt_vc.iss_missing"


class IssuerMismatch(SdJwtVcError):
    code = "sd_jwt_vc.iss_mismatch"


class ClaimMustNotBeDisclosable(SdJwtVcError):
    """A claim the SD-JWT VC spec requires in the clear (``iss``, ``vct``, ``cnf``, ...) was disclosed."""

    code = "sd_jwt_vc.claim_must_not_be_disclosable"


class InvalidIssuerMetadata(SdJwtVcError):
    code = "sd_jwt_vc.invalid_issuer_metadata"


class IssuerKeyNotFound(SdJwtVcError):
    code = "sd_jwt_vc.issuer_key_not_found"


class InvalidStatusReference(SdJwtVcError):
    code = "sd_jwt_vc.invalid_status"


# --- Token Status List (draft-ietf-oauth-status-list) --------------------------------------


class StatusListError(TsunaguError):
    code = "status_list.invalid"


class MalformedStatusList(StatusListError):
    code = "status_list.malformed"


class StatusListTooLarge(StatusListError):
    code = "status_list.too_large"


class StatusIndexOutOfRange(StatusListError):
    code = "status_list.index_out_of_range"


class StatusListTokenInvalid(StatusListError):
    code = "status_list.token_invalid"


class StatusListTokenExpired(StatusListError):
    code = "status_list.token_expired"


class StatusListSubjectMismatch(StatusListError):
    code = "status_list.sub_mismatch"


class StatusValueOutOfRange(StatusListError):
    """A status value that does not fit in the list's ``bits`` (or is not an integer)."""

    code = "status_list.value_out_of_range"


class StatusListSignatureInvalid(StatusListTokenInvalid):
    code = "status_list.invalid_signature"


# --- DCQL (OpenID4VP 1.0 §6) ---------------------------------------------------------------


class DcqlError(TsunaguError):
    code = "dcql.invalid"


class InvalidDcqlQuery(DcqlError):
    code = "dcql.invalid_query"


class DcqlNotSatisfied(DcqlError):
    code = "dcql.not_satisfied"


class ClaimsPathNotFound(DcqlError):
    """OpenID4VP 1.0 §7.1.1: processing a claims path pointer selected nothing, or hit a wrong type."""

    code = "dcql.claims_path_not_found"


class InvalidVpToken(DcqlError):
    """OpenID4VP 1.0 §8.1: a ``vp_token`` that is not an object of non-empty arrays of presentations."""

    code = "dcql.invalid_vp_token"
