"""Token Status List (draft-ietf-oauth-status-list-18): the list, its JSON form, and the status list token.

An issuer revokes or suspends a credential by changing its entry in a compressed bit array that
every verifier fetches as a signed JWT (``typ`` ``statuslist+jwt``). This module is the codec and
the token rules only: the services fetch and cache tokens and hand them in as text.

Decompression is always bounded (§11.1 asks for careful decoding; a few kilobytes of DEFLATE can
expand to gigabytes), so every decoder here takes ``max_bytes``.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Final, Literal, NotRequired, Protocol, TypedDict, TypeGuard

from . import jose
from .encoding import b64url_decode, b64url_encode
from .errors import (
    EncodingError,
    InvalidSignature,
    InvalidStatusReference,
    MalformedStatusList,
    StatusIndexOutOfRange,
    StatusListSignatureInvalid,
    StatusListSubjectMismatch,
    StatusListTokenExpired,
    StatusListTokenInvalid,
    StatusListTooLarge,
    StatusValueOutOfRange,
)
from .jwk import Algorithm, PrivateJwk, PublicJwk

__all__ = [
    "TYP_STATUSLIST_JWT",
    "MEDIA_TYPE_STATUSLIST_JWT",
    "VALID",
    "INVALID",
    "SUSPENDED",
    "STATUS_NAMES",
    "Bits",
    "StatusList",
    "StatusListObject",
    "encode_status_list",
    "decode_status_list",
    "SegmentedStatusList",
    "compress_segmented",
    "segmented_status_list_object",
    "StatusReference",
    "parse_status_claim",
    "StatusListToken",
    "StatusListKeyResolver",
    "status_list_token_claims",
    "status_list_token_claims_from_object",
    "status_list_token_signing_input",
    "issue_status_list_token",
    "verify_status_list_token",
    "status_of",
]

#: §5.1: the ``typ`` header of a status list token; §8.1: the media type it is served with.
TYP_STATUSLIST_JWT: Final = "statuslist+jwt"
MEDIA_TYPE_STATUSLIST_JWT: Final = "application/statuslist+jwt"

#: §7.1 Status Types. 0x03 and 0x0C-0x0F are application specific; the rest are reserved.
VALID: Final = 0x00
INVALID: Final = 0x01
SUSPENDED: Final = 0x02
STATUS_NAMES: Final[Mapping[int, str]] = {VALID: "VALID", INVALID: "INVALID", SUSPENDED: "SUSPENDED"}

Bits = Literal[1, 2, 4, 8]
_BITS: Final = (1, 2, 4, 8)
# RFC 3986 §3.1 scheme, then anything but whitespace and controls (URIs are ASCII).
_ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[\x21-\x7e]+")
_NONZERO = re.compile(rb"[^\x00]")


class StatusList:
    """The byte array of §4.1: ``size`` statuses of ``bits`` bits each.

    Index 0 sits in the least significant bits of byte 0 (§4.1 step 3, §11.1), so a 1-bit list
    with statuses 1,0,0,1,1,1,0,1 is the byte 0xB9.
    """

    __slots__ = ("_bits", "_size", "_data", "aggregation_uri")

    def __init__(self, data: bytes | bytearray, bits: int, *, size: int | None = None,
                 aggregation_uri: str | None = None) -> None:
        if not _is_bits(bits):
            raise MalformedStatusList(f"bits must be 1, 2, 4 or 8, not {bits!r}", bits=bits)
        per_byte = 8 // bits
        if size is None:
            size = len(data) * per_byte
        if not data or size <= 0 or len(data) != -(-size // per_byte):
            raise MalformedStatusList(f"{len(data)} bytes cannot hold exactly {size} statuses of {bits} bits")
        self._bits: Bits = bits
        self._size = size
        self._data = bytearray(data)
        self.aggregation_uri = aggregation_uri

    @classmethod
    def new(cls, size: int, bits: Bits, *, aggregation_uri: str | None = None) -> StatusList:
        """A list of ``size`` entries, all VALID (0x00)."""
        if not _is_bits(bits):
            raise MalformedStatusList(f"bits must be 1, 2, 4 or 8, not {bits!r}", bits=bits)
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise MalformedStatusList(f"a status list needs a positive number of entries, not {size!r}")
        return cls(bytes(-(-size * bits // 8)), bits, size=size, aggregation_uri=aggregation_uri)

    @property
    def bits(self) -> Bits:
        return self._bits

    @property
    def size(self) -> int:
        return self._size

    def get(self, idx: int) -> int:
        """The status at ``idx``. §8.3 step 6: an index outside the list allows no statement."""
        byte, shift = self._locate(idx)
        return (self._data[byte] >> shift) & ((1 << self._bits) - 1)

    def set(self, idx: int, value: int) -> None:
        byte, shift = self._locate(idx)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < (1 << self._bits):
            raise StatusValueOutOfRange(
                f"the status {value!r} does not fit in {self._bits} bit(s); allowed are 0 to {(1 << self._bits) - 1}",
                value=value, bits=self._bits,
            )
        mask = ((1 << self._bits) - 1) << shift
        self._data[byte] = (self._data[byte] & ~mask) | (value << shift)

    def non_valid(self) -> dict[int, int]:
        """Every index whose status is not VALID, in index order (scans only non-zero bytes)."""
        per_byte, mask, out = 8 // self._bits, (1 << self._bits) - 1, {}
        for match in _NONZERO.finditer(self._data):
            byte = match.start()
            for k in range(per_byte):
                value = (self._data[byte] >> (k * self._bits)) & mask
                if value and byte * per_byte + k < self._size:
                    out[byte * per_byte + k] = value
        return out

    def to_bytes(self) -> bytes:
        """The uncompressed byte array (§4.1 step 2-3)."""
        return bytes(self._data)

    def _locate(self, idx: int) -> tuple[int, int]:
        if isinstance(idx, bool) or not isinstance(idx, int) or not 0 <= idx < self._size:
            raise StatusIndexOutOfRange(
                f"index {idx!r} is outside the status list (entries 0 to {self._size - 1}); "
                "no statement about the token's status can be made",
                idx=idx, size=self._size,
            )
        per_byte = 8 // self._bits
        return idx // per_byte, (idx % per_byte) * self._bits

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StatusList):
            return NotImplemented
        return (self._bits, self._size, self._data, self.aggregation_uri) == (
            other._bits, other._size, other._data, other.aggregation_uri)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"StatusList(size={self._size}, bits={self._bits}, non_valid={len(self.non_valid())})"


class StatusListObject(TypedDict):
    """§4.2: the JSON form of a status list, the ``status_list`` claim of a status list token."""

    bits: int
    lst: str
    aggregation_uri: NotRequired[str]


def encode_status_list(status_list: StatusList) -> StatusListObject:
    """§4.2: ``bits`` and ``lst``, the byte array in ZLIB (RFC 1950) at the highest level (§4.1 step 4)."""
    obj: StatusListObject = {"bits": status_list.bits, "lst": b64url_encode(zlib.compress(status_list.to_bytes(), 9))}
    if status_list.aggregation_uri is not None:
        obj["aggregation_uri"] = status_list.aggregation_uri
    return obj


def decode_status_list(obj: object, *, max_bytes: int) -> StatusList:
    """Parse a §4.2 object, inflating at most ``max_bytes`` bytes.

    Raises:
        MalformedStatusList: not an object, ``bits`` not 1/2/4/8, ``lst`` not base64url of one
            complete ZLIB stream (raw DEFLATE, gzip, truncation and trailing bytes are refused).
        StatusListTooLarge: the list inflates to more than ``max_bytes`` bytes.
    """
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
        raise ValueError("max_bytes must be a positive number of bytes")
    if not isinstance(obj, Mapping):
        raise MalformedStatusList("the status list must be a JSON object with 'bits' and 'lst'")
    bits, lst, aggregation_uri = obj.get("bits"), obj.get("lst"), obj.get("aggregation_uri")
    if not _is_bits(bits):
        raise MalformedStatusList(f"the status list's 'bits' must be 1, 2, 4 or 8, not {bits!r}", bits=bits)
    if not isinstance(lst, str):
        raise MalformedStatusList("the status list has no 'lst' string")
    if aggregation_uri is not None and not isinstance(aggregation_uri, str):
        raise MalformedStatusList("the status list's 'aggregation_uri' must be a string")
    try:
        compressed = b64url_decode(lst)
    except (EncodingError, UnicodeEncodeError):
        raise MalformedStatusList("the status list's 'lst' is not base64url") from None
    inflater = zlib.decompressobj()  # wbits=15: the ZLIB format only, as §4.1 requires
    try:
        # Ask for one byte more than allowed: getting it proves the list too large, whatever zlib consumed.
        data = inflater.decompress(compressed, max_bytes + 1)
    except zlib.error as exc:
        raise MalformedStatusList(f"the status list's 'lst' is not ZLIB-compressed data: {exc}") from None
    if len(data) > max_bytes or inflater.unconsumed_tail:
        raise StatusListTooLarge(
            f"the status list inflates to more than the {max_bytes} bytes allowed", max_bytes=max_bytes)
    if not inflater.eof:
        raise MalformedStatusList("the status list's compressed data is truncated")
    if inflater.unused_data:
        raise MalformedStatusList("the status list's 'lst' has bytes after the end of the compressed data")
    if not data:
        raise MalformedStatusList("the status list is empty")
    return StatusList(data, bits, aggregation_uri=aggregation_uri)


# --- compressing a large list in segments ------------------------------------------------------
# Republishing a list of a million entries after one change should not recompress all of it: level
# 9 DEFLATE over 256 KB with a few percent of entries set takes 50-300 ms. Here the byte array is cut
# into segments, each compressed on its own and ended with a full flush (byte-aligned, no reference
# to earlier data), so the segments concatenate into one valid DEFLATE stream (RFC 1951 §3.2.3 lets
# blocks follow each other; only the last is marked final). A change recompresses only the segments
# whose bytes differ; the ZLIB trailer's Adler-32 (RFC 1950 §2.2) is computed over the whole array.

_ZLIB_HEADER: Final = b"\x78\xda"  # CM=8, 32K window, FLEVEL=3 (maximum compression), FCHECK ok
_FINAL_EMPTY_BLOCK: Final = b"\x03\x00"  # BFINAL=1, fixed Huffman, end of block
DEFAULT_SEGMENT_BYTES: Final = 8192


@dataclass(frozen=True, slots=True)
class SegmentedStatusList:
    """A status list's byte array and its independently compressed segments (see ``compress_segmented``)."""

    data: bytes
    segment_bytes: int
    segments: tuple[bytes, ...]

    def to_zlib(self) -> bytes:
        """The ZLIB stream (§4.1 step 4) the segments make: header, the segments, a final empty block, Adler-32."""
        return b"".join((_ZLIB_HEADER, *self.segments, _FINAL_EMPTY_BLOCK, zlib.adler32(self.data).to_bytes(4, "big")))


