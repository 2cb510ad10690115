"""Disclosures and their digests (RFC 9901 §4.2).

A disclosure is ``base64url(JSON array)``: ``[salt, name, value]`` for an object property,
``[salt, value]`` for an array element. Its digest is ``base64url(hash(ASCII(disclosure)))``:
the hash is taken over the encoded string exactly as transmitted, so re-encoding a disclosure
(different whitespace, key order or escaping) would change its digest.
"""

from __future__ import annotations

import binascii
import hashlib
import json.encoder as json_encoder
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from ..encoding import b64url_decode, json_dumps, json_loads
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

# base64url encoding inlined on the hot paths (b64url_encode, minus the str round trips).
_FROM_STD = bytes.maketrans(b"+/", b"-_")
_b2a = binascii.b2a_base64
#: The string encoder json_dumps's C encoder uses (ensure_ascii off).
_encode_str: Callable[[str], str] = json_encoder.encode_basestring


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
    return _b64url(hash_function(hash_alg)(encoded.encode("ascii")).digest()).decode("ascii")


def make_disclosure(
    name: str | None, value: Any, *, hash_alg: str = DEFAULT_HASH_ALG, salt: SaltSource = default_salt
) -> Disclosure:
    """Create the disclosure for an object property (``name`` given) or an array element (``None``).

    Raises:
        ReservedClaimName: ``name`` is ``_sd`` or ``...``.
    """
    if name is not None and name in RESERVED_CLAIM_NAMES:
        raise ReservedClaimName(f"the claim name {name!r} is reserved by SD-JWT", name=name)
    salt_bytes = salt()
    return _new_disclosure(name, value, salt_bytes, hash_function(hash_alg))


def _new_disclosure(name: str | None, value: Any, salt: bytes, hasher: Callable[[bytes], Any]) -> Disclosure:
    """``make_disclosure`` after its checks: the issuer's hot path, with salt and hash resolved."""
    salt_text = _b2a(salt, newline=False).translate(_FROM_STD).rstrip(b"=").decode("ascii")
    # Most claims are a string or an integer: write the array directly, exactly as json_dumps
    # would (its C encoder uses encode_basestring for str and int.__repr__ for int; the salt is
    # base64url, which needs no escaping). Anything else goes through json_dumps.
    kind = type(value)
    value_json = _encode_str(value) if kind is str else int.__repr__(value) if kind is int else None
    if value_json is None:
        text = json_dumps([salt_text, value] if name is None else [salt_text, name, value])
    elif name is None:
        text = f'["{salt_text}",{value_json}]'
    else:
        text = f'["{salt_text}",{_encode_str(name)},{value_json}]'
    encoded = _b2a(text.encode("utf-8"), newline=False).translate(_FROM_STD).rstrip(b"=")
    # The digest is over the ASCII of the encoded disclosure: ``encoded`` is exactly those bytes.
    digest = _b2a(hasher(encoded).digest(), newline=False).translate(_FROM_STD).rstrip(b"=").decode("ascii")
    return Disclosure(encoded.decode("ascii"), digest, salt_text, name, value)


def _pooled_salts(salt: SaltSource) -> SaltSource:
    """``salt`` itself, or for ``default_salt`` the same 16-byte CSPRNG salts cut from one OS read.

    One ``os.urandom`` call per 16 salts instead of one per disclosure; each salt is a distinct
    slice, so none is ever reused. Made per issuance and never shared (a pool shared across a
    ``fork`` would hand both processes the same salts).
    """
    if salt is not default_salt:
        return salt
    buffer, offset = b"", 0

    def next_salt() -> bytes:
        nonlocal buffer, offset
        if offset == len(buffer):
            buffer, offset = os.urandom(16 * 16), 0
        offset += 16
        return buffer[offset - 16 : offset]

    return next_salt


