"""Credential Offers (OpenID4VCI 1.0 §4.1): the issuer's invitation to a wallet.

An offer names the Credential Issuer, the Credential Configurations it offers and the grants
its authorization server will accept; Tsunagu's issuers use the Pre-Authorized Code grant,
optionally guarded by a Transaction Code delivered out of band. The offer travels in a URI,
by value (``credential_offer``) or by reference (``credential_offer_uri``, fetched with GET and
answered as ``application/json``, §4.1.3).

Both sides use this module: the issuer builds the offer and its URI, the wallet parses them.
The offer is not authenticated (§13.5): a wallet treats every value in it as untrusted and runs
every protocol check as if it had started the flow itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import parse_qs, quote, urlsplit

from ..encoding import json_dumps, json_loads
from ..errors import EncodingError
from .errors import InvalidCredentialOffer
from .identifiers import check_identifier, check_url

__all__ = [
    "PRE_AUTHORIZED_CODE_GRANT",
    "AUTHORIZATION_CODE_GRANT",
    "CREDENTIAL_OFFER_SCHEME",
    "MAX_TX_CODE_DESCRIPTION",
    "TxCode",
    "PreAuthorizedCodeGrant",
    "AuthorizationCodeGrant",
    "CredentialOffer",
    "CredentialOfferReference",
    "parse_credential_offer",
    "parse_credential_offer_json",
    "build_credential_offer_uri",
    "parse_credential_offer_uri",
]

PRE_AUTHORIZED_CODE_GRANT: Final = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
AUTHORIZATION_CODE_GRANT: Final = "authorization_code"
#: §12.1.1: the custom scheme used when the wallet's Credential Offer Endpoint is not known.
CREDENTIAL_OFFER_SCHEME: Final = "openid-credential-offer://"
#: §4.1.1: "The length of the string MUST NOT exceed 300 characters."
MAX_TX_CODE_DESCRIPTION: Final = 300
#: An offer URI larger than this is refused before decoding (a QR code holds under 3 KiB).
MAX_OFFER_URI_BYTES: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class TxCode:
    """§4.1.1 ``tx_code``: that a Transaction Code is required, and how the wallet should ask for it."""

    input_mode: Literal["numeric", "text"] = "numeric"
    length: int | None = None
    description: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"input_mode": self.input_mode}
        if self.length is not None:
            out["length"] = self.length
        if self.description is not None:
            out["description"] = self.description
        return out


@dataclass(frozen=True, slots=True)
class PreAuthorizedCodeGrant:
    """§4.1.1: the grant ``urn:ietf:params:oauth:grant-type:pre-authorized_code``."""

    pre_authorized_code: str
    #: ``None``: no Transaction Code is expected (the default).
    tx_code: TxCode | None = None
    authorization_server: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pre-authorized_code": self.pre_authorized_code}
        if self.tx_code is not None:
            out["tx_code"] = self.tx_code.to_json()
        if self.authorization_server is not None:
            out["authorization_server"] = self.authorization_server
        return out


@dataclass(frozen=True, slots=True)
class AuthorizationCodeGrant:
    """§4.1.1: the grant ``authorization_code`` (parsed for completeness; Tsunagu issuers do not offer it)."""

    issuer_state: str | None = None
    authorization_server: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.issuer_state is not None:
            out["issuer_state"] = self.issuer_state
        if self.authorization_server is not None:
            out["authorization_server"] = self.authorization_server
        return out


@dataclass(frozen=True, slots=True)
class CredentialOffer:
    """§4.1.1: a Credential Offer object."""

    credential_issuer: str
    credential_configuration_ids: tuple[str, ...]
    pre_authorized_code: PreAuthorizedCodeGrant | None = None
    authorization_code: AuthorizationCodeGrant | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "credential_issuer": self.credential_issuer,
            "credential_configuration_ids": list(self.credential_configuration_ids),
        }
        grants: dict[str, Any] = {}
        if self.authorization_code is not None:
            grants[AUTHORIZATION_CODE_GRANT] = self.authorization_code.to_json()
        if self.pre_authorized_code is not None:
            grants[PRE_AUTHORIZED_CODE_GRANT] = self.pre_authorized_code.to_json()
        if grants:
            out["grants"] = grants
        return out


@dataclass(frozen=True, slots=True)
class CredentialOfferReference:
    """What an offer URI carries: the offer itself, or the https URL to GET it from (exactly one)."""

    offer: CredentialOffer | None = None
    offer_uri: str | None = None


def parse_credential_offer(obj: object, *, allow_http_loopback: bool = False) -> CredentialOffer:
    """Validate a Credential Offer object (§4.1.1); unknown parameters and grant types are ignored.

    Raises:
        InvalidCredentialOffer: a required parameter missing or of the wrong type, an issuer that is
            not an https URL, duplicate configuration ids, or a malformed grant.
    """
    if not isinstance(obj, Mapping):
        raise InvalidCredentialOffer("a credential offer is a JSON object")
    issuer = check_identifier(
        obj.get("credential_issuer"),
        what="the offer's credential_issuer",
        error=InvalidCredentialOffer,
        allow_http_loopback=allow_http_loopback,
    )
    ids = obj.get("credential_configuration_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise InvalidCredentialOffer("credential_configuration_ids must be a non-empty array of strings")
    if len(set(ids)) != len(ids):
        raise InvalidCredentialOffer("credential_configuration_ids must not repeat an id")
    grants = obj.get("grants", {})
    if not isinstance(grants, Mapping):
        raise InvalidCredentialOffer("grants must be a JSON object")
    pre = grants.get(PRE_AUTHORIZED_CODE_GRANT)
    code = grants.get(AUTHORIZATION_CODE_GRANT)
    return CredentialOffer(
        credential_issuer=issuer,
        credential_configuration_ids=tuple(ids),
        pre_authorized_code=_parse_pre_authorized(pre) if pre is not None else None,
        authorization_code=_parse_authorization_code(code) if code is not None else None,
    )


def parse_credential_offer_json(body: bytes | str, *, allow_http_loopback: bool = False) -> CredentialOffer:
    """The offer a ``credential_offer_uri`` answered with (§4.1.3, ``application/json``).

    Raises:
        InvalidCredentialOffer: not strict JSON, or not a valid offer.
    """
    try:
        document = json_loads(body)
    except EncodingError as exc:
        raise InvalidCredentialOffer(f"the credential offer is not JSON: {exc.reason}") from None
    return parse_credential_offer(document, allow_http_loopback=allow_http_loopback)


def _parse_pre_authorized(grant: object) -> PreAuthorizedCodeGrant:
    if not isinstance(grant, Mapping):
        raise InvalidCredentialOffer("the pre-authorized_code grant must be a JSON object")
    code = grant.get("pre-authorized_code")
    if not isinstance(code, str) or not code:
        raise InvalidCredentialOffer("the pre-authorized_code grant lacks a string 'pre-authorized_code'")
    tx_code = grant.get("tx_code")
    server = grant.get("authorization_server")
    if server is not None and not isinstance(server, str):
        raise InvalidCredentialOffer("authorization_server must be a string")
    return PreAuthorizedCodeGrant(
        pre_authorized_code=code,
        tx_code=_parse_tx_code(tx_code) if tx_code is not None else None,
        authorization_server=server,
    )


def _parse_tx_code(tx_code: object) -> TxCode:
    # An empty object still means "a Transaction Code is required" (§4.1.1).
    if not isinstance(tx_code, Mapping):
        raise InvalidCredentialOffer("tx_code must be a JSON object")
    mode = tx_code.get("input_mode", "numeric")
    if mode not in ("numeric", "text"):
        raise InvalidCredentialOffer("tx_code.input_mode must be 'numeric' or 'text'")
    length = tx_code.get("length")
    if length is not None and (not isinstance(length, int) or isinstance(length, bool) or length < 1):
        raise InvalidCredentialOffer("tx_code.length must be a positive integer")
    description = tx_code.get("description")
    if description is not None:
        if not isinstance(description, str):
            raise InvalidCredentialOffer("tx_code.description must be a string")
        if len(description) > MAX_TX_CODE_DESCRIPTION:
            raise InvalidCredentialOffer(f"tx_code.description must not exceed {MAX_TX_CODE_DESCRIPTION} characters")
    return TxCode(input_mode=mode, length=length, description=description)


def _parse_authorization_code(grant: object) -> AuthorizationCodeGrant:
    if not isinstance(grant, Mapping):
        raise InvalidCredentialOffer("the authorization_code grant must be a JSON object")
    state = grant.get("issuer_state")
    server = grant.get("authorization_server")
    if state is not None and not isinstance(state, str):
        raise InvalidCredentialOffer("issuer_state must be a string")
    if server is not None and not isinstance(server, str):
        raise InvalidCredentialOffer("authorization_server must be a string")
    return AuthorizationCodeGrant(issuer_state=state, authorization_server=server)


def build_credential_offer_uri(
    offer: CredentialOffer | None = None,
    *,
    offer_uri: str | None = None,
    endpoint: str = CREDENTIAL_OFFER_SCHEME,
) -> str:
    """The URI a wallet is invoked with (§4.1.2, §4.1.3): exactly one of ``offer`` and ``offer_uri``.

    ``endpoint`` is the wallet's Credential Offer Endpoint, ``openid-credential-offer://`` when unknown.
    """
    if (offer is None) == (offer_uri is None):
        raise ValueError("give exactly one of offer and offer_uri")
    if offer is not None:
        return f"{endpoint}?credential_offer={quote(json_dumps(offer.to_json()), safe='')}"
    assert offer_uri is not None
    return f"{endpoint}?credential_offer_uri={quote(offer_uri, safe='')}"


def parse_credential_offer_uri(uri: str, *, allow_http_loopback: bool = False) -> CredentialOfferReference:
    """Read an offer URI (``openid-credential-offer://?...`` or a wallet's https offer endpoint).

    The ``credential_offer_uri`` is only checked here (https, or http on loopback when allowed);
    fetching it is the caller's job, with a size bound, and :func:`parse_credential_offer_json`.

    Raises:
        InvalidCredentialOffer: neither or both parameters, a repeated parameter, or an invalid value.
    """
    if not isinstance(uri, str) or len(uri) > MAX_OFFER_URI_BYTES:
        raise InvalidCredentialOffer("the credential offer URI is not a string of reasonable size")
    try:
        query = urlsplit(uri.strip()).query
        params = parse_qs(query, keep_blank_values=True, strict_parsing=False, errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise InvalidCredentialOffer("the credential offer URI is not a valid URI") from None
    by_value = params.get("credential_offer")
    by_reference = params.get("credential_offer_uri")
    if (by_value is None) == (by_reference is None):
        raise InvalidCredentialOffer(
            "a credential offer URI carries exactly one of credential_offer and credential_offer_uri"
        )
    values = by_value if by_value is not None else by_reference
    assert values is not None
    if len(values) != 1:
        raise InvalidCredentialOffer("the credential offer parameter appears more than once")
    if by_value is not None:
        try:
            document = json_loads(values[0])
        except EncodingError as exc:
            raise InvalidCredentialOffer(f"credential_offer is not JSON: {exc.reason}") from None
        return CredentialOfferReference(offer=parse_credential_offer(document, allow_http_loopback=allow_http_loopback))
    offer_uri = check_url(
        values[0],
        what="credential_offer_uri",
        error=InvalidCredentialOffer,
        allow_http_loopback=allow_http_loopback,
    )
    return CredentialOfferReference(offer_uri=offer_uri)