def compress_segmented(data: bytes, *, segment_bytes: int = DEFAULT_SEGMENT_BYTES,
                       previous: SegmentedStatusList | None = None) -> SegmentedStatusList:
    """Compress ``data`` (a list's byte array) at the highest level, segment by segment.

    Segments whose bytes are the same as in ``previous`` (same segment size) are reused, so the
    cost of republishing after a change is that of the changed segments only.
    """
    if segment_bytes <= 0:
        raise ValueError("segment_bytes must be positive")
    if previous is not None and previous.segment_bytes != segment_bytes:
        previous = None
    segments = []
    for number, start in enumerate(range(0, len(data), segment_bytes)):
        chunk = data[start:start + segment_bytes]
        if previous is not None and number < len(previous.segments) and \
                previous.data[start:start + segment_bytes] == chunk:
            segments.append(previous.segments[number])
            continue
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw DEFLATE: the ZLIB framing is added once
        segments.append(compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH))
    return SegmentedStatusList(data=bytes(data), segment_bytes=segment_bytes, segments=tuple(segments))


def segmented_status_list_object(segmented: SegmentedStatusList, bits: Bits) -> StatusListObject:
    """The §4.2 ``status_list`` object of a segmented list: what ``encode_status_list`` gives, compressed in pieces."""
    if not _is_bits(bits):
        raise MalformedStatusList(f"bits must be 1, 2, 4 or 8, not {bits!r}", bits=bits)
    return {"bits": bits, "lst": b64url_encode(segmented.to_zlib())}