def parse_disclosure(encoded: str, *, hash_alg: str = DEFAULT_HASH_ALG, digest: str | None = None) -> Disclosure:
    """Decode one disclosure and check its shape (RFC 9901 §7.1, step 3).

    Raises:
        MalformedDisclosure: not base64url JSON, not an array of 2 or 3 elements, salt or name not strings.
        ReservedClaimName: the claim name is ``_sd`` or ``...``.
    """
    raw, salt, name, value = _decode(encoded)
    if digest is None:
        digest = _b64url(hash_function(hash_alg)(raw).digest()).decode("ascii")
    return Disclosure(encoded, digest, salt, name, value)


def parse_disclosures(encoded: Iterable[str], *, hash_alg: str = DEFAULT_HASH_ALG) -> dict[str, Disclosure]:
    """Parse a list of disclosures into a digest-keyed mapping, in their original order.

    Raises:
        DuplicateDisclosure: the same disclosure appears twice.
        MalformedDisclosure, ReservedClaimName: as ``parse_disclosure``.
    """
    disclosures: dict[str, Disclosure] = {}
    hasher: Callable[[bytes], Any] | None = None  # resolved at first use, as parse_disclosure does
    for text in encoded:
        raw, salt, name, value = _decode(text)
        if hasher is None:
            hasher = hash_function(hash_alg)
        digest = _b2a(hasher(raw).digest(), newline=False).translate(_FROM_STD).rstrip(b"=").decode("ascii")
        if digest in disclosures:
            raise DuplicateDisclosure("the same disclosure is included twice", name=name)
        disclosures[digest] = Disclosure(text, digest, salt, name, value)
    return disclosures


#: What choosing disclosures needs of one: (name, value, encoded).
_Entry = tuple[str | None, Any, str]


def _parse_entries(encoded: Iterable[str], hash_alg: str) -> dict[str, _Entry]:
    """``parse_disclosures`` as digest -> (name, value, encoded), same checks and errors, without
    building a ``Disclosure`` per item: presenting from a string needs only these three."""
    entries: dict[str, _Entry] = {}
    hasher: Callable[[bytes], Any] | None = None
    for text in encoded:
        raw, _, name, value = _decode(text)
        if hasher is None:
            hasher = hash_function(hash_alg)
        digest = _b2a(hasher(raw).digest(), newline=False).translate(_FROM_STD).rstrip(b"=").decode("ascii")
        if digest in entries:
            raise DuplicateDisclosure("the same disclosure is included twice", name=name)
        entries[digest] = (name, value, text)
    return entries


def _b64url(data: bytes) -> bytes:
    """``b64url_encode`` as ASCII bytes: what gets hashed, without a str round trip."""
    return binascii.b2a_base64(data, newline=False).translate(_FROM_STD).rstrip(b"=")


def _decode(encoded: str) -> tuple[bytes, str, str | None, Any]:
    """The ASCII bytes, salt, name (None for an array element) and value of a disclosure."""
    try:
        raw = encoded.encode("ascii")
        array = json_loads(b64url_decode(raw))
    except (EncodingError, UnicodeEncodeError):
        raise MalformedDisclosure("a disclosure is not base64url-encoded JSON", disclosure=encoded[:80]) from None
    if type(array) is not list or len(array) not in (2, 3):
        raise MalformedDisclosure(
            "a disclosure must be a JSON array of 2 (array element) or 3 (object property) elements",
            disclosure=encoded[:80],
        )
    salt = array[0]
    if type(salt) is not str:
        raise MalformedDisclosure("the salt of a disclosure must be a string", disclosure=encoded[:80])
    if len(array) == 2:
        return raw, salt, None, array[1]
    name = array[1]
    if type(name) is not str:
        raise MalformedDisclosure("the claim name of a disclosure must be a string", disclosure=encoded[:80])
    if name in RESERVED_CLAIM_NAMES:
        raise ReservedClaimName(f"a disclosure uses the reserved claim name {name!r}", name=name)
    return raw, salt, name, array[2]
