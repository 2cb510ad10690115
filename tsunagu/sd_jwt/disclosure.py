"""Disclosures and their digests (RFC 9901 §4.2).

A disclosure is ``base64url(JSON array)``: ``[salt, name, value]`` for an object property,
``[salt, value]`` for an array element. Its digest is ``base64url(hash(ASCII(disclosure)))``:
the hash is taken over the encoded string exactly as transmitted, so re-encoding a disclosure
(different whitespace, key order or escaping) would change its digest.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from ..encoding import b64url_decode, b64url_encode, json_dumps, json_loads
from ..errors import (
    DuplicateDisclosure,
    EncodingError,
    MalformedDisclosure,
    ReservedClaimName,
    UnsupportedHashAlgorithm,
)

__all__ = [
    "DEFAULT_HASH_ALG",
    "HASH_ALGORITHMS",
    "RESERVED_CLAIM_NAMES",
    "Disclosure",
    "SaltSource",
    "default_salt",
    "hash_function",
    "digest_of",
    "make_disclosure",
    "parse_disclosure",
    "parse_disclosures",
]

#: RFC 9901 §4.1.1: without ``_sd_alg`` the hash is SHA-256.
DEFAULT_HASH_ALG: Final = "sha-256"

#: Names from the IANA Named Information Hash Algorithm Registry that we accept for ``_sd_alg``.
HASH_ALGORITHMS: Final[dict[str, Callable[[bytes], Any]]] = {
    "sha-256": hashlib.sha256,
    "sha-384": hashlib.sha384,
    "sha-512": hashlib.sha512,
    "sha3-256": hashlib.sha3_256,
    "sha3-384": hashlib.sha3_384,
    "sha3-512": hashlib.sha3_512,
}

#: RFC 9901 §4.2.1: a disclosure must not use these as claim names.
RESERVED_CLAIM_NAMES: Final = frozenset({"_sd", "..."})

SaltSource = Callable[[], bytes]


def default_salt() -> bytes:
    """128 bits from the OS CSPRNG, the minimum RFC 9901 §9.3 recommends."""
    return secrets.token_bytes(16)


@dataclass(frozen=True, slots=True)
class Disclosure:
    """One decoded disclosure. ``name`` is None for an array element."""

    encoded: str
    digest: str
    salt: str
    name: str | None
    value: Any

    @property
    def is_array_element(self) -> bool:
        return self.name is None


def hash_function(hash_alg: str) -> Callable[[bytes], Any]:
    try:
        return HASH_ALGORITHMS[hash_alg]
    except (KeyError, TypeError):
        raise UnsupportedHashAlgorithm(
            f"the digest algorithm {hash_alg!r} is not supported; supported are {', '.join(HASH_ALGORITHMS)}",
            sd_alg=hash_alg,
        ) from None


def digest_of(encoded: str, hash_alg: str = DEFAULT_HASH_ALG) -> str:
    """The digest of an encoded disclosure (or of any ASCII string, as for ``sd_hash``)."""
    return b64url_encode(hash_function(hash_alg)(encoded.encode("ascii")).digest())


def make_disclosure(
    name: str | None, value: Any, *, hash_alg: str = DEFAULT_HASH_ALG, salt: SaltSource = default_salt
) -> Disclosure:
    """Create the disclosure for an object property (``name`` given) or an array element (``None``).

    Raises:
        ReservedClaimName: ``name`` is ``_sd`` or ``...``.
    """
    if name is not None and name in RESERVED_CLAIM_NAMES:
        raise ReservedClaimName(f"the claim name {name!r} is reserved by SD-JWT", name=name)
    salt_text = b64url_encode(salt())
    array = [salt_text, value] if name is None else [salt_text, name, value]
    encoded = b64url_encode(json_dumps(array).encode("utf-8"))
    return Disclosure(encoded=encoded, digest=digest_of(encoded, hash_alg), salt=salt_text, name=name, value=value)


def parse_disclosure(encoded: str, *, hash_alg: str = DEFAULT_HASH_ALG, digest: str | None = None) -> Disclosure:
    """Decode one disclosure and check its shape (RFC 9901 §7.1, step 3).

    Raises:
        MalformedDisclosure: not base64url JSON, not an array of 2 or 3 elements, salt or name not strings.
        ReservedClaimName: the claim name is ``_sd`` or ``...``.
    """
    try:
        array = json_loads(b64url_decode(encoded))
    except (EncodingError, UnicodeEncodeError):
        raise MalformedDisclosure("a disclosure is not base64url-encoded JSON", disclosure=encoded[:80]) from None
    if not isinstance(array, list) or len(array) not in (2, 3):
        raise MalformedDisclosure(
            "a disclosure must be a JSON array of 2 (array element) or 3 (object property) elements",
            disclosure=encoded[:80],
        )
    salt = array[0]
    if not isinstance(salt, str):
        raise MalformedDisclosure("the salt of a disclosure must be a string", disclosure=encoded[:80])
    if len(array) == 3:
        name = array[1]
        if not isinstance(name, str):
            raise MalformedDisclosure("the claim name of a disclosure must be a string", disclosure=encoded[:80])
        if name in RESERVED_CLAIM_NAMES:
            raise ReservedClaimName(f"a disclosure uses the reserved claim name {name!r}", name=name)
        value = array[2]
    else:
        name, value = None, array[1]
    return Disclosure(
        encoded=encoded,
        digest=digest if digest is not None else digest_of(encoded, hash_alg),
        salt=salt,
        name=name,
        value=value,
    )


def parse_disclosures(encoded: Iterable[str], *, hash_alg: str = DEFAULT_HASH_ALG) -> dict[str, Disclosure]:
    """Parse a list of disclosures into a digest-keyed mapping, in their original order.

    Raises:
        DuplicateDisclosure: the same disclosure appears twice.
        MalformedDisclosure, ReservedClaimName: as ``parse_disclosure``.
    """
    disclosures: dict[str, Disclosure] = {}
    for text in encoded:
        disclosure = parse_disclosure(text, hash_alg=hash_alg)
        if disclosure.digest in disclosures:
            raise DuplicateDisclosure("the same disclosure is included twice", name=disclosure.name)
        disclosures[disclosure.digest] = disclosure
    return disclosures
