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
from dataclasses import dataclass
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
    default_salt,
    digest_of,
    hash_function,
    make_disclosure,
)

__all__ = ["PreparedSdJwt", "IssuedSdJwt", "prepare_sd_jwt", "assemble_sd_jwt", "issue_sd_jwt"]


@dataclass(frozen=True, slots=True)
class PreparedSdJwt:
    """Everything but the signature."""

    header: Mapping[str, Any]
    payload: Mapping[str, Any]
    disclosures: tuple[Disclosure, ...]

    def signing_input(self) -> bytes:
        return jose.signing_input(self.header, self.payload)


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
    builder = _Builder(patterns, hash_alg, decoys, salt)
    payload = builder.object(claims, ())
    unused = patterns - builder.matched
    if unused:
        raise ClaimNotFound(
            f"cannot make {sorted(map(str, unused))} selectively disclosable: no such claim", paths=sorted(map(str, unused))
        )
    payload["_sd_alg"] = hash_alg
    return PreparedSdJwt(header=dict(header), payload=payload, disclosures=tuple(builder.disclosures))


def assemble_sd_jwt(prepared: PreparedSdJwt, signature: bytes) -> IssuedSdJwt:
    issuer_jwt = jose.assemble(prepared.signing_input(), signature)
    compact = SdJwt(issuer_jwt=issuer_jwt, disclosures=tuple(d.encoded for d in prepared.disclosures)).serialize()
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


def _matches(pattern: ClaimsPath, path: ClaimsPath) -> bool:
    return len(pattern) == len(path) and all(p is None and isinstance(c, int) or p == c for p, c in zip(pattern, path))


class _Builder:
    def __init__(self, patterns: set[ClaimsPath], hash_alg: str, decoys: int, salt: SaltSource) -> None:
        self.patterns = patterns
        # Only paths that are a prefix of some pattern need to be descended into with a check.
        self.prefixes = {p[:i] for p in patterns for i in range(len(p) + 1)}
        self.hash_alg = hash_alg
        self.decoys = decoys
        self.salt = salt
        self.disclosures: list[Disclosure] = []
        self.matched: set[ClaimsPath] = set()

    def _selectively_disclosable(self, path: ClaimsPath) -> bool:
        hit = False
        for pattern in self.patterns:
            if _matches(pattern, path):
                self.matched.add(pattern)
                hit = True
        return hit

    def _relevant(self, path: ClaimsPath) -> bool:
        return any(_matches(prefix, path) for prefix in self.prefixes if len(prefix) == len(path))

    def value(self, node: Any, path: ClaimsPath) -> Any:
        if not self._relevant(path):
            return node
        if isinstance(node, Mapping):
            return self.object(node, path)
        if isinstance(node, (list, tuple)):
            return self.array(node, path)
        return node

    def _decoy(self) -> str:
        # §4.2.5: a decoy is the digest of a random value, indistinguishable from a real one.
        return digest_of(b64url_encode(self.salt()), self.hash_alg)

    def object(self, node: Mapping[str, Any], path: ClaimsPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        digests: list[str] = []
        for name, value in node.items():
            if name in RESERVED_CLAIM_NAMES or (not path and name == "_sd_alg"):
                raise ReservedClaimName(f"the claim name {name!r} is reserved by SD-JWT", name=name)
            child_path = (*path, name)
            child = self.value(value, child_path)
            if self._selectively_disclosable(child_path):
                disclosure = make_disclosure(name, child, hash_alg=self.hash_alg, salt=self.salt)
                self.disclosures.append(disclosure)
                digests.append(disclosure.digest)
            else:
                out[name] = child
        if digests:
            digests.extend(self._decoy() for _ in range(self.decoys))
            # §4.2.4.1: the order of _sd must not reveal the order of the claims; sorting hides it.
            out["_sd"] = sorted(digests)
        return out

    def array(self, node: list[Any] | tuple[Any, ...], path: ClaimsPath) -> list[Any]:
        out: list[Any] = []
        any_disclosable = False
        for index, value in enumerate(node):
            child_path = (*path, index)
            child = self.value(value, child_path)
            if self._selectively_disclosable(child_path):
                disclosure = make_disclosure(None, child, hash_alg=self.hash_alg, salt=self.salt)
                self.disclosures.append(disclosure)
                out.append({"...": disclosure.digest})
                any_disclosable = True
            else:
                out.append(child)
        if any_disclosable:
            for _ in range(self.decoys):
                out.insert(secrets.randbelow(len(out) + 1), {"...": self._decoy()})
        return out
