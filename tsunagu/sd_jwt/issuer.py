"""The SD-JWT issuer role (RFC 9901 §4.1, §4.2).

The issuer names what is selectively disclosable by claims path (``("address", "locality")``,
``("nationalities", None)`` for every element), so the same notation serves issuance,
presentation and DCQL. A path may sit inside another selectively disclosable claim: the inner
claim is then disclosable on its own inside the outer one (recursive disclosure, §4.2.6).

Signing is split as ``prepare_sd_jwt`` → any signer → ``assemble_sd_jwt`` so that a key in an
HSM or KMS can sign; ``issue_sd_jwt`` does all three with a local key.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import jose
from ..claims_path import ClaimsPath
from ..encoding import b64url_encode
from ..errors import ClaimNotFound, ReservedClaimName
from ..jwk import PrivateJwk
from .compact import SdJwt
from .disclosure import (
    DEFAULT_HASH_ALG,
    RESERVED_CLAIM_NAMES,
    Disclosure,
    SaltSource,
    _new_disclosure,
    _pooled_salts,
    default_salt,
    digest_of,
    hash_function,
)

__all__ = ["PreparedSdJwt", "IssuedSdJwt", "prepare_sd_jwt", "assemble_sd_jwt", "issue_sd_jwt"]


@dataclass(frozen=True, slots=True)
class PreparedSdJwt:
    """Everything but the signature."""

    header: Mapping[str, Any]
    payload: Mapping[str, Any]
    disclosures: tuple[Disclosure, ...]
    #: Encoded once, so what is signed and what is assembled can never differ.
    encoded: bytes = field(repr=False)

    def signing_input(self) -> bytes:
        return self.encoded


@dataclass(frozen=True, slots=True)
class IssuedSdJwt:
    """An issued SD-JWT: the compact form to hand to the holder, and its parts for the issuer's records."""

    compact: str
    payload: Mapping[str, Any]
    disclosures: tuple[Disclosure, ...]

    @property
    def sd_jwt(self) -> SdJwt:
        issuer_jwt = self.compact.split("~", 1)[0]
        return SdJwt(issuer_jwt=issuer_jwt, disclosures=tuple(d.encoded for d in self.disclosures))


def prepare_sd_jwt(
    claims: Mapping[str, Any],
    *,
    header: Mapping[str, Any],
    selectively_disclosable: Iterable[ClaimsPath] = (),
    hash_alg: str = DEFAULT_HASH_ALG,
    decoys: int = 0,
    salt: SaltSource = default_salt,
) -> PreparedSdJwt:
    """Build the payload with digests in place of the selectively disclosable claims.

    ``decoys`` decoy digests (§4.2.5) are added to every object and array that has at least one
    disclosable member, so the number of disclosable claims does not show.

    Raises:
        ClaimNotFound: a path in ``selectively_disclosable`` names no claim.
        ReservedClaimName: a claim is named ``_sd``, ``...`` or ``_sd_alg``.
        UnsupportedHashAlgorithm: ``hash_alg`` is not supported.
    """
    hash_function(hash_alg)
    patterns = {tuple(p) for p in selectively_disclosable}
    if () in patterns:
        raise ClaimNotFound("the whole payload cannot be one disclosure; name the claims instead")
    builder = _Builder(hash_alg, decoys, salt)
    payload = builder.object(claims, (_Patterns.build(patterns),), top=True)
    unused = patterns - builder.matched
    if unused:
        raise ClaimNotFound(
            f"cannot make {sorted(map(str, unused))} selectively disclosable: no such claim", paths=sorted(map(str, unused))
        )
    payload["_sd_alg"] = hash_alg
    return PreparedSdJwt(
        header=dict(header),
        payload=payload,
        disclosures=tuple(builder.disclosures),
        encoded=jose.signing_input(header, payload),
    )


def assemble_sd_jwt(prepared: PreparedSdJwt, signature: bytes) -> IssuedSdJwt:
    issuer_jwt = jose.assemble(prepared.signing_input(), signature)
    # SdJwt(...).serialize() without the intermediate object: <JWT>~<D1>~...~<Dn>~
    compact = "~".join((issuer_jwt, *(d.encoded for d in prepared.disclosures), ""))
    return IssuedSdJwt(compact=compact, payload=prepared.payload, disclosures=prepared.disclosures)


def issue_sd_jwt(
    claims: Mapping[str, Any],
    *,
    key: PrivateJwk,
    header: Mapping[str, Any] | None = None,
    selectively_disclosable: Iterable[ClaimsPath] = (),
    hash_alg: str = DEFAULT_HASH_ALG,
    decoys: int = 0,
    salt: SaltSource = default_salt,
) -> IssuedSdJwt:
    """Prepare, sign with ``key`` and assemble. ``alg`` and ``kid`` come from the key."""
    full_header = {"alg": key.alg, **({"kid": key.kid} if key.kid else {}), **(header or {})}
    prepared = prepare_sd_jwt(
        claims,
        header=full_header,
        selectively_disclosable=selectively_disclosable,
        hash_alg=hash_alg,
        decoys=decoys,
        salt=salt,
    )
    return assemble_sd_jwt(prepared, jose.sign(prepared.signing_input(), key))


