"""Token Endpoint and Nonce Endpoint messages (OpenID4VCI 1.0 §6, §7).

The Token Request is an OAuth 2.0 form (RFC 6749 §4.1.3, ``application/x-www-form-urlencoded``)
with the Pre-Authorized Code extension parameters of §6.1; the Token Response is RFC 6749 §5.1
JSON, with ``token_type`` ``DPoP`` when the token is bound to a DPoP key (RFC 9449 §5). The
Nonce Endpoint answers ``{"c_nonce": ...}`` with ``Cache-Control: no-store`` (§7.2); since 1.0
it is the only source of ``c_nonce``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal

from .errors import InvalidNonceResponse, InvalidRequest, InvalidTokenResponse, UnsupportedGrantType
from .offer import PRE_AUTHORIZED_CODE_GRANT

__all__ = [
    "TokenRequest",
    "TokenResponse",
    "NonceResponse",
    "parse_token_request",
    "build_token_request",
    "parse_token_response",
    "parse_nonce_response",
]

#: A Transaction Code longer than this is refused without a lookup (the offer says how long it is).
MAX_TX_CODE_LENGTH: Final = 64
#: Pre-Authorized Codes we issue are 43 characters; anything much longer is not ours.
MAX_CODE_LENGTH: Final = 512


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """§6.1: a Pre-Authorized Code Token Request; unrecognised parameters are not kept."""

    pre_authorized_code: str
    tx_code: str | None = None
    client_id: str | None = None
    grant_type: str = PRE_AUTHORIZED_CODE_GRANT

    def to_form(self) -> dict[str, str]:
        form = {"grant_type": self.grant_type, "pre-authorized_code": self.pre_authorized_code}
        if self.tx_code is not None:
            form["tx_code"] = self.tx_code
        if self.client_id is not None:
            form["client_id"] = self.client_id
        return form


def build_token_request(pre_authorized_code: str, *, tx_code: str | None = None, client_id: str | None = None) -> dict[str, str]:
    """The form fields of a Pre-Authorized Code Token Request (§6.1), ready to POST."""
    return TokenRequest(pre_authorized_code=pre_authorized_code, tx_code=tx_code, client_id=client_id).to_form()


def parse_token_request(form: Mapping[str, str | Sequence[str]]) -> TokenRequest:
    """Read a Token Request's form fields (§6.1); values may be strings or lists of repeated values.

    "The Authorization Server MUST ignore any unrecognized parameters" (§6.1), but RFC 6749 §3.2
    forbids repeating a parameter: a repeated known parameter is ``invalid_request``.

    Raises:
        InvalidRequest: ``grant_type`` or ``pre-authorized_code`` missing, a parameter repeated or empty.
        UnsupportedGrantType: any grant type but the Pre-Authorized Code grant.
    """

    def single(name: str) -> str | None:
        value = form.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            if len(value) != 1:
                raise InvalidRequest(f"the parameter {name} must not be repeated")
            value = value[0]
        return value

    grant_type = single("grant_type")
    if not grant_type:
        raise InvalidRequest("the token request has no grant_type")
    if grant_type != PRE_AUTHORIZED_CODE_GRANT:
        raise UnsupportedGrantType("this authorization server only accepts the pre-authorized code grant")
    code = single("pre-authorized_code")
    if not code:
        raise InvalidRequest("the token request has no pre-authorized_code")
    if len(code) > MAX_CODE_LENGTH:
        raise InvalidRequest("the pre-authorized_code is too long to be one this server issued")
    tx_code = single("tx_code")
    if tx_code is not None and (not tx_code or len(tx_code) > MAX_TX_CODE_LENGTH):
        raise InvalidRequest("the tx_code is empty or too long")
    client_id = single("client_id")
    return TokenRequest(pre_authorized_code=code, tx_code=tx_code, client_id=client_id or None)


@dataclass(frozen=True, slots=True)
class TokenResponse:
    """RFC 6749 §5.1 (with §6.2's ``authorization_details``); ``token_type`` ``DPoP`` per RFC 9449 §5."""

    access_token: str
    token_type: Literal["Bearer", "DPoP"]
    expires_in: int | None = None
    refresh_token: str | None = None
    authorization_details: tuple[Mapping[str, Any], ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"access_token": self.access_token, "token_type": self.token_type}
        if self.expires_in is not None:
            out["expires_in"] = self.expires_in
        if self.refresh_token is not None:
            out["refresh_token"] = self.refresh_token
        if self.authorization_details:
            out["authorization_details"] = [dict(d) for d in self.authorization_details]
        return out

    @property
    def credential_identifiers(self) -> dict[str, tuple[str, ...]]:
        """§6.2: ``credential_configuration_id`` → the ``credential_identifiers`` to request with."""
        out: dict[str, tuple[str, ...]] = {}
        for detail in self.authorization_details:
            config_id, ids = detail.get("credential_configuration_id"), detail.get("credential_identifiers")
            if detail.get("type") == "openid_credential" and isinstance(config_id, str) and isinstance(ids, list):
                out[config_id] = tuple(i for i in ids if isinstance(i, str))
        return out


def parse_token_response(obj: object) -> TokenResponse:
    """Read a successful Token Response; unknown parameters are ignored (§6.2).

    ``token_type`` is compared case-insensitively (RFC 6749 §5.1) and normalised.

    Raises:
        InvalidTokenResponse: no string ``access_token``, a ``token_type`` other than Bearer or DPoP,
            or a malformed ``expires_in`` / ``authorization_details``.
    """
    if not isinstance(obj, Mapping):
        raise InvalidTokenResponse("the token response is not a JSON object")
    token = obj.get("access_token")
    if not isinstance(token, str) or not token:
        raise InvalidTokenResponse("the token response has no access_token")
    token_type = obj.get("token_type")
    normalised: Literal["Bearer", "DPoP"]
    if isinstance(token_type, str) and token_type.lower() == "bearer":
        normalised = "Bearer"
    elif isinstance(token_type, str) and token_type.lower() == "dpop":
        normalised = "DPoP"
    else:
        raise InvalidTokenResponse("the token response's token_type is neither Bearer nor DPoP")
    expires_in = obj.get("expires_in")
    if expires_in is not None and (not isinstance(expires_in, int) or isinstance(expires_in, bool) or expires_in < 0):
        raise InvalidTokenResponse("expires_in must be a non-negative integer")
    refresh = obj.get("refresh_token")
    details = obj.get("authorization_details", [])
    if not isinstance(details, list) or not all(isinstance(d, Mapping) for d in details):
        raise InvalidTokenResponse("authorization_details must be an array of objects")
    return TokenResponse(
        access_token=token,
        token_type=normalised,
        expires_in=expires_in,
        refresh_token=refresh if isinstance(refresh, str) else None,
        authorization_details=tuple(MappingProxyType(dict(d)) for d in details),
        raw=MappingProxyType(dict(obj)),
    )


@dataclass(frozen=True, slots=True)
class NonceResponse:
    """§7.2: a fresh, unpredictable ``c_nonce``."""

    c_nonce: str

    def to_json(self) -> dict[str, str]:
        return {"c_nonce": self.c_nonce}


def parse_nonce_response(obj: object) -> NonceResponse:
    """Raises: InvalidNonceResponse: no non-empty string ``c_nonce``."""
    nonce = obj.get("c_nonce") if isinstance(obj, Mapping) else None
    if not isinstance(nonce, str) or not nonce:
        raise InvalidNonceResponse("the nonce response has no c_nonce")
    return NonceResponse(c_nonce=nonce)
