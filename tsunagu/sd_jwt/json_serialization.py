"""The JWS JSON Serialization of SD-JWT (RFC 9901 §8), flattened (§8.2) and general (§8.3).

The disclosures travel in the unprotected header member ``disclosures`` and the KB-JWT in
``kb_jwt``. Everything else about an SD-JWT is defined on its compact form, so this module only
converts: :meth:`SdJwtJson.to_compact` rebuilds ``<protected>.<payload>.<signature>~<D1>~...~``
(§8.1), which is what the verifier checks and what ``sd_hash`` covers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ..encoding import b64url_decode, json_loads
from ..errors import EncodingError, MalformedSdJwt, SdJwtTooLarge
from .compact import DEFAULT_MAX_DISCLOSURES, DEFAULT_MAX_SD_JWT_BYTES, SdJwt

__all__ = [
    "DEFAULT_MAX_SIGNATURES",
    "JwsJsonSignature",
    "SdJwtJson",
    "parse_sd_jwt_json",
    "serialize_sd_jwt_json",
]

#: More signatures than this in a general serialization are refused: each costs a verification.
DEFAULT_MAX_SIGNATURES: Final = 8

#: The unprotected header members RFC 9901 §8.1 defines.
_SD_JWT_MEMBERS: Final = ("disclosures", "kb_jwt")
_B64URL: Final = re.compile(r"[A-Za-z0-9_-]+")
_COMPACT_JWS: Final = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class JwsJsonSignature:
    """One entry of ``signatures`` (or the flattened top level): RFC 7515 §7.2.1."""

    protected_b64: str
    #: The unprotected header without ``disclosures`` and ``kb_jwt`` (those are on :class:`SdJwtJson`).
    header: Mapping[str, Any]
    signature_b64: str


@dataclass(frozen=True, slots=True)
class SdJwtJson:
    """An SD-JWT or SD-JWT+KB in the JWS JSON Serialization; nothing in it has been verified."""

    payload_b64: str
    signatures: tuple[JwsJsonSignature, ...]
    disclosures: tuple[str, ...]
    kb_jwt: str | None = None
    #: Whether it came as the general serialization (``signatures`` array) rather than flattened.
    general: bool = False

    def to_compact(self, signature_index: int = 0) -> SdJwt:
        """The equivalent compact SD-JWT for one signature (RFC 9901 §8.1).

        The KB-JWT's ``sd_hash`` covers the form of the *first* signature (index 0): that is
        what the §8.3 example signs. With ``signature_index > 0`` the KB-JWT is carried along
        but will not match that form's ``sd_hash``.

        Raises:
            IndexError: no signature at ``signature_index``.
        """
        signature = self.signatures[signature_index]
        return SdJwt(
            issuer_jwt=f"{signature.protected_b64}.{self.payload_b64}.{signature.signature_b64}",
            disclosures=self.disclosures,
            kb_jwt=self.kb_jwt,
        )


def parse_sd_jwt_json(
    obj: Mapping[str, Any] | str,
    *,
    max_bytes: int = DEFAULT_MAX_SD_JWT_BYTES,
    max_disclosures: int = DEFAULT_MAX_DISCLOSURES,
    max_signatures: int = DEFAULT_MAX_SIGNATURES,
) -> SdJwtJson:
    """Read the JWS JSON Serialization of an SD-JWT (RFC 9901 §8, RFC 7515 §7.2).

    Other top-level and unprotected header members are ignored, as RFC 7515 §7.2.1 requires,
    except ``disclosures`` and ``kb_jwt`` at the top level: that is the layout of drafts before
    -09, and ignoring it would silently drop the disclosures.

    Raises:
        MalformedSdJwt: not a JSON object; ``payload`` missing; both or neither of ``signatures``
            and the flattened members; a signature without ``protected`` or ``signature``, or whose
            protected header is not a JSON object with ``alg``; protected and unprotected header
            not disjoint (RFC 7515 §7.2.1); ``crit`` unprotected (§4.1.11); ``disclosures`` not an
            array of strings or ``kb_jwt`` not a JWS, or either outside the first unprotected
            header (RFC 9901 §8.3); a member that is not base64url.
        SdJwtTooLarge: over ``max_bytes``, ``max_disclosures`` or ``max_signatures``.
    """
    document = _load(obj, max_bytes)
    payload_b64 = _b64url_member(document, "payload", "the JWS JSON object")
    for name in _SD_JWT_MEMBERS:
        if name in document:
            raise MalformedSdJwt(
                f"{name!r} belongs in the unprotected 'header', not at the top level (RFC 9901 §8.1)"
            )

    general = "signatures" in document
    if general:
        if any(name in document for name in ("protected", "header", "signature")):
            raise MalformedSdJwt("a JWS JSON object has either 'signatures' or the flattened members, not both")
        entries = document["signatures"]
        if not isinstance(entries, list) or not entries:
            raise MalformedSdJwt("'signatures' must be a non-empty array")
        if len(entries) > max_signatures:
            raise SdJwtTooLarge(f"the SD-JWT has {len(entries)} signatures, more than the {max_signatures} allowed")
    elif "signature" in document:
        entries = [document]
    else:
        raise MalformedSdJwt("the JWS JSON object has neither 'signatures' nor 'signature'")

    signatures: list[JwsJsonSignature] = []
    disclosures: tuple[str, ...] = ()
    kb_jwt: str | None = None
    for index, entry in enumerate(entries):
        where = f"signature {index}" if general else "the JWS JSON object"
        if not isinstance(entry, Mapping):
            raise MalformedSdJwt(f"{where} is not a JSON object")
        header = entry.get("header", {})
        if not isinstance(header, Mapping):
            raise MalformedSdJwt(f"the unprotected 'header' of {where} is not a JSON object")
        if index > 0 and any(name in header for name in _SD_JWT_MEMBERS):
            # RFC 9901 §8.3: MUST be in the first unprotected header, MUST NOT be in any following.
            raise MalformedSdJwt(f"'disclosures' and 'kb_jwt' belong in the first unprotected header only, not {where}")
        if index == 0:
            disclosures = _disclosures(header, max_disclosures)
            kb_jwt = _kb_jwt(header)
        protected_b64 = _b64url_member(entry, "protected", where)
        _check_headers(protected_b64, header, where)
        signatures.append(
            JwsJsonSignature(
                protected_b64=protected_b64,
                header={k: v for k, v in header.items() if k not in _SD_JWT_MEMBERS},
                signature_b64=_b64url_member(entry, "signature", where),
            )
        )

    size = (
        len(payload_b64)
        + sum(len(s.protected_b64) + len(s.signature_b64) + 2 for s in signatures)
        + sum(len(d) + 1 for d in disclosures)
        + len(kb_jwt or "")
    )
    if size > max_bytes:
        raise SdJwtTooLarge(f"the SD-JWT is {size} bytes, more than the {max_bytes} allowed")
    return SdJwtJson(
        payload_b64=payload_b64,
        signatures=tuple(signatures),
        disclosures=disclosures,
        kb_jwt=kb_jwt,
        general=general,
    )


def serialize_sd_jwt_json(sd_jwt: SdJwt, *, general: bool = False) -> dict[str, Any]:
    """The JWS JSON Serialization of a compact SD-JWT or SD-JWT+KB (RFC 9901 §8.2, §8.3).

    Disclosures go into the unprotected header as ``disclosures`` (always present, possibly
    empty) and the KB-JWT as ``kb_jwt``. A KB-JWT made over the compact form stays valid: §8.1
    defines ``sd_hash`` over that same form. ``general=True`` gives one entry in ``signatures``.

    Raises:
        MalformedSdJwt: the issuer-signed JWT is not a compact JWS.
    """
    if not _COMPACT_JWS.fullmatch(sd_jwt.issuer_jwt):
        raise MalformedSdJwt("the issuer-signed JWT is not a compact JWS of three base64url parts")
    protected_b64, payload_b64, signature_b64 = sd_jwt.issuer_jwt.split(".")
    header: dict[str, Any] = {"disclosures": list(sd_jwt.disclosures)}
    if sd_jwt.kb_jwt is not None:
        header["kb_jwt"] = sd_jwt.kb_jwt
    signature = {"header": header, "protected": protected_b64, "signature": signature_b64}
    if general:
        return {"payload": payload_b64, "signatures": [signature]}
    return {**signature, "payload": payload_b64}


def _load(obj: Mapping[str, Any] | str, max_bytes: int) -> Mapping[str, Any]:
    if isinstance(obj, str):
        if len(obj) > max_bytes:
            raise SdJwtTooLarge(f"the SD-JWT is {len(obj)} bytes, more than the {max_bytes} allowed")
        try:
            obj = json_loads(obj)
        except EncodingError as exc:
            raise MalformedSdJwt(f"the JWS JSON Serialization is not JSON: {exc.reason}") from None
    if not isinstance(obj, Mapping):
        raise MalformedSdJwt("the JWS JSON Serialization must be a JSON object")
    return obj


def _b64url_member(entry: Mapping[str, Any], name: str, where: str) -> str:
    value = entry.get(name)
    if value is None:
        raise MalformedSdJwt(f"{where} has no {name!r}")
    if not isinstance(value, str) or not _B64URL.fullmatch(value):
        raise MalformedSdJwt(f"{name!r} of {where} must be a non-empty base64url string")
    return value


def _check_headers(protected_b64: str, header: Mapping[str, Any], where: str) -> None:
    try:
        protected = json_loads(b64url_decode(protected_b64))
    except EncodingError as exc:
        raise MalformedSdJwt(f"the protected header of {where} is not base64url JSON: {exc.reason}") from None
    if not isinstance(protected, dict):
        raise MalformedSdJwt(f"the protected header of {where} is not a JSON object")
    # The compact form that is verified and hashed carries only the protected header, so the
    # parameters that decide how it is verified must be there.
    if "alg" not in protected:
        raise MalformedSdJwt(f"the protected header of {where} has no 'alg'")
    if "crit" in header:
        raise MalformedSdJwt(f"'crit' must be integrity protected (RFC 7515 §4.1.11), but {where} has it unprotected")
    shared = sorted(set(protected).intersection(header))
    if shared:
        raise MalformedSdJwt(
            f"the protected and unprotected headers of {where} both define {', '.join(shared)} (RFC 7515 §7.2.1)",
            names=shared,
        )


def _disclosures(header: Mapping[str, Any], max_disclosures: int) -> tuple[str, ...]:
    value = header.get("disclosures", [])
    if not isinstance(value, list):
        raise MalformedSdJwt("'disclosures' must be an array of strings")
    if len(value) > max_disclosures:
        raise SdJwtTooLarge(f"the SD-JWT has {len(value)} disclosures, more than the {max_disclosures} allowed")
    if not all(isinstance(d, str) and _B64URL.fullmatch(d) for d in value):
        raise MalformedSdJwt("'disclosures' must be an array of non-empty base64url strings")
    return tuple(value)


def _kb_jwt(header: Mapping[str, Any]) -> str | None:
    if "kb_jwt" not in header:
        return None
    value = header["kb_jwt"]
    if not isinstance(value, str) or not _COMPACT_JWS.fullmatch(value):
        raise MalformedSdJwt("'kb_jwt' must be a compact JWS")
    return value
