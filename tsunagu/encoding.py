"""base64url without padding (RFC 7515 §2) and strict JSON for everything that crosses the wire.

Both are deliberately strict: a token that only decodes because a parser was lenient
(stray characters, padding, duplicate member names, ``NaN``) is a token two implementations
may read differently, which is how signature-bypass bugs start.
"""

from __future__ import annotations

import binascii
import json
import json.encoder as json_encoder
from collections.abc import Callable
from typing import Any

from .errors import EncodingError

__all__ = ["b64url_encode", "b64url_decode", "json_dumps", "json_loads"]

# '-' <-> '+' and '_' <-> '/' both ways, '=' -> '!': after it, strict a2b accepts exactly base64url.
_SWAP = bytes.maketrans(b"-_+/=", b"+/-_!")
_PADDING: tuple[bytes | None, ...] = (b"", None, b"==", b"=")
_FROM_STD = bytes.maketrans(b"+/", b"-_")
_B64URL_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def b64url_encode(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).translate(_FROM_STD).rstrip(b"=").decode("ascii")


def b64url_decode(text: str | bytes) -> bytes:
    raw = text.encode("ascii", "strict") if isinstance(text, str) else text
    padding = _PADDING[len(raw) & 3]
    try:
        if padding is None:
            raise binascii.Error("impossible length")
        # One pass: _SWAP turns the url-safe alphabet into the standard one and everything a
        # strict base64url reader must refuse ('+', '/', '=') into bytes strict a2b refuses.
        return binascii.a2b_base64(raw.translate(_SWAP) + padding, strict_mode=True)
    except binascii.Error as exc:
        if raw.translate(None, _B64URL_ALPHABET):  # the old, explicit diagnosis, on failure only
            raise EncodingError(
                "not base64url: only A-Z, a-z, 0-9, '-' and '_' are allowed, without padding"
            ) from None
        raise EncodingError(f"not base64url: {exc}") from None


def _reject_constant(name: str) -> Any:
    raise EncodingError(f"not JSON: {name} is not a JSON value")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise EncodingError(f"not JSON we accept: member name {key!r} appears twice")
            seen.add(key)
    return obj


_JSON_WHITESPACE = " \t\n\r"
_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
# The scanner raw_decode wraps; calling it directly saves a Python frame per token part.
_SCAN_ONCE: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


def json_loads(data: str | bytes) -> Any:
    """Parse UTF-8 JSON, rejecting duplicate member names, NaN/Infinity and trailing data."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        # raw_decode skips decode()'s whitespace regex passes; whitespace around the value is
        # allowed here explicitly, so the accepted language is exactly decode()'s.
        text = text.lstrip(_JSON_WHITESPACE)
        value, end = _SCAN_ONCE(text, 0)
    except StopIteration as exc:  # what raw_decode turns into this JSONDecodeError
        raise EncodingError(f"not JSON: {json.JSONDecodeError('Expecting value', text, exc.value)}") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise EncodingError(f"not JSON: {exc}") from None
    if end != len(text) and text[end:].strip(_JSON_WHITESPACE):
        raise EncodingError("not JSON: extra data after the value")
    return value


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
# JSONEncoder.encode builds a new C encoder on every call, a third of the cost of encoding one
# disclosure; build it once. Same settings as _ENCODER; no circular-reference markers, because
# what we encode are claims and headers, never self-referencing objects.
_make_c_encoder = getattr(json_encoder, "c_make_encoder", None)  # absent without the C accelerator
_C_ENCODER = (
    _make_c_encoder(None, _ENCODER.default, json_encoder.encode_basestring, None, ":", ",", False, False, False)
    if _make_c_encoder is not None
    else None
)


def json_dumps(value: Any) -> str:
    """Compact JSON with non-ASCII kept as UTF-8 (Japanese names stay readable in disclosures).

    Raises:
        ValueError: NaN or infinity (JSON has neither).
        TypeError: a value JSON cannot represent.
    """
    if _C_ENCODER is None or isinstance(value, str):
        return _ENCODER.encode(value)
    return "".join(_C_ENCODER(value, 0))