@dataclass(frozen=True, slots=True)
class StatusReference:
    """§6.2: where a credential's status lives: entry ``idx`` of the status list token at ``uri``."""

    idx: int
    uri: str


def parse_status_claim(status_claim: object) -> StatusReference:
    """Read the ``status`` claim of a referenced token: ``{"status_list": {"idx": …, "uri": …}}`` (§6.2).

    Raises:
        InvalidStatusReference: no ``status_list`` object, ``idx`` not a non-negative integer, or
            ``uri`` not an absolute URI.
    """
    if not isinstance(status_claim, Mapping):
        raise InvalidStatusReference("the 'status' claim must be a JSON object")
    ref = status_claim.get("status_list")
    if not isinstance(ref, Mapping):
        raise InvalidStatusReference("the 'status' claim has no 'status_list' object")
    idx, uri = ref.get("idx"), ref.get("uri")
    if isinstance(idx, bool) or not isinstance(idx, int) or idx < 0:
        raise InvalidStatusReference(f"the status list index must be a non-negative integer, not {idx!r}")
    if not _is_absolute_uri(uri):
        raise InvalidStatusReference(f"the status list 'uri' must be an absolute URI, not {uri!r}")
    return StatusReference(idx=idx, uri=uri)


@dataclass(frozen=True, slots=True)
class StatusListToken:
    """A verified status list token (§5.1)."""

    sub: str
    iat: datetime
    exp: datetime | None
    ttl: int | None
    status_list: StatusList