class _Patterns:
    """The disclosable paths as a trie, walked alongside the claims: O(claims), not O(claims × paths)."""

    __slots__ = ("children", "any_index", "pattern")

    def __init__(self) -> None:
        self.children: dict[str | int, _Patterns] = {}
        self.any_index: _Patterns | None = None
        self.pattern: ClaimsPath | None = None

    @classmethod
    def build(cls, patterns: Iterable[ClaimsPath]) -> _Patterns:
        root = cls()
        for pattern in patterns:
            node = root
            for element in pattern:
                if element is None:
                    node.any_index = node.any_index or cls()
                    node = node.any_index
                else:
                    node = node.children.setdefault(element, cls())
            node.pattern = pattern
        return root


#: Values that cannot hold a claim name: nothing to look into.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _check_reserved(node: Any) -> None:
    """Reserved names are refused also where nothing is disclosable: a verifier would misread them."""
    if type(node) in _SCALARS:
        return
    if isinstance(node, Mapping):
        for name, value in node.items():
            if name in RESERVED_CLAIM_NAMES:
                raise ReservedClaimName(f"the claim name {name!r} is reserved by SD-JWT", name=name)
            if type(value) not in _SCALARS:
                _check_reserved(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            if type(value) not in _SCALARS:
                _check_reserved(value)


class _Builder:
    __slots__ = ("hash_alg", "hasher", "decoys", "salt", "disclosures", "matched")

    def __init__(self, hash_alg: str, decoys: int, salt: SaltSource) -> None:
        self.hash_alg = hash_alg
        self.hasher = hash_function(hash_alg)
        self.decoys = decoys
        self.salt = _pooled_salts(salt)
        self.disclosures: list[Disclosure] = []
        self.matched: set[ClaimsPath] = set()

    def _disclosable(self, tries: tuple[_Patterns, ...]) -> bool:
        hit = False
        for trie in tries:
            if trie.pattern is not None:
                self.matched.add(trie.pattern)
                hit = True
        return hit

    def _disclose(self, name: str | None, value: Any) -> str:
        # Names were checked against RESERVED_CLAIM_NAMES by the caller, as make_disclosure would.
        disclosure = _new_disclosure(name, value, self.salt(), self.hasher)
        self.disclosures.append(disclosure)
        return disclosure.digest

    def value(self, node: Any, tries: tuple[_Patterns, ...]) -> Any:
        if not tries:
            _check_reserved(node)
            return node
        if isinstance(node, Mapping):
            return self.object(node, tries, top=False)
        if isinstance(node, (list, tuple)):
            return self.array(node, tries)
        return node

    def _decoy(self) -> str:
        # §4.2.5: a decoy is the digest of a random value, indistinguishable from a real one.
        return digest_of(b64url_encode(self.salt()), self.hash_alg)

    def object(self, node: Mapping[str, Any], tries: tuple[_Patterns, ...], *, top: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        digests: list[str] = []
        # One trie is the common case (no wildcard above): look the name up directly.
        children = tries[0].children if len(tries) == 1 else None
        below: tuple[_Patterns, ...]
        for name, value in node.items():
            if name in RESERVED_CLAIM_NAMES or (top and name == "_sd_alg"):
                raise ReservedClaimName(f"the claim name {name!r} is reserved by SD-JWT", name=name)
            if children is not None:
                trie = children.get(name)
                if trie is None:  # nothing disclosable at or below this claim
                    if type(value) not in _SCALARS:
                        _check_reserved(value)
                    out[name] = value
                    continue
                if trie.pattern is not None and type(value) in _SCALARS:
                    # A disclosable leaf, the usual case: what value() and _disclosable() would do.
                    self.matched.add(trie.pattern)
                    digests.append(self._disclose(name, value))
                    continue
                below = (trie,)
            else:
                below = tuple(t.children[name] for t in tries if name in t.children)
            child = self.value(value, below)
            if below and self._disclosable(below):
                digests.append(self._disclose(name, child))
            else:
                out[name] = child
        if digests:
            digests.extend(self._decoy() for _ in range(self.decoys))
            # §4.2.4.1: the order of _sd must not reveal the order of the claims; sorting hides it.
            out["_sd"] = sorted(digests)
        return out

    def array(self, node: list[Any] | tuple[Any, ...], tries: tuple[_Patterns, ...]) -> list[Any]:
        out: list[Any] = []
        any_disclosable = False
        wildcard = tuple(t.any_index for t in tries if t.any_index is not None)
        for index, value in enumerate(node):
            below = tuple(t.children[index] for t in tries if index in t.children) + wildcard
            child = self.value(value, below)
            if below and self._disclosable(below):
                out.append({"...": self._disclose(None, child)})
                any_disclosable = True
            else:
                out.append(child)
        if any_disclosable:
            for _ in range(self.decoys):
                out.insert(secrets.randbelow(len(out) + 1), {"...": self._decoy()})
        return out
