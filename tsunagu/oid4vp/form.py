"""``application/x-www-form-urlencoded`` bodies and queries, read strictly (RFC 6749 §3.1, OpenID4VP 1.0 §8.2).

RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once", so a
repeated name is refused rather than silently resolved to its first or last value; names and
values MUST be UTF-8 (§8.2).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from .errors import InvalidRequest

__all__ = ["parse_form", "encode_form"]

#: A form with more parameters than this is not an OpenID4VP message.
MAX_PARAMETERS = 64


def parse_form(body: bytes | str, *, error: type[InvalidRequest] = InvalidRequest) -> dict[str, str]:
    """Raises: ``error`` (an InvalidRequest subclass): not UTF-8, malformed, too many or repeated parameters."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict",
                          max_num_fields=MAX_PARAMETERS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise error(f"the form is not valid UTF-8 application/x-www-form-urlencoded: {exc}") from None
    out: dict[str, str] = {}
    for name, value in pairs:
        if name in out:
            raise error(f"the parameter {name!r} appears more than once", parameter=name)
        out[name] = value
    return out


def encode_form(params: dict[str, str]) -> str:
    return urlencode(params)