class StatusListKeyResolver(Protocol):
    """Finds the status issuer's key (§11.3); like ``IssuerKeyResolver``, never from the token itself."""

    def __call__(self, header: Mapping[str, Any], payload: Mapping[str, Any]) -> PublicJwk: ...


def status_list_token_claims(status_list: StatusList, *, sub: str, iat: datetime,
                             exp: datetime | None = None, ttl: int | None = None) -> dict[str, Any]:
    """The §5.1 claims set. ``sub`` is the URI the token is served at, the ``uri`` credentials carry.

    Raises:
        StatusListTokenInvalid: ``sub`` not an absolute URI, ``exp`` not after ``iat``, ``ttl`` not positive.
    """
    return status_list_token_claims_from_object(encode_status_list(status_list), sub=sub, iat=iat, exp=exp, ttl=ttl)


def status_list_token_claims_from_object(status_list: StatusListObject, *, sub: str, iat: datetime,
                                         exp: datetime | None = None, ttl: int | None = None) -> dict[str, Any]:
    """``status_list_token_claims`` for a list already in its §4.2 form (e.g. ``segmented_status_list_object``).

    Raises:
        StatusListTokenInvalid: as ``status_list_token_claims``.
    """
    if not _is_absolute_uri(sub):
        raise StatusListTokenInvalid(f"the status list token's 'sub' must be an absolute URI, not {sub!r}")
    claims: dict[str, Any] = {"sub": sub, "iat": _numeric_date(iat)}
    if exp is not None:
        _require_aware(exp)
        if exp <= iat:
            raise StatusListTokenInvalid("the status list token would expire before it is issued")
        claims["exp"] = _numeric_date(exp)
    if ttl is not None:
        if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
            raise StatusListTokenInvalid(f"'ttl' must be a positive number of seconds, not {ttl!r}")
        claims["ttl"] = ttl
    claims["status_list"] = dict(status_list)
    return claims


def status_list_token_signing_input(claims: Mapping[str, Any], *, alg: Algorithm, kid: str | None = None) -> bytes:
    """What the status issuer signs; finish with ``jose.assemble(data, signature)``."""
    header = {"alg": alg, "typ": TYP_STATUSLIST_JWT, **({"kid": kid} if kid is not None else {})}
    return jose.signing_input(header, claims)


def issue_status_list_token(status_list: StatusList, *, key: PrivateJwk, sub: str, iat: datetime,
                            exp: datetime | None, ttl: int | None, kid: str | None = None) -> str:
    """A signed status list token (§5.1); ``kid`` defaults to the key's own."""
    claims = status_list_token_claims(status_list, sub=sub, iat=iat, exp=exp, ttl=ttl)
    data = status_list_token_signing_input(claims, alg=key.alg, kid=kid if kid is not None else key.kid)
    return jose.assemble(data, jose.sign(data, key))


