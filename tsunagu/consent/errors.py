"""The typed errors of tsunagu.consent: one class per failure, each with a unique dotted code."""

from __future__ import annotations

from ..errors import TsunaguError

__all__ = [
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
]


class ConsentError(TsunaguError):
    code = "consent.invalid"


class ConsentTransitionRefused(ConsentError):
    """A status change the lifecycle does not allow (``revoked`` → ``active``, ``expired`` → ``fulfilled`` ...)."""

    code = "consent.transition_refused"


class InvalidConsentData(ConsentError):
    """A receipt or message built with values the format does not allow (raised before anything is signed)."""

    code = "consent.invalid_data"


class ConsentTokenInvalid(ConsentError):
    """A consent token that is malformed, of another ``typ``, with a refused ``alg`` or a missing claim."""

    code = "consent.token_invalid"


class ConsentSignatureInvalid(ConsentTokenInvalid):
    code = "consent.invalid_signature"


class ConsentKeyNotFound(ConsentTokenInvalid):
    """No key of the signer's JWK Set matches the token's ``kid`` and ``alg``."""

    code = "consent.key_not_found"


class ConsentAudienceMismatch(ConsentTokenInvalid):
    code = "consent.aud_mismatch"


class ConsentIssuerMismatch(ConsentTokenInvalid):
    code = "consent.iss_mismatch"


class ConsentTokenExpired(ConsentTokenInvalid):
    code = "consent.token_expired"


class ConsentTokenNotYetValid(ConsentTokenInvalid):
    """``iat`` lies in the future beyond the allowed clock skew."""

    code = "consent.token_not_yet_valid"


class ConsentCertificateInvalid(ConsentTokenInvalid):
    """The verifier's ``x5c`` is missing or does not chain to the trust registry's root."""

    code = "consent.certificate_invalid"


class ConsentClientIdMismatch(ConsentTokenInvalid):
    """The ``client_id`` is not the expected one, or not the one the signing certificate authenticates."""

    code = "consent.client_id_mismatch"
