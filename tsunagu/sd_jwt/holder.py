"""The SD-JWT holder role (RFC 9901 §6): look inside what one holds, choose, present.

Disclosures are chosen by claims path. Disclosing a nested claim brings the disclosures of its
parents along (a verifier cannot place ``locality`` without the ``address`` that holds it);
naming an object or array discloses everything beneath it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import jose
from ..claims_path import ClaimsPath, format_claims_path
from ..errors import ClaimNotFound, JoseError, MalformedSdJwt
from ..kb_jwt import KeyBindingRequest, create_kb_jwt
from .compact import SdJwt, parse_sd_jwt
from .disclosure import Disclosure, _Entry, _parse_entries, parse_disclosures
from .verifier import hash_alg_of, reconstruct_claims

__all__ = ["DecodedSdJwt", "decode_sd_jwt", "select_disclosures", "present_sd_jwt"]


@dataclass(frozen=True, slots=True)
class DecodedSdJwt:
    """An SD-JWT taken apart without any verification: for holders, tools and debugging."""

    sd_jwt: SdJwt
    header: Mapping[str, Any]
    payload: Mapping[str, Any]
    disclosures: tuple[Disclosure, ...]
    hash_alg: str
    #: The payload with every included disclosure applied.
    claims: dict[str, Any]
    kb_header: Mapping[str, Any] | None = None
    kb_payload: Mapping[str, Any] | None = None


def decode_sd_jwt(text: str | SdJwt) -> DecodedSdJwt:
    """Parse an SD-JWT (or SD-JWT+KB) and rebuild its claims. Signatures are NOT checked.

    Raises:
        MalformedSdJwt, MalformedDisclosure, DuplicateDisclosure, DuplicateDigest,
        DisclosureNotReferenced, ...: the same structural errors the verifier raises.
    """
    sd_jwt, jws, disclosures, hash_alg = _parse_held(text)
    claims = reconstruct_claims(jws.payload, disclosures)
    kb_header = kb_payload = None
    if sd_jwt.kb_jwt is not None:
        try:
            kb = jose.parse_compact(sd_jwt.kb_jwt, typ=None)
        except JoseError as exc:
            raise MalformedSdJwt(f"the key binding JWT is not well-formed: {exc.reason}") from None
        kb_header, kb_payload = kb.header, kb.payload
    return DecodedSdJwt(
        sd_jwt=sd_jwt,
        header=jws.header,
        payload=jws.payload,
        disclosures=tuple(disclosures.values()),
        hash_alg=hash_alg,
        claims=claims,
        kb_header=kb_header,
        kb_payload=kb_payload,
    )


def select_disclosures(decoded: DecodedSdJwt, paths: Iterable[ClaimsPath]) -> tuple[Disclosure, ...]:
    """The disclosures needed to reveal ``paths``, in the order the SD-JWT holds them.

    ``None`` in a path selects every element of an array; elements without the rest of the path
    are skipped, but at least one must have it.

    Raises:
        ClaimNotFound: a path names no claim in this credential.
    """
    needed = _needed(decoded.payload, _entries_of(decoded.disclosures), paths)
    return tuple(d for d in decoded.disclosures if d.digest in needed)


def present_sd_jwt(
    held: str | DecodedSdJwt, paths: Iterable[ClaimsPath], *, key_binding: KeyBindingRequest | None = None
) -> str:
    """Build a presentation disclosing only ``paths``; with ``key_binding``, end it with a KB-JWT.

    From a string, only what choosing needs is decoded: the claims are not rebuilt (a wallet
    checked the credential when it received it; the verifier checks the presentation).

    Raises:
        ClaimNotFound: a path names no claim.
        MalformedSdJwt, MalformedDisclosure, DuplicateDisclosure: ``held`` is not an SD-JWT.
    """
    if isinstance(held, DecodedSdJwt):
        sd_jwt, payload, hash_alg = held.sd_jwt, held.payload, held.hash_alg
        entries = _entries_of(held.disclosures)
    else:
        sd_jwt = held if isinstance(held, SdJwt) else parse_sd_jwt(held)
        jws = _parse_issuer_jwt(sd_jwt)
        payload, hash_alg = jws.payload, hash_alg_of(jws.payload)
        # Every disclosure is decoded and checked (a malformed credential is refused as a whole),
        # but as plain tuples: Disclosure objects would be built only to be dropped.
        entries = _parse_entries(sd_jwt.disclosures, hash_alg)
    needed = _needed(payload, entries, paths)
    # SdJwt(...).without_kb, built once: <JWT>~<chosen D1>~...~<chosen Dk>~
    without_kb = "~".join((sd_jwt.issuer_jwt, *(e[2] for digest, e in entries.items() if digest in needed), ""))
    if key_binding is None:
        return without_kb
    return without_kb + create_kb_jwt(without_kb, key_binding, hash_alg=hash_alg)


def _parse_held(text: str | SdJwt) -> tuple[SdJwt, jose.CompactJws, dict[str, Disclosure], str]:
    sd_jwt = text if isinstance(text, SdJwt) else parse_sd_jwt(text)
    jws = _parse_issuer_jwt(sd_jwt)
    hash_alg = hash_alg_of(jws.payload)
    return sd_jwt, jws, parse_disclosures(sd_jwt.disclosures, hash_alg=hash_alg), hash_alg


def _parse_issuer_jwt(sd_jwt: SdJwt) -> jose.CompactJws:
    try:
        return jose.parse_compact(sd_jwt.issuer_jwt, typ=None)
    except JoseError as exc:
        raise MalformedSdJwt(f"the issuer-signed JWT is not well-formed: {exc.reason}") from None


def _entries_of(disclosures: Iterable[Disclosure]) -> dict[str, _Entry]:
    return {d.digest: (d.name, d.value, d.encoded) for d in disclosures}


def _needed(payload: Mapping[str, Any], by_digest: Mapping[str, _Entry], paths: Iterable[ClaimsPath]) -> set[str]:
    """The digests of the disclosures that reveal ``paths``."""
    needed: set[str] = set()
    for path in paths:
        if not path:
            raise ClaimNotFound("an empty claims path names no claim")
        path = tuple(path)
        if not _collect(payload, path, by_digest, needed):
            raise ClaimNotFound(f"the credential has no claim {format_claims_path(path)}", path=list(path))
    return needed


def _is_object(node: Any) -> bool:
    # Parsed JSON holds plain dicts: the exact type test spares the ABC check on the hot path.
    return type(node) is dict or isinstance(node, Mapping)


def _collect(node: Any, path: ClaimsPath, by_digest: Mapping[str, _Entry], needed: set[str]) -> bool:
    """Add to ``needed`` what reveals ``path`` below ``node``; False if the path is not there."""
    if not path:
        _collect_all(node, by_digest, needed)
        return True
    head, rest = path[0], path[1:]
    if _is_object(node):
        if not isinstance(head, str):
            return False
        if head in node and head not in ("_sd", "..."):
            return _collect(node[head], rest, by_digest, needed)
        for digest in node.get("_sd", ()):
            entry = by_digest.get(digest)
            if entry is not None and entry[0] == head:
                if _collect(entry[1], rest, by_digest, needed):
                    needed.add(digest)
                    return True
                return False
        return False
    if isinstance(node, list):
        visible = list(_visible_elements(node, by_digest))
        if head is None:
            found = False
            for digest, value in visible:
                if _collect(value, rest, by_digest, needed):
                    found = True
                    if digest is not None:
                        needed.add(digest)
            return found
        if isinstance(head, int) and not isinstance(head, bool) and 0 <= head < len(visible):
            digest, value = visible[head]
            if _collect(value, rest, by_digest, needed):
                if digest is not None:
                    needed.add(digest)
                return True
        return False
    return False


def _visible_elements(node: list[Any], by_digest: Mapping[str, _Entry]) -> Iterable[tuple[str | None, Any]]:
    """Array elements as the holder sees them: plain ones, and disclosed ones (decoys dropped)."""
    for element in node:
        if _is_object(element) and "..." in element:
            entry = by_digest.get(element["..."])
            if entry is not None:
                yield element["..."], entry[1]
        else:
            yield None, element


#: Values with nothing beneath them.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _collect_all(node: Any, by_digest: Mapping[str, _Entry], needed: set[str]) -> None:
    if type(node) in _SCALARS:
        return
    if _is_object(node):
        for name, value in node.items():
            if name != "_sd":
                _collect_all(value, by_digest, needed)
        for digest in node.get("_sd", ()):
            entry = by_digest.get(digest)
            if entry is not None:
                needed.add(digest)
                _collect_all(entry[1], by_digest, needed)
    elif isinstance(node, list):
        for digest, value in _visible_elements(node, by_digest):
            if digest is not None:
                needed.add(digest)
            _collect_all(value, by_digest, needed)