def verify_status_list_token(token: str, *, key: PublicJwk | StatusListKeyResolver, expected_sub: str,
                             now: datetime, max_bytes: int,
                             clock_skew: timedelta = timedelta(seconds=60)) -> StatusListToken:
    """Validate a status list token as §8.3 steps 3-5 ask, for a credential whose status ``uri`` is ``expected_sub``.

    Raises:
        MalformedJws, UnsupportedAlgorithm, UnexpectedTyp, UnsupportedCriticalHeader: header checks
            (``typ`` must be ``statuslist+jwt``; ``none`` and MAC algorithms are never accepted).
        StatusListSignatureInvalid: the signature does not verify with the status issuer's key.
        StatusListTokenInvalid: a required claim is missing or malformed, ``iat``/``nbf`` in the future.
        StatusListSubjectMismatch: ``sub`` is not the URI the credential refers to (§8.3 step 4a).
        StatusListTokenExpired: ``exp`` has passed (§8.3 step 4c).
        MalformedStatusList, StatusListTooLarge: the ``status_list`` claim (§8.3 step 5).
    """
    _require_aware(now)
    # The compressed list can be up to about max_bytes (incompressible data) plus base64 growth.
    jws = jose.parse_compact(token, typ=TYP_STATUSLIST_JWT, max_bytes=jose.DEFAULT_MAX_JWS_BYTES + 2 * max_bytes)
    public = key if isinstance(key, PublicJwk) else key(jws.header, jws.payload)
    try:
        jose.verify_signature(jws, public)
    except InvalidSignature:
        raise StatusListSignatureInvalid(
            "the status list token's signature does not verify: it was altered or not signed by the status issuer"
        ) from None
    claims = jws.payload
    sub = claims.get("sub")
    if not isinstance(sub, str):
        raise StatusListTokenInvalid("the status list token has no 'sub' naming its URI")
    if sub != expected_sub:  # RFC 3986 §6.2.1 simple string comparison
        raise StatusListSubjectMismatch(
            f"the status list token is for {sub!r}, but the credential refers to {expected_sub!r}",
            sub=sub, expected=expected_sub)
    iat = _claim_date(claims, "iat")
    if iat is None:
        raise StatusListTokenInvalid("the status list token has no 'iat' (issued at)")
    if iat > now + clock_skew:
        raise StatusListTokenInvalid(f"the status list token claims to be issued in the future, at {iat.isoformat()}")
    nbf = _claim_date(claims, "nbf")
    if nbf is not None and nbf > now + clock_skew:
        raise StatusListTokenInvalid(f"the status list token is not valid before {nbf.isoformat()}")
    exp = _claim_date(claims, "exp")
    if exp is not None and now - clock_skew >= exp:
        raise StatusListTokenExpired(f"the status list token expired at {exp.isoformat()}", exp=exp.isoformat())
    ttl = claims.get("ttl")
    if isinstance(ttl, float) and ttl.is_integer():
        ttl = int(ttl)  # §5.1 only says "a positive number"; 43200.0 is the same number
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0):
        raise StatusListTokenInvalid(f"the status list token's 'ttl' must be a positive number of seconds, not {ttl!r}")
    if "status_list" not in claims:
        raise StatusListTokenInvalid("the status list token has no 'status_list' claim")
    status_list = decode_status_list(claims["status_list"], max_bytes=max_bytes)
    return StatusListToken(sub=sub, iat=iat, exp=exp, ttl=ttl, status_list=status_list)


def status_of(token_or_list: StatusListToken | StatusList, idx: int) -> int:
    """The status value at ``idx`` (§8.3 step 6); see ``STATUS_NAMES`` for what it means."""
    lst = token_or_list.status_list if isinstance(token_or_list, StatusListToken) else token_or_list
    return lst.get(idx)


# --- helpers -----------------------------------------------------------------------------------


def _is_bits(value: object) -> TypeGuard[Bits]:
    return type(value) is int and value in _BITS  # not True, not 1.0: both compare equal to 1


def _is_absolute_uri(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and _ABSOLUTE_URI.fullmatch(value) is not None


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        # A naive datetime would be read as local time: a programming error, not bad input.
        raise ValueError("times given to the status list functions must be timezone-aware")


def _numeric_date(moment: datetime) -> int:
    _require_aware(moment)
    return int(moment.timestamp())


def _claim_date(claims: Mapping[str, Any], name: str) -> datetime | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise StatusListTokenInvalid(f"the status list token's {name!r} must be a NumericDate (seconds since 1970)")
    try:
        return datetime.fromtimestamp(value, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise StatusListTokenInvalid(f"the status list token's {name!r} is not a usable time") from None
